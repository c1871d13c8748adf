"""Results → summary DataFrames → ``REPORT.md`` and PNG plots, all computed from the data.

The report opens with a verdict per data set (``suite.verdicts``), then gives each data set
one section per contest (rating prediction, top-N ranking): standings with paired tests
against the best and the floor, budgets and speed, and the plots.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from suite import (
    claims,
    environment,
    metrics,
    models,
    plots,
    provenance,
    safe_io,
    settings_source,
    stats,
    targets,
    verdicts,
)
from suite import results as results_io
from suite.config import GRID_FILE
from suite.errors import InputError
from suite.measure import DISTURBED_SWING
from suite.models.base import Contest
from suite.models.facts import recorded
from suite.verdicts import CONTEST_TITLES, Standings, si

REFERENCE_BACKEND = "cpu"
#: The metric each contest is judged by (``suite.metrics``).
RATING, RANKING = metrics.primary(Contest.RATING), metrics.primary(Contest.RANKING)
CONTESTS = (Contest.RATING, Contest.RANKING)


@dataclass
class Written:
    """What ``write_report`` produced."""

    path: Path
    main_tables: str  # the per-data-set contest tables, also printed by ``mfbench run``


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, label, backend) over its ok runs: means, spreads, medians.

    Every metric's column ``c`` becomes ``c_mean`` and ``c_std`` (over seeds and folds);
    ``factors`` and ``epochs_requested`` are read from the runs' hyperparameters.
    """
    ok = results[results["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(
        label=results_io.labels(ok),
        factors=ok["params"].map(lambda p: _as_float(results_io.param(p, "factors"))),
        epochs_requested=ok["params"].map(lambda p: _as_float(results_io.param(p, "epochs"))),
        # Runs with several timed fits (or pytest-benchmark rounds) carry their own min and max.
        fit_low=ok["fit_s_min"].fillna(ok["fit_s"]) if "fit_s_min" in ok else ok["fit_s"],
        fit_high=ok["fit_s_max"].fillna(ok["fit_s"]) if "fit_s_max" in ok else ok["fit_s"],
    )
    grouped = ok.groupby(["dataset", "label", "backend"], sort=False)
    accuracy = {
        f"{column}_{how}": (column, how) for column in metrics.columns() for how in ("mean", "std")
    }
    summary = grouped.agg(
        model=("model", "first"),
        runs=("run_id", "count"),
        **accuracy,
        fit_median=("fit_s", "median"),
        fit_min=("fit_low", "min"),
        fit_max=("fit_high", "max"),
        epoch_s_median=("epoch_s_median", "median"),
        ratings_per_s=("ratings_per_s", "median"),
        peak_rss_mb=("peak_rss_mb", "median"),
        peak_jvm_mb=("peak_jvm_mb", "median"),
        peak_gpu_mb=("peak_gpu_mb", "median"),
        time_to_rating_target_s=("time_to_rating_target_s", "median"),
        reached_target=("time_to_rating_target_s", lambda s: int(s.notna().sum())),
        rating_target=("rating_target", "first"),
        rating_noise_floor=("rating_noise_floor", "first"),
        epochs=("epochs", "median"),
        epochs_requested=("epochs_requested", "median"),
        best_epoch=("best_epoch", "median"),
        factors=("factors", "first"),
        ratings_processed=("ratings_processed", "median"),
        n_threads=("n_threads", "first"),
        n_train=("n_train", "median"),
        fit_rss_growth_mb=("fit_rss_growth_mb", "median"),
    )
    return summary.reset_index()


def _as_float(value: Any) -> float:
    """A setting read from a record as a float (NaN where it is absent or no number)."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


def write_report(folder: Path, reference_model: str | None = None) -> Written:
    """Write ``folder/REPORT.md`` and its PNG plots from the folder's results.

    ``reference_model`` is the contender throughput ratios divide by in the contest(s) it
    enters (default: each contest's registered ``speedup_baseline``).
    """
    results, curves = load(folder)
    with recorded(results_io.recorded_facts(results)):  # the facts as the runs had them
        return _write_report(folder, results, curves, reference_model)


def load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A folder's results and curves, refused (one line) where runs of one data set name were
    measured on different data: the paired tests would pair them."""
    results, curves = results_io.load(folder)
    results_io.refuse_mixed_data(results, str(folder))
    return results, curves


def _write_report(
    folder: Path, results: pd.DataFrame, curves: pd.DataFrame, reference_model: str | None
) -> Written:
    if reference_model is not None and reference_model not in set(results["label"]):
        raise InputError(
            f"--reference-model {reference_model}: no such contender in {folder} "
            f"(it has {', '.join(sorted(set(results['label'])))})"
        )
    env = _environment(folder)
    summary = summarize(results)
    datasets = list(dict.fromkeys(results["dataset"]))
    judged = not cost_only(folder)
    verdict, mains, sections = [], [], []
    for dataset in datasets:
        rows = _rows(summary, dataset)
        runs = results[results["dataset"] == dataset]
        said = verdicts.verdict(rows, runs, _gpu_name(env), not judged) if not rows.empty else []
        verdict.append(f"**{dataset}.** " + (" ".join(said) or "No successful runs."))
        mains.append(f"### {dataset}\n\n{contest_tables(rows, runs, judged)}")
        sections.append(
            _dataset_section(dataset, rows, runs, curves, folder, reference_model, judged)
        )
    parts = [_title(results), _claims_section(folder), "## Verdict", "\n\n".join(verdict)]
    parts.append(_targets_section(results, curves) if judged else "")
    parts.append(_header(env, results))
    parts += [*sections, scaling_section(summary, folder), _problems_section(results)]
    parts.append(_columns_note())
    path = folder / "REPORT.md"
    safe_io.write_text(path, "\n\n".join(s for s in parts if s) + "\n")
    return Written(path, "\n\n".join(mains))


def _targets_section(results: pd.DataFrame, curves: pd.DataFrame) -> str:
    """The targets of PyTorch at its best on CPU (``suite.targets``), where any is measured."""
    judged = targets.judge(results, curves)
    if all(j.state == "not measured" for j in judged):
        return ""
    note = (
        "Each target's figure with its 95% interval over paired runs: **met** when the whole "
        "interval lies on the target's side, **missed** when it lies wholly on the other, "
        "**not resolved** when it straddles the threshold (`suite/targets.py`)."
    )
    return f"## Targets: PyTorch at its best on CPU\n\n{note}\n\n{targets.markdown(judged)}"


def cost_only(folder: Path) -> bool:
    """Whether ``folder``'s runs come from a cost grid (its saved ``grid.json`` says so)."""
    return bool(_saved_grid(folder).get("cost_only", False))


def _saved_grid(folder: Path) -> dict[str, Any]:
    """The grid ``mfbench run`` saved in ``folder`` (``grid.json``), or {} where there is none."""
    saved = folder / GRID_FILE
    return safe_io.read_json(saved, GRID_FILE) if saved.is_file() else {}


def _saved_folds(folder: Path, dataset: str) -> int | None:
    """The k of ``dataset``'s k-fold split as the folder's saved grid has it, or None."""
    specs = _saved_grid(folder).get("datasets", [])
    return next((spec.get("folds") for spec in specs if spec.get("name") == dataset), None)


def _claims_section(folder: Path) -> str:
    """The post's claims as this folder alone can judge them (``suite.claims``)."""
    measured = provenance.load(folder)
    with recorded(results_io.recorded_facts(measured.results)):
        judged = claims.judge([dataclasses.replace(measured, status="current")])
    note = (
        f"Judged from this folder alone (measured on {', '.join(c[:10] for c in measured.commits)}"
        f", {measured.status_text} against the code checked out now); the README judges them "
        "across every current folder."
    )
    return f"## Claims\n\n{note}\n\n{claims.markdown(judged, link_root='../')}"


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"
CLAIMS_START, CLAIMS_END = "<!-- claims:start -->", "<!-- claims:end -->"
SUMMARY_FILE = "summary.json"
CLAIMS_PLOT = "claims.png"


def _claim_points(
    judged: list[claims.Claim], folders: list[provenance.Folder]
) -> list[plots.claims.Point]:
    """The "custom solutions are faster" ratios, each at its data set's training size; each
    names its folder where they come from several (folders may be measured on other
    machines)."""
    sizes = {
        (folder.name, dataset): float(runs["n_train"].median())
        for folder in folders
        for dataset, runs in folder.results.groupby("dataset")
    }
    figures = [
        figure for claim in judged if claim.id == "custom-faster" for figure in claim.figures
    ]
    labels = [f"{f.name.partition(': ')[2]}, {f.dataset}" for f in figures]
    several = len({figure.folder for figure in figures}) > 1
    points = [
        plots.claims.Point(
            sizes.get((figure.folder, figure.dataset), float("nan")),
            figure.value,
            figure.low,
            figure.high,
            figure.name.partition(": ")[0],
            f"{label} ({figure.folder})" if several else label,
        )
        for figure, label in zip(figures, labels, strict=True)
    ]
    return [point for point in points if np.isfinite(point.n_train)]


def update_readme(readme: Path, folder: Path) -> None:
    """Fill ``readme``'s claims block (the post's claims judged across every current results
    folder under ``folder``, and the folders' provenance) and its headline block (``folder``'s
    verdict and contest tables); write ``folder/summary.json``, the same claims as data."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--readme {readme}: cannot read it as text ({exc})") from exc
    for start, end in ((README_START, README_END), (CLAIMS_START, CLAIMS_END)):
        if start not in text or end not in text:
            raise InputError(f"{readme}: no {start} ... {end} block to fill")
    folders = [provenance.load(path) for path in provenance.result_folders(folder)]
    facts = {}
    for measured in folders:
        facts |= results_io.recorded_facts(measured.results)
    with recorded(facts):
        judged = claims.judge(folders)
    safe_io.write_json(folder / SUMMARY_FILE, claims.summary(judged, folders))
    drawn = plots.claims.draw(
        _claim_points(judged, folders),
        "Custom solutions still much faster? Time to the target, PyTorch / fastest other",
        folder / CLAIMS_PLOT,
    )
    block = _claims_block(judged, folders)
    if drawn:
        block += (
            f"\n\n![PyTorch against the fastest other contender]({folder.as_posix()}/{CLAIMS_PLOT})"
        )
    text = _fill(text, CLAIMS_START, CLAIMS_END, block)
    results, _ = load(folder)
    with recorded(results_io.recorded_facts(results)):
        text = _fill(text, README_START, README_END, _headline(folder, results))
    safe_io.write_text(readme, text)


def _fill(text: str, start: str, end: str, body: str) -> str:
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def _claims_block(judged: list[claims.Claim], folders: list[provenance.Folder]) -> str:
    return (
        "## The answer: the 2017 post's claims, judged today\n\n"
        "Each verdict is computed from the current result folders below (measured on the code "
        "checked out now), speed at equal accuracy: each run's time to its data set's target "
        "(RMSE, or NDCG@10), the best PyTorch contender against the fastest other one, as a "
        "ratio of times over the same folds × seeds with its 95% interval; a difference within "
        f"±{(claims.PAR - 1) * 100:.0f}% is on par, fits under {claims.OVERHEAD_S * 1000:.0f} ms "
        "judge nothing. Generated by `mfbench report results --readme README.md` "
        f"(also as [results/{SUMMARY_FILE}](results/{SUMMARY_FILE})).\n\n"
        f"{claims.markdown(judged)}\n\n"
        "Where the numbers come from:\n\n"
        f"{provenance.table(folders)}"
    )


def _headline(folder: Path, results: pd.DataFrame) -> str:
    env = _environment(folder)
    summary = summarize(results)
    threads = ", ".join(map(str, sorted(results["n_threads"].dropna().astype(int).unique())))
    blocks = [
        f"Measured on {env.get('cpu', '?')} ({env.get('cores', '?')} cores, "
        f"{_gpu_name(env) or 'no GPU'}), {threads} thread(s) per run, torch "
        f"{env.get('versions', {}).get('torch', '?')}, commit "
        f"`{(env.get('git_commit') or '?')[:10]}`; full report: "
        f"[{folder.as_posix()}/REPORT.md]({folder.as_posix()}/REPORT.md)."
    ]
    blocks += [f"> {caveat}" for caveat in environment.caveats(env)]
    for dataset in dict.fromkeys(results["dataset"]):
        rows = _rows(summary, dataset)
        runs = results[results["dataset"] == dataset]
        said = " ".join(verdicts.verdict(rows, runs, _gpu_name(env))) if not rows.empty else ""
        blocks.append(f"#### {dataset}\n\n{said}\n\n{contest_tables(rows, runs)}")
    return "\n\n".join(blocks)


def _rows(summary: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return summary[summary["dataset"] == dataset] if not summary.empty else summary


def _environment(folder: Path) -> dict[str, Any]:
    env_file = folder / "env.json"
    return safe_io.read_json(env_file, "env.json") if env_file.exists() else {}


def _gpu_name(env: dict[str, Any]) -> str | None:
    return (env.get("gpu") or {}).get("name")


# -- tables -------------------------------------------------------------------------------------


def contest_tables(rows: pd.DataFrame, runs: pd.DataFrame, judged: bool = True) -> str:
    """Both contests' standings tables of one data set (what ``mfbench run`` prints)."""
    if rows.empty:
        return "_No successful runs._"
    tables = []
    for contest in CONTESTS:
        table = verdicts.standings(rows, runs, contest)
        if table.entrants:
            shown = standings_table(table, rows, judged)
            tables.append(f"{CONTEST_TITLES[contest]}:\n\n{shown}")
    return "\n\n".join(tables) or "_No contest result._"


def standings_table(table: Standings, rows: pd.DataFrame, judged: bool = True) -> str:
    """One contest: its metrics (primary ± std), the difference from the best and the floor.

    A rating contest also shows each model's ranking metric, as a finding. Not ``judged``
    (a cost grid): the best and floor columns say so instead.
    """
    shown = [m for m in metrics.METRICS if m.contest == table.contest]
    if table.contest == Contest.RATING:
        shown.append(RANKING)
    by_key = rows.set_index(["label", "backend"])
    cells = []
    for entrant in table.entrants:
        row = by_key.loc[(entrant.label, entrant.backend)]
        line = [entrant.label, entrant.backend, entrant.runs]
        for metric in shown:
            mean, std = row[f"{metric.column}_mean"], row[f"{metric.column}_std"]
            line.append(
                "n/a" if math.isnan(mean) else _pm(mean, std) if metric.primary else f"{mean:.4f}"
            )
        if judged:
            line += [_versus_best(entrant, table), _versus_floor(entrant, table)]
        else:
            line += ["not judged (cost grid)", "not judged"]
        cells.append(line)
    headers = [
        "model",
        "backend",
        "runs",
        *(m.title if m.contest == table.contest else f"{m.title} (finding)" for m in shown),
        f"vs best, {1 - stats.ALPHA:.0%} CI",
        "vs floor",
    ]
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)


def _versus_best(entrant: verdicts.Entrant, table: Standings) -> str:
    if entrant.floor:
        return "floor"
    if entrant is table.best:
        return "best" if table.tested else "best (untested)"
    if entrant.vs_best is None:
        return "untested"
    return f"{entrant.vs_best.interval()} {'tied' if entrant.tied_with_best else 'worse'}"


def _versus_floor(entrant: verdicts.Entrant, table: Standings) -> str:
    if entrant.floor:
        return "strongest floor" if entrant is table.floor else "floor"
    if table.floor is None:
        return "no floor ran"
    if entrant.beats_floor is None:
        return "untested"
    if entrant.beats_floor:
        return "beats it"
    if entrant in table.capped:
        return "capped budget: not judged"
    return "not shown (noisy)" if entrant in table.unproven else "**learned nothing**"


def _fit_memory(row: pd.Series) -> str:
    """The fit's own memory: how far resident memory rose during the fit (its JVM's rise
    included, for Spark), then the process's peak, which imported libraries dominate (the
    torch import alone is several hundred MB)."""
    growth, peak = row.get("fit_rss_growth_mb", math.nan), row["peak_rss_mb"]
    if not np.isfinite(peak):
        return "n/a"
    jvm = row.get("peak_jvm_mb", math.nan)
    total = f"{peak:.0f}" + (f" + {jvm:.0f} JVM" if np.isfinite(jvm) else "")
    return (f"{growth:.0f}" if np.isfinite(growth) else "n/a") + f" ({total})"


def cost_table(table: Standings, rows: pd.DataFrame, reference: str | None) -> str:
    """One contest's budgets and speed: k, epochs, ratings visited, fit time, throughput.

    Throughput is divided by ``reference``'s (its fastest setting on the CPU at the same k)
    only for trained contenders at a k where the reference ran: comparable work. Without a
    reference run on this data set, there is no ratio column.
    """
    by_key = rows.set_index(["label", "backend"])
    named = (rows["model"] == reference) | (rows["label"] == reference)
    cpu = rows[named & (rows["backend"] == REFERENCE_BACKEND)]
    rated = table.contest == Contest.RATING
    target = rows["rating_target"].dropna()
    cells = []
    for entrant in table.entrants:
        row = by_key.loc[(entrant.label, entrant.backend)]
        line = [
            entrant.label,
            entrant.backend,
            f"{row['factors']:g}" if np.isfinite(row["factors"]) else "–",
            f"{row['epochs']:g}" if np.isfinite(row["epochs"]) else "–",
            si(row["ratings_processed"]),
            verdicts.budget(row),
            f"{row['fit_median']:.2f} [{row['fit_min']:.2f}–{row['fit_max']:.2f}]",
            si(row["ratings_per_s"]) if models.trains(entrant.model) else "n/a (counts)",
        ]
        if not cpu.empty:
            line.append(_throughput_ratio(entrant, row, cpu))
        if rated and not target.empty:
            line.append(verdicts.time_to_target_text({**row, "model": entrant.model}))
        line.append(_fit_memory(row))
        cells.append(line)
    headers = [
        "model",
        "backend",
        "factors",
        "epochs",
        "ratings visited",
        "budget",
        "fit s, median [min–max]",
        "ratings/s",
        *([f"throughput vs {reference} (same factors)"] if not cpu.empty else []),
    ]
    if rated and not target.empty:
        headers.append(f"s to {RATING.title} ≤ {target.iloc[0]:g}")
    headers.append("fit memory rise MB (process peak)")
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)


