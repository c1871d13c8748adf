"""Everything the renderers show of a results folder, or of a set of folders, computed once.

``analyse(path)`` reads a run folder and computes, per data set, its summary rows, each
contest's standings, every speed ratio, the race to the target and each figure's numbers;
for the folder, its targets, its claims (judged from it alone), its cost growth and its
problems. ``analyse_root(root)`` judges the post's claims across every results folder under
``root``. REPORT.md, the README's blocks, ``summary.json``, the PNGs and the site draw these
objects; none of them computes a figure of its own.

A folder is analysed with the class facts its records stored (``suite.models.facts``), not
today's registry's: ``facts`` holds them for the renderers to read the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from suite import metrics, protocol, safe_io
from suite import results as results_io
from suite.analysis import claims, figures, provenance, speed, standings, targets
from suite.analysis.growth import Growth, growths
from suite.analysis.standings import Standings
from suite.analysis.summary import summarize
from suite.errors import InputError
from suite.models.base import Contest
from suite.models.facts import Facts, recorded

CONTESTS = (Contest.RATING, Contest.RANKING)


@dataclass(frozen=True)
class DatasetAnalysis:
    """One data set of a folder: everything its sections show."""

    dataset: str
    rows: pd.DataFrame  # its summary rows (``summarize``)
    runs: pd.DataFrame  # its records, every status
    standings: dict[Contest, Standings]
    twins: list[speed.Twins]
    on_cuda: list[speed.OnCuda]
    race: speed.TargetRace | None
    fastest: dict[Contest, pd.Series | None]  # the highest throughput per contest
    reference: dict[Contest, str | None]  # whose time per rating the cost tables divide by
    against_reference: dict[Contest, dict[tuple[str, str], speed.AgainstReference]]
    budgets: dict[tuple[str, str], speed.Budget]
    pareto: dict[Contest, figures.Pareto | None]
    convergence: list[figures.Convergence]  # one per primary metric with curves
    epoch_times: figures.EpochTimes | None
    ranking_undefined: bool  # no test rating reaches the relevance threshold
    best_rating_model_rank: pd.Series | None  # the best NDCG@10 of the rating-only contenders
    cuda_skipped: str | None  # why no CUDA run succeeded, where some were tried

    @property
    def ok(self) -> bool:
        """Whether any run of it succeeded."""
        return not self.rows.empty


@dataclass(frozen=True)
class Problems:
    """A folder's runs that need a reader's attention."""

    not_ok: pd.DataFrame  # label, backend, status, reason, runs: not ok, or ok with a caveat
    disturbed: pd.DataFrame  # the records of runs whose epochs swung beyond DISTURBED_SWING


@dataclass(frozen=True)
class FolderAnalysis:
    """A results folder, analysed."""

    path: Path
    measured: provenance.Folder  # its records, curves, env, commits and status
    summary: pd.DataFrame
    datasets: list[DatasetAnalysis]
    targets: list[targets.Judged]
    claims: list[claims.Claim]  # judged from this folder alone (as if current)
    growth: list[Growth]
    problems: Problems
    cost_only: bool  # a cost grid (fixed small budgets): accuracy is not judged
    saved_grid: dict[str, Any]
    facts: dict[str, Facts] = field(default_factory=dict)

    @property
    def results(self) -> pd.DataFrame:
        return self.measured.results

    @property
    def curves(self) -> pd.DataFrame:
        return self.measured.curves

    @property
    def env(self) -> dict[str, Any]:
        return self.measured.env

    @property
    def gpu_name(self) -> str | None:
        return (self.env.get("gpu") or {}).get("name")

    def folds_of(self, dataset: str) -> int | None:
        """The k of ``dataset``'s k-fold split as the folder's saved grid has it, or None."""
        specs = self.saved_grid.get("datasets", [])
        return next((spec.get("folds") for spec in specs if spec.get("name") == dataset), None)


def analyse(
    path: Path, reference_model: str | None = None, name: str | None = None
) -> FolderAnalysis:
    """Read the run folder at ``path`` and compute everything its renderers show.

    ``reference_model`` is the contender whose time per rating the cost tables divide by in
    the contest(s) it enters (default: each contest's registered ``speedup_baseline``).
    ``InputError`` where runs of one data set name were measured on different data (paired
    tests would pair them), or ``reference_model`` is not in the folder.
    """
    path = Path(path)
    measured = provenance.load(path, name)
    results = measured.results
    results_io.refuse_mixed_data(results, str(path))
    if reference_model is not None and reference_model not in set(results["label"]):
        raise InputError(
            f"--reference-model {reference_model}: no such contender in {path} "
            f"(it has {', '.join(sorted(set(results['label'])))})"
        )
    facts = results_io.recorded_facts(results)
    saved = _saved_grid(path)
    with recorded(facts):
        summary = summarize(results)
        datasets = [
            dataset_analysis(dataset, summary, results, measured.curves, reference_model)
            for dataset in dict.fromkeys(results["dataset"])
        ]
        judged_targets = targets.judge(results, measured.curves)
        alone = claims.judge(
            [
                dataclasses.replace(folder, status="current")
                for folder in [measured, *partners(path)]
            ]
        )
        found_growth = growths(summary)
    return FolderAnalysis(
        path,
        measured,
        summary,
        datasets,
        judged_targets,
        alone,
        found_growth,
        problems(results),
        bool(saved.get("cost_only", False)),
        saved,
        facts,
    )


def dataset_analysis(
    dataset: str,
    summary: pd.DataFrame,
    results: pd.DataFrame,
    curves: pd.DataFrame,
    reference_model: str | None = None,
) -> DatasetAnalysis:
    """One data set of a folder's ``results`` (with the folder's ``summary`` and ``curves``)."""
    rows = summary[summary["dataset"] == dataset] if not summary.empty else summary
    runs = results[results["dataset"] == dataset]
    runs = runs.assign(label=results_io.labels(runs))
    if rows.empty:
        return DatasetAnalysis(
            dataset, rows, runs, {}, [], [], None, {}, {}, {}, {}, {}, [], None, False, None,
            _cuda_skipped(runs),
        )  # fmt: skip
    table = {contest: standings.standings(rows, runs, contest) for contest in CONTESTS}
    reference = {contest: speed.speed_reference(contest, reference_model) for contest in CONTESTS}
    return DatasetAnalysis(
        dataset,
        rows,
        runs,
        table,
        speed.twins(rows, runs),
        speed.on_cuda(rows, runs),
        speed.target_race(rows),
        {contest: speed.highest_throughput(rows, contest) for contest in CONTESTS},
        reference,
        {contest: speed.against_reference(rows, runs, reference[contest]) for contest in CONTESTS},
        {(row["label"], row["backend"]): speed.budget(row) for _, row in rows.iterrows()},
        {contest: figures.pareto(dataset, rows, runs, contest) for contest in CONTESTS},
        [
            found
            for metric in metrics.primaries()
            if (found := figures.convergence(dataset, runs, curves, metric)) is not None
        ],
        figures.epoch_times(dataset, rows),
        _ranking_undefined(rows),
        standings.best_rating_model_rank(rows),
        _cuda_skipped(runs) if "cuda" not in set(rows["backend"]) else None,
    )


def _ranking_undefined(rows: pd.DataFrame) -> bool:
    column = f"{metrics.primary(Contest.RANKING).column}_mean"
    return not rows.empty and not rows[column].notna().any()


def _cuda_skipped(runs: pd.DataFrame) -> str | None:
    """Why CUDA measured nothing here, where CUDA runs were tried; None where none was."""
    tried = runs[runs["backend"] == "cuda"]
    if tried.empty:
        return None
    reasons = tried["reason"].dropna().astype(str)
    return reasons[reasons != ""].iloc[0] if (reasons != "").any() else "no CUDA run succeeded"


def _saved_grid(folder: Path) -> dict[str, Any]:
    """The grid ``mfbench run`` saved in ``folder`` (``grid.json``), or {} where there is none."""
    saved = folder / results_io.GRID_FILE
    return safe_io.read_json(saved, results_io.GRID_FILE) if saved.is_file() else {}


def problems(results: pd.DataFrame) -> Problems:
    """The runs that were not ok or carry a caveat (grouped by reason, counted), and the runs
    whose epochs were disturbed (``suite.measure.DISTURBED_SWING``)."""
    bad = results[(results["status"] != results_io.OK) | (results["reason"] != "")]
    grouped = bad.groupby(["label", "backend", "status", "reason"], sort=False).size()
    not_ok = grouped.rename("runs").reset_index()
    flags = results["disturbed"] if "disturbed" in results else pd.Series(0, index=results.index)
    return Problems(not_ok, results[flags.fillna(0) > 0])


# -- across folders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootAnalysis:
    """The post's claims judged across every results folder under a root, and the folders."""

    root: Path
    folders: list[provenance.Folder]
    claims: list[claims.Claim]
    points: list[figures.ClaimPoint]  # the claims figure's
    facts: dict[str, Facts]
    protocol_digest: str = ""  # the protocol the claims were judged by (``suite/claims.toml``)
    hardware: dict[str, str] = field(default_factory=dict)  # folder -> its machine

    def commit_of(self, claim: claims.Claim) -> str | None:
        """The commit the claim's first folder was measured on."""
        for folder in self.folders:
            if claim.folders and folder.name == claim.folders[0] and folder.commits:
                return folder.commits[0]
        return None


