"""A results folder's ``REPORT.md`` and PNG plots, rendered from its analysis.

The report opens with the claims as this folder alone judges them and a verdict per data set,
then gives each data set one section per contest (rating prediction, top-N ranking):
standings with paired tests against the best and the floor, budgets and speed, and the plots.
Every figure comes from ``suite.analysis.folder.analyse``; nothing here computes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from suite import answer, environment, metrics, models, plots, safe_io, settings
from suite import results as results_io
from suite.analysis.claims import family_size
from suite.analysis.folder import DatasetAnalysis, FolderAnalysis, analyse
from suite.analysis.growth import Growth
from suite.analysis.paired import ALPHA, TEST_NAME
from suite.analysis.speed import AgainstReference
from suite.analysis.standings import Entrant, Standings
from suite.analysis.targets import Judged
from suite.measure import DISTURBED_SWING
from suite.models.base import Contest
from suite.models.facts import recorded
from suite.verdicts import (
    CONTEST_TITLES,
    budget_text,
    cuda_speed_up,
    findings,
    no_ranking,
    time_to_target_text,
    verdict,
)
from suite.wording import (
    CONVENTION,
    difference,
    interval,
    markdown,
    possessive,
    si,
    speed,
    times,
)

#: The metric each contest is judged by (``suite.metrics``).
RATING, RANKING = metrics.primary(Contest.RATING), metrics.primary(Contest.RANKING)
CONTESTS = (Contest.RATING, Contest.RANKING)


@dataclass
class Written:
    """What ``write_report`` produced."""

    path: Path
    main_tables: str  # the per-data-set contest tables, also printed by ``mfbench run``


def write_report(folder: Path, reference_model: str | None = None) -> Written:
    """Write ``folder/REPORT.md`` and its PNG plots from the folder's analysis.

    ``reference_model`` is the contender whose time per rating the cost tables divide by in
    the contest(s) it enters (default: each contest's registered ``speedup_baseline``).
    """
    found = analyse(folder, reference_model)
    with recorded(found.facts):  # the facts as the runs had them
        return _write_report(found)


def _write_report(found: FolderAnalysis) -> Written:
    folder, results = found.path, found.results
    judged = not found.cost_only
    said, mains, sections = [], [], []
    for data in found.datasets:
        sentences = verdict(data, found.gpu_name, not judged) if data.ok else []
        said.append(
            f"**{data.dataset}.** " + (" ".join(map(markdown, sentences)) or "No successful runs.")
        )
        mains.append(f"### {data.dataset}\n\n{contest_tables(data, judged)}")
        sections.append(_dataset_section(data, found, judged))
    parts = [_title(results), _claims_section(found), "## Verdict", "\n\n".join(said)]
    parts.append(_targets_section(found) if judged else "")
    parts.append(_header(found.env, results))
    parts += [*sections, scaling_section(found.growth, folder), _problems_section(found)]
    parts.append(_columns_note())
    path = folder / "REPORT.md"
    safe_io.write_text(path, "\n\n".join(s for s in parts if s) + "\n")
    return Written(path, "\n\n".join(mains))


def _claims_section(found: FolderAnalysis) -> str:
    """The protocol's comparisons this folder measures (``suite/claims.toml``), one section
    per claim (``#claim-<id>``, where the README's claims table links)."""
    name = found.measured.name
    mine = [(claim, claim.only(name).evidence) for claim in found.claims]
    mine = [(claim, shown) for claim, shown in mine if shown]
    if not mine:
        return ""
    measured = found.measured
    blocks = [
        "## Claims protocol: the comparisons measured here",
        f"Measured on {', '.join(c[:10] for c in measured.commits)} "
        f"({answer.status_text(measured)} against the code checked out now). Each comparison was "
        "fixed in `suite/claims.toml` before these runs; the verdicts across every folder are "
        "the README's. Holm's adjustment here spans this folder's "
        f"{family_size(found.claims)} deciding comparison(s); the README's spans them all.",
    ]
    for claim, shown in mine:
        lines = "\n".join(f"- {said}" for e in shown if (said := answer.evidence_sentence(e)))
        blocks.append(f"### Claim {claim.id}\n\n{claim.question}\n\n{lines}")
    return "\n\n".join(blocks)


def _targets_section(found: FolderAnalysis) -> str:
    """The targets of PyTorch at its best on CPU, where any is measured."""
    if all(j.state == "not measured" for j in found.targets):
        return ""
    note = (
        "Each target's figure with its 95% interval over paired runs: **met** when the whole "
        "interval lies on the target's side, **missed** when it lies wholly on the other, "
        "**not resolved** when it straddles the threshold (`suite/analysis/targets.py`)."
    )
    lines = ["| target | figure, 95% interval | state |", "|---|---|---|"]
    lines += [f"| {j.target} | {target_figure(j)} | **{j.state}** |" for j in found.targets]
    return f"## Targets: PyTorch at its best on CPU\n\n{note}\n\n" + "\n".join(lines)


def target_figure(judged: Judged) -> str:
    """A target's deciding figures in words, each with its 95% interval."""
    if judged.state == "not measured":
        return "–"
    parts = []
    if judged.score is not None:
        mean, low, high = judged.score
        shown = f" [{low:.4f}, {high:.4f}]" if math.isfinite(low) else " (no interval)"
        parts.append(
            f"RMSE {mean:.4f}{shown}, median fit {judged.fit_s:.2f} s ({judged.runs} runs)"
        )
    if judged.speed is not None:
        parts.append(speed(judged.speed, ".2f"))
    if judged.accuracy is not None:
        ratio = judged.accuracy
        shown = f"{possessive(ratio.a)} NDCG@10 {ratio.value:.3f}× {possessive(ratio.b)}"
        parts.append(f"{shown}{interval(ratio)}")
    if judged.note:
        parts.append(judged.note)
    return "; ".join(parts)


def contest_tables(data: DatasetAnalysis, judged: bool = True) -> str:
    """Both contests' standings tables of one data set (what ``mfbench run`` prints)."""
    if not data.ok:
        return "_No successful runs._"
    tables = []
    for contest in CONTESTS:
        table = data.standings[contest]
        if table.entrants:
            shown = standings_table(table, data.rows, judged)
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
        f"vs best, {1 - ALPHA:.0%} CI",
        "vs floor",
    ]
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)