def _throughput_ratio(entrant: verdicts.Entrant, row: pd.Series, reference: pd.DataFrame) -> str:
    if entrant.floor:
        return "n/a (floor)"
    if not models.trains(entrant.model):
        return "n/a (does not train)"
    same_k = reference[reference["factors"] == row["factors"]]
    if same_k.empty:
        return "n/a (k differs)"
    return verdicts.ratio(row["ratings_per_s"] / same_k["ratings_per_s"].max())


def speed_reference(contest: Contest, override: str | None) -> str | None:
    """The contender throughput ratios of ``contest`` divide by."""
    if override is not None and models.enters(override, contest):
        return override
    return models.speedup_baseline(contest)


def cuda_table(rows: pd.DataFrame) -> str:
    """CPU vs CUDA per model, where both ran."""
    pivot = rows.pivot_table(
        index="label", columns="backend", values=["fit_median", "ratings_per_s"], sort=False
    )
    if "cuda" not in rows["backend"].to_numpy() or "cpu" not in rows["backend"].to_numpy():
        return ""
    table = []
    for model in pivot.index:
        cpu_fit, cuda_fit = (
            pivot.loc[model, ("fit_median", "cpu")],
            pivot.loc[model, ("fit_median", "cuda")],
        )
        if math.isnan(cpu_fit) or math.isnan(cuda_fit):
            continue
        table.append(
            [
                model,
                f"{cpu_fit:.2f}",
                f"{cuda_fit:.2f}",
                f"{cpu_fit / cuda_fit:.1f}×",
                si(pivot.loc[model, ("ratings_per_s", "cpu")]),
                si(pivot.loc[model, ("ratings_per_s", "cuda")]),
            ]
        )
    if not table:  # CUDA rows and CPU rows, but of different contenders
        return ""
    headers = [
        "model",
        "CPU fit s",
        "CUDA fit s",
        "CUDA speed-up",
        "CPU ratings/s",
        "CUDA ratings/s",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def noise_floor_table(rows: pd.DataFrame) -> str:
    """For planted data: each rating model's distance to the best achievable RMSE."""
    mean = f"{RATING.column}_mean"
    rated = rows[rows[mean].notna() & rows["rating_noise_floor"].notna()]
    if rated.empty:
        return ""
    table = [
        [
            r["label"],
            r["backend"],
            f"{r[mean]:.4f}",
            f"{r['rating_noise_floor']:.4f}",
            f"{r[mean] - r['rating_noise_floor']:+.4f}",
        ]
        for r in rated.to_dict("records")
    ]
    return tabulate(
        table,
        headers=["model", "backend", RATING.title, "noise floor", "distance"],
        tablefmt="github",
        disable_numparse=True,
    )


# -- cost growth --------------------------------------------------------------------------------


#: The least ratio of largest to smallest training set over which a slope is fitted.
MIN_SPAN = 20


def scaling_section(summary: pd.DataFrame, folder: Path) -> str:
    """Cost growth: time per epoch and training memory against ratings, with log-log slopes.

    Shown when some contender ran on at least three planted data sets (one family, so sizes
    are comparable) spanning a factor of ``MIN_SPAN`` or more (scaling-large's 10^6 to
    2.5·10^7 ratings span 25).
    The slope is the least-squares fit of ``log(y) = slope · log(n_train) + c``: 1 means cost
    grows linearly with the number of ratings.
    """
    if summary.empty or "fit_rss_growth_mb" not in summary:
        return ""
    planted = summary[summary["rating_noise_floor"].notna()]  # one family of data: comparable
    rows, groups = [], []
    for (label, backend), group in planted.groupby(["label", "backend"], sort=False):
        group = group.sort_values("n_train")
        if len(group) < 3 or group["n_train"].max() < MIN_SPAN * group["n_train"].min():
            continue
        groups.append(group)
        rows.append(
            [
                plots.legend_name(label, backend),
                len(group),
                _slope(group, "epoch_s_median"),
                _slope(group, "fit_rss_growth_mb"),
                f"{group['epoch_s_median'].iloc[-1]:.3g}",
                f"{group['fit_rss_growth_mb'].iloc[-1]:.0f}",
                f"{int(group['n_train'].iloc[-1]):,}",
            ]
        )
    if not rows:
        return ""
    plots.scaling.draw(groups, folder / "scaling.png")
    table = tabulate(
        rows,
        headers=[
            "contender",
            "sizes",
            "time slope",
            "memory slope",
            "s/epoch at largest",
            "fit memory MB at largest",
            "largest n_train",
        ],
        tablefmt="github",
        disable_numparse=True,
    )
    return (
        "## Cost growth\n\nTime per epoch (or ALS iteration) and the rise of resident memory "
        "during fitting, against training ratings; slopes of the log-log fit (1 = linear).\n\n"
        f"{table}\n\n![cost growth](scaling.png)"
    )


def _slope(group: pd.DataFrame, column: str) -> str:
    points = group[group[column] > 0]
    if len(points) < 2:
        return "n/a"
    slope = np.polyfit(np.log10(points["n_train"]), np.log10(points[column]), 1)[0]
    return f"{round(slope, 2) + 0.0:.2f}"  # + 0.0: no "-0.00"


# -- sections -----------------------------------------------------------------------------------


def _title(results: pd.DataFrame) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in results["status"].value_counts().items())
    configs = ", ".join(map(str, results["config"].dropna().unique()))
    return (
        f"# mfbench report\n\nConfig **{configs}**, {len(results)} runs ({counts}). Generated by "
        "`mfbench report` from this folder's results; do not edit by hand."
    )