def analyse_root(root: Path) -> RootAnalysis:
    """Every results folder under ``root`` (``provenance.result_folders``), its status, and
    the claims judged across the current ones."""
    folders = [provenance.load(path) for path in provenance.result_folders(Path(root))]
    return analyse_folders(Path(root), folders)


def analyse_folders(root: Path, folders: list[provenance.Folder]) -> RootAnalysis:
    """The claims judged across ``folders`` (the current ones count)."""
    facts: dict[str, Facts] = {}
    for measured in folders:
        facts |= results_io.recorded_facts(measured.results)
    with recorded(facts):
        judged = claims.judge(folders)
    sizes = {
        (folder.name, str(dataset)): float(runs["n_train"].median())
        for folder in folders
        if "n_train" in folder.results
        for dataset, runs in folder.results.groupby("dataset")
    }
    return RootAnalysis(
        root,
        folders,
        judged,
        figures.claim_points(judged, sizes),
        facts,
        protocol.digest(),
        {folder.name: hardware(folder.env) for folder in folders},
    )


def partners(path: Path) -> list[provenance.Folder]:
    """The folders a comparison of the protocol pairs with ``path``'s (the same runs on one
    thread, for a thread gain), where they lie beside it."""
    names = {
        other
        for _, compared in protocol.load().deciding()
        if compared.threads_folder
        for mine, other in (
            (compared.folder, compared.threads_folder),
            (compared.threads_folder, compared.folder),
        )
        if mine == path.name
    }
    return [
        provenance.load(path.parent / name)
        for name in sorted(names)
        if (path.parent / name).is_dir()
    ]


def hardware(env: dict[str, Any]) -> str:
    """A folder's machine in a few words: ``"AMD EPYC, 2 cores"``, ``"NVIDIA H100 + 16 cores"``."""
    cores = env.get("usable_cores") or env.get("cores") or "?"
    gpu = (env.get("gpu") or {}).get("name")
    cpu = str(env.get("cpu") or "CPU").split(" (")[0]
    return f"{gpu} + {cores} CPU cores" if gpu else f"{cpu}, {cores} cores"