def _versus_best(entrant: Entrant, table: Standings) -> str:
    if entrant.floor:
        return "floor"
    if entrant is table.best:
        return "best" if table.tested else "best (untested)"
    if entrant.vs_best is None:
        return "untested"
    return f"{difference(entrant.vs_best)} {'tied' if entrant.tied_with_best else 'worse'}"


def _versus_floor(entrant: Entrant, table: Standings) -> str:
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


def cost_table(data: DatasetAnalysis, table: Standings) -> str:
    """One contest's budgets and speed: k, epochs, ratings visited, fit time, throughput, and
    each setting's time per rating against the contest's reference at the same k (only for
    trained contenders at a k where the reference ran: comparable work)."""
    rows = data.rows
    by_key = rows.set_index(["label", "backend"])
    reference = data.reference.get(table.contest)
    against = data.against_reference.get(table.contest, {})
    rated = table.contest == Contest.RATING
    target = rows["rating_target"].dropna()
    cells = []
    for entrant in table.entrants:
        key = (entrant.label, entrant.backend)
        row = by_key.loc[key]
        line = [
            entrant.label,
            entrant.backend,
            f"{row['factors']:g}" if np.isfinite(row["factors"]) else "–",
            f"{row['epochs']:g}" if np.isfinite(row["epochs"]) else "–",
            si(row["ratings_processed"]),
            budget_text(data.budgets[key]),
            f"{row['fit_median']:.2f} [{row['fit_min']:.2f}–{row['fit_max']:.2f}]",
            si(row["ratings_per_s"]) if models.trains(entrant.model) else "n/a (counts)",
        ]
        if against:
            line.append(_against(against.get(key)))
        if rated and not target.empty:
            line.append(time_to_target_text({**row, "model": entrant.model}))
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
        *([f"time per rating / {reference}'s (same factors)"] if against else []),
    ]
    if rated and not target.empty:
        headers.append(f"s to {RATING.title} ≤ {target.iloc[0]:g}")
    headers.append("fit memory rise MB (process peak)")
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)


def _against(found: AgainstReference | None) -> str:
    if found is None:
        return "n/a"
    if found.why_not:
        return f"n/a ({found.why_not})"
    if found.ratio is None:
        return "n/a (no paired run)"
    ratio = found.ratio
    if ratio.a == ratio.b:
        return "1× (the reference)"
    runs = f", {ratio.runs} runs" if ratio.runs > 1 else ", 1 run"
    return f"{times(ratio.value)}{interval(ratio)}{runs}"