def _dataset_section(
    dataset: str,
    rows: pd.DataFrame,
    runs: pd.DataFrame,
    curves: pd.DataFrame,
    folder: Path,
    reference_model: str | None,
    judged: bool = True,
) -> str:
    first = runs.iloc[0]
    split = f"{first['split']}, {runs['fold'].nunique()} fold(s) × {runs['seed'].nunique()} seed(s)"
    parts = [f"## {dataset}"]
    if not pd.isna(first.get("n_users")):
        parts.append(
            f"{int(first['n_users']):,} users × {int(first['n_items']):,} items; split: {split}; "
            f"~{int(first['n_train']):,} train / {int(first['n_test']):,} test ratings per run. "
            f"Relevant = test rating ≥ {first['relevance_threshold']:g}."
        )
    if rows.empty:
        return "\n\n".join([*parts, "_No successful runs._"])
    settings = settings_source.section(dataset, runs, _saved_folds(folder, dataset))
    if settings:
        parts += ["### Where the settings come from", settings]
    slug = results_io.slug(dataset)
    pairs = verdicts.pairings(rows, runs)
    for contest in CONTESTS:
        table = verdicts.standings(rows, runs, contest)
        if table.entrants:
            parts.append(
                _contest_section(table, rows, pairs, folder, slug, dataset, reference_model, judged)
            )
    undefined = verdicts.no_ranking(rows)
    if undefined:
        parts += [f"### {CONTEST_TITLES[Contest.RANKING]} ({RANKING.title})", undefined]
    cuda = cuda_table(rows)
    if cuda:
        parts += ["### CPU vs CUDA", cuda]
    floor = noise_floor_table(rows)
    if floor:
        parts += ["### Distance to the noise floor (planted data)", floor]
    if plots.convergence.draw(dataset, runs, curves, folder / f"convergence-{slug}.png"):
        parts.append(f"![convergence on {dataset}](convergence-{slug}.png)")
    if plots.epoch_time.draw(dataset, rows, folder / f"epoch-time-{slug}.png"):
        parts.append(f"![time per epoch on {dataset}](epoch-time-{slug}.png)")
    return "\n\n".join(parts)


def _contest_section(
    table: Standings,
    rows: pd.DataFrame,
    pairs: list[verdicts.Pairing],
    folder: Path,
    slug: str,
    dataset: str,
    reference_model: str | None,
    judged: bool = True,
) -> str:
    """One contest on one data set: what the numbers say (no winner or floor verdict on a
    cost grid), standings, cost, Pareto plot."""
    contest = table.contest
    said = (
        [verdicts.winner_sentence(table), verdicts.floor_sentence(table)]
        if judged
        else [verdicts.NOT_JUDGED]
    )
    if contest == Contest.RATING:
        said.append(verdicts.time_to_target(rows))
    said.append(verdicts.highest_throughput(rows, contest))
    said += [
        verdicts.pairing_sentence(pair, rows)
        for pair in pairs
        if models.enters(pair.model, contest) and not models.is_floor(pair.model)
    ]
    if contest == Contest.RANKING:
        said.append(verdicts.rating_models_rank(rows))
    if table.tested and judged:
        said.append(verdicts.test_sentence())
    reference = speed_reference(contest, reference_model)
    parts = [
        f"### {CONTEST_TITLES[contest]} ({table.metric.title})",
        "\n".join(f"- {sentence}" for sentence in said if sentence),
        standings_table(table, rows, judged),
        "Budgets and speed:",
        cost_table(table, rows, reference),
    ]
    entrants = verdicts.entrants_of(rows, contest)
    name = f"pareto-{contest.value}-{slug}.png"
    if plots.pareto.draw(dataset, entrants, table.metric, folder / name):
        parts.append(f"![{table.metric.title} against fit time on {dataset}]({name})")
    return "\n\n".join(parts)