def cuda_table(data: DatasetAnalysis) -> str:
    """CPU vs CUDA per contender, where both ran: fit times, throughput, and CUDA's time per
    rating over the CPU's (paired by run)."""
    table = []
    for one in data.on_cuda:
        cpu_fit, cuda_fit = one.cpu["fit_median"], one.cuda["fit_median"]
        if math.isnan(cpu_fit) or math.isnan(cuda_fit):
            continue
        table.append(
            [
                one.label,
                f"{cpu_fit:.2f}",
                f"{cuda_fit:.2f}",
                cuda_speed_up(one),
                si(one.cpu["ratings_per_s"]),
                si(one.cuda["ratings_per_s"]),
            ]
        )
    if not table:
        return ""
    headers = [
        "model",
        "CPU fit s",
        "CUDA fit s",
        "CUDA time per rating / CPU's",
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


def settings_section(dataset: str, runs: pd.DataFrame, folds: int | None = None) -> str:
    """The report's "where the settings come from" table for the runs on ``dataset``; empty
    where no contender has tuned settings for any of its splits. ``folds`` is the k of a
    k-fold split (default: the folds the runs cover)."""
    matched = settings.tuned_runs(dataset, runs, folds)
    rows = [_settings_row(contender) for contender in matched.contenders if contender.tuned_splits]
    if not rows:
        return ""
    note = (
        "Each run's settings against the winners tuned on its own split's training half "
        "(nested: the split's test ratings never seen), as `suite/configs/tuned/"
        f"{matched.key}/` holds them today. A value set by the config or the command "
        "line instead is named; a winner its search found at the edge of its range (or at the "
        "epoch cap) is flagged: a wider range might have done better."
    )
    return f"{note}\n\n{tabulate(rows, headers='keys', tablefmt='github')}"


def _settings_row(contender: settings.ContenderSettings) -> dict[str, str]:
    """One contender's row: how many of its splits ran their winners, what overrode them and
    what the searches flagged."""
    text = f"tuned on its own split ({contender.tuned_splits} of {contender.splits})"
    if contender.overridden:
        text += f"; set by the config instead: {', '.join(contender.overridden)}"
    flagged = [
        f"fold {flag.fold}: {flag.values}" if flag.fold is not None else flag.values
        for flag in contender.flags
    ]
    return {
        "contender": contender.label,
        "settings": text,
        "flagged by its search": "; ".join(flagged) or "–",
    }


# -- cost growth --------------------------------------------------------------------------------


def scaling_section(found: list[Growth], folder: Path) -> str:
    """Cost growth: time per epoch and training memory against ratings, with log-log slopes
    (``suite.analysis.growth``)."""
    if not found:
        return ""
    rows = [
        [
            plots.legend_name(growth.largest["label"], growth.largest["backend"]),
            len(growth.rows),
            _slope(growth, "epoch_s_median"),
            _slope(growth, "fit_rss_growth_mb"),
            f"{growth.largest['epoch_s_median']:.3g}",
            f"{growth.largest['fit_rss_growth_mb']:.0f}",
            f"{int(growth.largest['n_train']):,}",
        ]
        for growth in found
    ]
    plots.scaling.draw(found, folder / "scaling.png")
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


def _slope(growth: Growth, column: str) -> str:
    found = growth.slopes[column]
    return "n/a" if found is None else f"{round(found.slope, 2) + 0.0:.2f}"  # no "-0.00"


# -- sections -----------------------------------------------------------------------------------


def _title(results: pd.DataFrame) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in results["status"].value_counts().items())
    configs = ", ".join(map(str, results["config"].dropna().unique()))
    return (
        f"# mfbench report\n\nConfig **{configs}**, {len(results)} runs ({counts}). Generated by "
        "`mfbench report` from this folder's results; do not edit by hand."
    )