def _header(env: dict[str, Any], results: pd.DataFrame) -> str:
    versions = env.get("versions", {})
    gpu = env.get("gpu") or {}
    driver = f" (driver {gpu['driver']})" if gpu.get("driver") else ""
    pools = {
        f"{p.get('internal_api')} {p.get('version') or ''}".strip()
        for p in env.get("threadpools", [])
    }
    threads = sorted(results["n_threads"].dropna().astype(int).unique())
    machine = [
        (
            "CPU",
            f"{env.get('cpu', '?')} ({env.get('cores', '?')} cores, "
            f"{env.get('ram_gb', '?')} GB RAM)",
        ),
        ("GPU", f"{gpu.get('name', 'none')}{driver}"),
        ("threads per run", ", ".join(map(str, threads))),
        (
            "Python / torch / CUDA",
            f"{env.get('python', '?')} / {versions.get('torch', '?')} / "
            f"{env.get('torch_cuda') or 'none'}",
        ),
        (
            "libraries",
            ", ".join(f"{name} {version}" for name, version in versions.items() if version),
        ),
        ("BLAS / OpenMP", ", ".join(sorted(pools)) or "?"),
        ("commit", f"{env.get('git_commit') or '?'}{' (dirty)' if env.get('git_dirty') else ''}"),
    ]
    table = tabulate(machine, headers=["environment", ""], tablefmt="github")
    caveats = "".join(f"\n\n> **Caveat:** {caveat}" for caveat in environment.caveats(env))
    return f"## Environment\n\n{table}{caveats}"


def _swing(row: dict) -> float:
    """A run's ``epoch_swing`` (folders older than it: slowest over median epoch, all epochs)."""
    swing = row.get("epoch_swing")
    if swing is None or pd.isna(swing):
        return row["epoch_s_max"] / row["epoch_s_median"]
    return float(swing)


def _epoch_ms(seconds: object) -> str:
    """An epoch's time in milliseconds, "–" when unknown."""
    if seconds is None or pd.isna(seconds):
        return "–"
    return f"{float(seconds) * 1000:.3g} ms"


def _problems_section(results: pd.DataFrame) -> str:
    """Every run that was not ok, every ok run that carries a caveat, grouped by reason, and
    every run whose epochs were disturbed (``execute.DISTURBED_SWING``), with its load."""
    bad = results[(results["status"] != "ok") | (results["reason"] != "")]
    parts = []
    if not bad.empty:
        grouped = bad.groupby(["label", "backend", "status", "reason"], sort=False).size()
        table = [[m, b, s, r, n] for (m, b, s, r), n in grouped.items()]
        parts.append(
            "## Skipped and failed runs, and caveats\n\n"
            + tabulate(
                table, headers=["model", "backend", "status", "reason", "runs"], tablefmt="github"
            )
        )
    flags = results["disturbed"] if "disturbed" in results else pd.Series(0, index=results.index)
    disturbed = results[flags.fillna(0) > 0]
    if not disturbed.empty:
        rows = [
            [
                row["dataset"],
                row["label"],
                row["backend"],
                f"f{row['fold']} s{row['seed']}",
                f"{_swing(row):.1f}×",
                _epoch_ms(row.get("epoch_s_median")),
                f"{row['load_1m_start']:.2f} → {row['load_1m_end']:.2f}",
            ]
            for row in disturbed.to_dict("records")
        ]
        parts.append(
            f"## Disturbed runs\n\nIn these runs the slowest epoch after the first (which "
            f"carries the library's set-up) took more than {DISTURBED_SWING:g}× the median "
            "epoch after the first: another process shared the machine, or, where epochs take "
            "a few milliseconds and the load stays near the run's own threads, the scheduler's "
            "jitter alone stretched one of them (the load average is the machine's, this run's "
            "own work included). Their times are not clean; rerun them alone.\n\n"
            + tabulate(
                rows,
                headers=[
                    "data set",
                    "model",
                    "backend",
                    "split",
                    "slowest / median epoch",
                    "median epoch",
                    "load 1 min",
                ],
                tablefmt="github",
            )
        )
    return "\n\n".join(parts)