def _dataset_section(data: DatasetAnalysis, found: FolderAnalysis, judged: bool = True) -> str:
    runs, rows, dataset = data.runs, data.rows, data.dataset
    first = runs.iloc[0]
    split = f"{first['split']}, {runs['fold'].nunique()} fold(s) × {runs['seed'].nunique()} seed(s)"
    parts = [f"## {dataset}"]
    if not pd.isna(first.get("n_users")):
        parts.append(
            f"{int(first['n_users']):,} users × {int(first['n_items']):,} items; split: {split}; "
            f"~{int(first['n_train']):,} train / {int(first['n_test']):,} test ratings per run. "
            f"Relevant = test rating ≥ {first['relevance_threshold']:g}."
        )
    if not data.ok:
        return "\n\n".join([*parts, "_No successful runs._"])
    origins = settings_section(dataset, runs, found.folds_of(dataset))
    if origins:
        parts += ["### Where the settings come from", origins]
    slug = results_io.slug(dataset)
    for contest in CONTESTS:
        if data.standings[contest].entrants:
            parts.append(_contest_section(data, contest, found.path, slug, judged))
    undefined = no_ranking(data)
    if undefined:
        parts += [f"### {CONTEST_TITLES[Contest.RANKING]} ({RANKING.title})", markdown(undefined)]
    cuda = cuda_table(data)
    if cuda:
        parts += ["### CPU vs CUDA", cuda]
    floor = noise_floor_table(rows)
    if floor:
        parts += ["### Distance to the noise floor (planted data)", floor]
    if plots.convergence.draw(data.convergence, found.path / f"convergence-{slug}.png"):
        parts.append(f"![convergence on {dataset}](convergence-{slug}.png)")
    if data.epoch_times and plots.epoch_time.draw(
        data.epoch_times, found.path / f"epoch-time-{slug}.png"
    ):
        parts.append(f"![time per epoch on {dataset}](epoch-time-{slug}.png)")
    return "\n\n".join(parts)


def _contest_section(
    data: DatasetAnalysis, contest: Contest, folder: Path, slug: str, judged: bool = True
) -> str:
    """One contest on one data set: what the numbers say (no winner or floor verdict on a
    cost grid), standings, cost, Pareto plot."""
    table = data.standings[contest]
    parts = [
        f"### {CONTEST_TITLES[contest]} ({table.metric.title})",
        "\n".join(f"- {markdown(one)}" for one in findings(data, contest, judged)),
        standings_table(table, data.rows, judged),
        "Budgets and speed:",
        cost_table(data, table),
    ]
    name = f"pareto-{contest.value}-{slug}.png"
    chart = data.pareto.get(contest)
    if chart is not None and plots.pareto.draw(chart, folder / name):
        parts.append(f"![{table.metric.title} against fit time on {data.dataset}]({name})")
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


def _problems_section(found: FolderAnalysis) -> str:
    """Every run that was not ok, every ok run that carries a caveat, grouped by reason, and
    every run whose epochs were disturbed (``suite.measure.DISTURBED_SWING``), with its load."""
    parts = []
    bad, disturbed = found.problems.not_ok, found.problems.disturbed
    if not bad.empty:
        table = bad[["label", "backend", "status", "reason", "runs"]].values.tolist()
        parts.append(
            "## Skipped and failed runs, and caveats\n\n"
            + tabulate(
                table, headers=["model", "backend", "status", "reason", "runs"], tablefmt="github"
            )
        )
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
        f"interval; **tied** means the {TEST_NAME} (α = {ALPHA:g}) cannot tell it "
        "from the best. **vs floor** tests it the same way against the contest's strongest "
        "trivial reference (the contenders registered as floors): **learned nothing** means "
        "no better on average, **not shown (noisy)** ahead on average but not significantly, "
        "and a contest where no contender beats its floor has no winner. **k** is the number "
        "of factors; **epochs** are those run, **ratings visited** the training examples "
        "seen over the fit, and **budget** says whether an "
        "epoch was capped or training stopped early. Time-per-rating ratios divide by the "
        "contest's reference at the same k only (the work per rating grows with k), never for "
        f"floors. {CONVENTION} Fit time excludes data loading, conversion and host→device "
        "copies (`prepare_s`), one-off warm-up (`warmup_s`) and the per-epoch evaluation behind "
        "the curves; CUDA work is synchronised before each clock read. ratings/s = training "
        "examples visited ÷ fit time. Peak RSS is the worker process's peak, libraries "
        "included. Every number comes from `results.csv` beside this file (schema in "
        "`suite/results.py`)."
    )


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}" if not math.isnan(std) else f"{mean:.4f}"