def _columns_note() -> str:
    return (
        "## How to read this\n\n"
        "Each data set has one section per contest: rating prediction (RMSE; models that "
        "predict ratings) and top-N ranking (NDCG@10; every model that scores items). ± is the "
        "standard deviation over seeds and folds. **vs best** is this contender's mean minus "
        "the best's over the runs both made (same folds × seeds), with its confidence "
        f"interval; **tied** means the {stats.TEST_NAME} (α = {stats.ALPHA:g}) cannot tell it "
        "from the best. **vs floor** tests it the same way against the contest's strongest "
        "trivial reference (the contenders registered as floors): **learned nothing** means "
        "no better on average, **not shown (noisy)** ahead on average but not significantly, "
        "and a contest where no contender beats its floor has no winner. **k** is the number "
        "of factors; **epochs** are those run, **ratings visited** the training examples "
        "seen over the fit, and **budget** says whether an "
        "epoch was capped or training stopped early. Throughput ratios divide ratings/s by the "
        "contest's reference at the same k only (the work per rating grows with k), never for "
        "floors. Fit time excludes data loading, conversion and host→device copies "
        "(`prepare_s`), one-off warm-up (`warmup_s`) and the per-epoch evaluation behind the "
        "curves; CUDA work is synchronised before each clock read. ratings/s = training "
        "examples visited ÷ fit time. Peak RSS is the worker process's peak, libraries "
        "included. Every number comes from `results.csv` beside this file (schema in "
        "`suite/results.py`)."
    )


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}" if not math.isnan(std) else f"{mean:.4f}"
