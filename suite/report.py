"""Results → summary DataFrames → ``REPORT.md`` and PNG plots, all computed from the data."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from suite import metrics, models, plots, safe_io
from suite import results as results_io
from suite.errors import InputError
from suite.models.base import Contest

REFERENCE_BACKEND = "cpu"
#: The metric each contest is judged by (``suite.metrics``).
RATING, RANKING = metrics.primary(Contest.RATING), metrics.primary(Contest.RANKING)


@dataclass
class Written:
    """What ``write_report`` produced."""

    path: Path
    main_tables: str  # the per-data-set main tables, also printed by ``mfbench run``


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, label, backend) over its ok runs: means, spreads, medians.

    Every metric's column ``c`` becomes ``c_mean`` and ``c_std`` (over seeds and folds).
    """
    ok = results[results["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(label=results_io.labels(ok))
    # Runs with several timed fits (or pytest-benchmark rounds) carry their own min and max.
    ok = ok.assign(
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
        peak_gpu_mb=("peak_gpu_mb", "median"),
        time_to_target_s=("time_to_target_s", "median"),
        reached_target=("time_to_target_s", lambda s: int(s.notna().sum())),
        rmse_target=("rmse_target", "first"),
        noise_floor_rmse=("noise_floor_rmse", "first"),
        epochs=("epochs", "median"),
        n_threads=("n_threads", "first"),
        n_train=("n_train", "median"),
        fit_rss_growth_mb=("fit_rss_growth_mb", "median"),
    )
    return summary.reset_index()


def write_report(folder: Path, reference_model: str | None = None) -> Written:
    """Write ``folder/REPORT.md`` and its PNG plots from the folder's results.

    ``reference_model`` is the contender the speed-up table divides by (default: the one
    registered as ``speedup_baseline``).
    """
    results, curves = results_io.load(folder)
    if reference_model is not None and reference_model not in set(results["label"]):
        raise InputError(
            f"--reference-model {reference_model}: no such contender in {folder} "
            f"(it has {', '.join(sorted(set(results['label'])))})"
        )
    reference_model = reference_model or models.speedup_baseline()
    env_file = folder / "env.json"
    env = safe_io.read_json(env_file, "env.json") if env_file.exists() else {}
    summary = summarize(results)
    datasets = list(dict.fromkeys(results["dataset"]))
    mains, sections = [], [_header(env, results)]
    for dataset in datasets:
        rows = summary[summary["dataset"] == dataset] if not summary.empty else summary
        main = main_table(rows)
        mains.append(f"### {dataset}\n\n{main}")
        sections.append(_dataset_section(dataset, rows, results, curves, folder, reference_model))
    sections.append(scaling_section(summary, folder))
    sections.append(_problems_section(results))
    sections.append(_columns_note())
    path = folder / "REPORT.md"
    safe_io.write_text(path, "\n\n".join(s for s in sections if s) + "\n")
    return Written(path, "\n\n".join(mains))


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"


def update_readme(readme: Path, folder: Path) -> None:
    """Replace the block between the headline markers of ``readme`` with ``folder``'s tables."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--readme {readme}: cannot read it as text ({exc})") from exc
    if README_START not in text or README_END not in text:
        raise InputError(f"{readme}: no {README_START} ... {README_END} block to fill")
    results, _ = results_io.load(folder)
    env_file = folder / "env.json"
    env = safe_io.read_json(env_file, "env.json") if env_file.exists() else {}
    summary = summarize(results)
    threads = ", ".join(map(str, sorted(results["n_threads"].dropna().astype(int).unique())))
    gpu = (env.get("gpu") or {}).get("name", "no GPU")
    blocks = [
        f"Measured on {env.get('cpu', '?')} ({env.get('cores', '?')} cores, {gpu}), "
        f"{threads} thread(s) per run, torch {env.get('versions', {}).get('torch', '?')}, "
        f"commit `{(env.get('git_commit') or '?')[:10]}`; full report: "
        f"[{folder.as_posix()}/REPORT.md]({folder.as_posix()}/REPORT.md)."
    ]
    for dataset in dict.fromkeys(results["dataset"]):
        rows = summary[summary["dataset"] == dataset]
        runs = results[results["dataset"] == dataset]
        said = "\n".join(f"- {line}" for line in findings(dataset, rows, runs))
        blocks.append(f"#### {dataset}\n\n{main_table(rows)}\n\n{said}")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    body = "\n\n".join(blocks)
    safe_io.write_text(readme, f"{head}{README_START}\n{body}\n{README_END}{tail}")


# -- tables -------------------------------------------------------------------------------------


def main_table(rows: pd.DataFrame) -> str:
    """Model × backend: every metric (primary ones ± std over seeds/folds), time, memory."""
    if rows.empty:
        return "_No successful runs._"
    table = []
    for row in rows.to_dict("records"):
        cells = [row["label"], row["backend"], row["runs"]]
        for metric in metrics.METRICS:
            mean, std = row[f"{metric.column}_mean"], row[f"{metric.column}_std"]
            if math.isnan(mean):
                cells.append("n/a (ranking model)" if metric is RATING else "n/a")
            else:
                cells.append(_pm(mean, std) if metric.primary else f"{mean:.4f}")
        cells += [
            f"{row['fit_median']:.2f} [{row['fit_min']:.2f}–{row['fit_max']:.2f}]",
            _si(row["ratings_per_s"]),
            f"{row['peak_rss_mb']:.0f}",
        ]
        table.append(cells)
    headers = [
        "model",
        "backend",
        "runs",
        *(metric.title for metric in metrics.METRICS),
        "fit s, median [min–max]",
        "ratings/s",
        "peak RSS MB",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def speedup_table(rows: pd.DataFrame, reference_model: str | None) -> str:
    """Fit time, throughput and time to the RMSE target, relative to a reference contender."""
    reference = rows[(rows["label"] == reference_model) & (rows["backend"] == REFERENCE_BACKEND)]
    if reference_model is None or reference.empty:
        return f"_No {reference_model} ({REFERENCE_BACKEND}) runs to compare with._"
    ref = reference.iloc[0]
    table = []
    for row in rows.itertuples():
        rated = not math.isnan(getattr(row, f"{RATING.column}_mean"))
        to_target = (
            f"{row.time_to_target_s:.2f}"
            if not math.isnan(row.time_to_target_s)
            else "not reached"
            if rated
            else "n/a"
        )
        if not _trains(row.model):
            fit_ratio = throughput_ratio = "n/a (does not train)"
        else:
            fit_ratio = f"{ref.fit_median / row.fit_median:.2f}×"
            throughput_ratio = f"{row.ratings_per_s / ref.ratings_per_s:.2f}×"
            if _caps_epochs(row.model):
                fit_ratio = "n/a (partial epochs)"
        table.append(
            [
                row.label,
                row.backend,
                f"{row.fit_median:.2f}",
                fit_ratio,
                _si(row.ratings_per_s),
                throughput_ratio,
                to_target,
            ]
        )
    target = ref.rmse_target
    headers = [
        "model",
        "backend",
        "fit s",
        f"fit speed-up vs {reference_model}",
        "ratings/s",
        "throughput vs ref.",
        f"s to {RATING.title} ≤ {target:g}" if target == target else "s to target",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


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
                _si(pivot.loc[model, ("ratings_per_s", "cpu")]),
                _si(pivot.loc[model, ("ratings_per_s", "cuda")]),
            ]
        )
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
    rated = rows[rows[mean].notna() & rows["noise_floor_rmse"].notna()]
    if rated.empty:
        return ""
    table = [
        [
            r["label"],
            r["backend"],
            f"{r[mean]:.4f}",
            f"{r['noise_floor_rmse']:.4f}",
            f"{r[mean] - r['noise_floor_rmse']:+.4f}",
        ]
        for r in rated.to_dict("records")
    ]
    return tabulate(
        table,
        headers=["model", "backend", RATING.title, "noise floor", "distance"],
        tablefmt="github",
        disable_numparse=True,
    )


# -- what the numbers say -----------------------------------------------------------------------


def findings(dataset: str, rows: pd.DataFrame, runs: pd.DataFrame | None = None) -> list[str]:
    """Sentences generated from the summary of one data set (never written by hand).

    With ``runs`` (that data set's records), each contest's best is tested against its floor
    and against the other contenders by a paired t-test over the same folds × seeds
    (``ALPHA``): no winner where none beats the floor, and every contender that the test
    cannot tell from the best is named with it.
    """
    said = []
    rating_mean, ranking_mean = f"{RATING.column}_mean", f"{RANKING.column}_mean"
    rated = rows[rows[rating_mean].notna() & rows["model"].map(_enters(Contest.RATING))]
    said += _contest_best(rows, runs, RATING, Contest.RATING, "Most accurate rating model")
    ranks = rows[ranking_mean].notna()
    ranking_contender = rows["model"].map(_enters(Contest.RANKING))
    ranked = rows[ranks & ranking_contender]
    if not ranked.empty:
        said += _contest_best(
            rows, runs, RANKING, Contest.RANKING, "Best ranking (among the ranking contenders)"
        )
        rating_only = rows[ranks & ~ranking_contender & ~rows["model"].map(_floor)]
        if not rating_only.empty:
            best = rating_only.loc[_best_index(rating_only[ranking_mean], RANKING)]
            said.append(
                f"Rating models rank too, as a finding: the best, **{best.label}**, reaches "
                f"{RANKING.title} {best[ranking_mean]:.4f}. Trained to predict every rating "
                "(RMSE), they spend their capacity on the ratings' values, not on which items "
                "a user picks."
            )
    elif not rows.empty:
        said.append(
            "No ranking result: the ranking metrics are undefined here (no test rating "
            "reaches the relevance threshold)."
        )
    if not rows.empty:
        trained = rows[
            rows["model"].map(_trains) & ~rows["model"].map(_floor) & rows["ratings_per_s"].notna()
        ]
        if not trained.empty:
            fastest = trained.loc[trained["ratings_per_s"].idxmax()]
            said.append(
                f"Highest training throughput: **{fastest.label}** ({fastest.backend}), "
                f"{_si(fastest.ratings_per_s)} ratings/s."
            )
    reached = rated[rated["time_to_target_s"].notna()]
    if not rated.empty and not math.isnan(rated["rmse_target"].iloc[0]):
        target = rated["rmse_target"].iloc[0]
        if reached.empty:
            said.append(f"No model reached the target {RATING.title} {target:g}.")
        else:
            first = reached.loc[reached["time_to_target_s"].idxmin()]
            missed = sorted(set(rated["label"]) - set(reached["label"]))
            said.append(
                f"Fastest to {RATING.title} ≤ {target:g}: **{first.label}** ({first.backend}) "
                f"after {first.time_to_target_s:.2f} s of training"
                + (f"; never reached by {', '.join(missed)}." if missed else ".")
            )
    said += _same_model_findings(rows)
    return said


#: Significance level of the paired tests behind "tied" and "beats the floor".
ALPHA = 0.05


def _contest_best(
    rows: pd.DataFrame, runs: pd.DataFrame | None, metric: Any, contest: Contest, what: str
) -> list[str]:
    """The best of ``contest`` on ``metric``, tested against its floor and its rivals."""
    mean = f"{metric.column}_mean"
    entrants = rows[rows[mean].notna() & rows["model"].map(_enters(contest))]
    floors = entrants[entrants["model"].map(_floor)]
    rivals = entrants[~entrants["model"].map(_floor)]
    if rivals.empty:
        return (
            [f"Only floors ran in this contest ({', '.join(floors['label'])}): nothing to rank."]
            if not floors.empty
            else []
        )
    best = rivals.loc[_best_index(rivals[mean], metric)]
    value = f"{metric.title} {best[mean]:.4f} over {best.runs} run(s)"
    if runs is None:
        return [f"{what}: **{best.label}** ({best.backend}), {value}."]
    test = f"paired t-test over the same folds × seeds, α = {ALPHA:g}"
    if best.runs < 2:
        return [
            f"{what}: **{best.label}** ({best.backend}), {value}: too few runs for a paired "
            "test, so neither ties nor the margin over the floor are tested."
        ]
    if not floors.empty:
        floor = floors.loc[_best_index(floors[mean], metric)]
        better, p = _paired(runs, best, floor, metric)
        if not (better and p < ALPHA):
            return [
                f"No winner in this contest: its best, **{best.label}** ({value}), does not "
                f"beat the floor **{floor.label}** ({metric.title} {floor[mean]:.4f}; {test}, "
                f"p = {p:.2g})."
            ]
    tied = [
        f"{row.label} ({row[mean]:.4f})"
        for _, row in rivals.iterrows()
        if row.name != best.name and _paired(runs, best, row, metric)[1] >= ALPHA
    ]
    ties = f"; tied with it ({test}): {', '.join(tied)}" if tied else ""
    return [f"{what}: **{best.label}** ({best.backend}), {value}{ties}."]


def _paired(runs: pd.DataFrame, one: pd.Series, other: pd.Series, metric: Any) -> tuple:
    """``(one is better on average, p)`` over the (fold, seed) both ran; p = 1 when untestable
    (fewer than two pairs, or identical results)."""
    from scipy import stats

    def values(row: pd.Series) -> pd.Series:
        mine = runs[(runs["label"] == row.label) & (runs["backend"] == row.backend)]
        return mine[mine["status"] == "ok"].set_index(["fold", "seed"])[metric.column]

    paired = pd.concat([values(one), values(other)], axis=1, join="inner").dropna()
    if len(paired) < 2:
        return False, 1.0
    difference = paired.iloc[:, 0] - paired.iloc[:, 1]
    better = difference.mean() > 0 if metric.higher_is_better else difference.mean() < 0
    if (difference == difference.iloc[0]).all():  # no spread: a t-test is undefined
        return bool(better and difference.iloc[0] != 0), 0.0 if difference.iloc[0] else 1.0
    return bool(better), float(stats.ttest_rel(paired.iloc[:, 0], paired.iloc[:, 1]).pvalue)


def _same_model_findings(rows: pd.DataFrame) -> list[str]:
    """Throughput of contenders that train the very same model (``Model.same_model_as``)."""
    cpu = rows[rows["backend"] == REFERENCE_BACKEND].set_index("label")
    said = []
    for label, row in cpu.iterrows():
        contender = models.lookup(row["model"])
        twin = contender.same_model_as if contender is not None else None
        if twin is None or twin not in cpu.index:
            continue
        mine, theirs = row["ratings_per_s"], cpu.loc[twin, "ratings_per_s"]
        faster, ratio = (twin, theirs / mine) if theirs >= mine else (label, mine / theirs)
        said.append(
            f"Same model, trained two ways: **{label}** at {_si(mine)} ratings/s, "
            f"**{twin}** at {_si(theirs)} ratings/s — {faster} {ratio:.{1 if ratio < 10 else 0}f}× "
            "the throughput."
        )
    return said


def _best_index(values: pd.Series, metric: metrics.Metric) -> Any:
    return values.idxmax() if metric.higher_is_better else values.idxmin()


def _enters(contest: Contest) -> Any:
    """``model name -> bool``: whether that contender enters ``contest`` (unknown: it does)."""

    def enters(model: str) -> bool:
        contender = models.lookup(model)
        return contender is None or contest in contender.contests

    return enters


def _floor(model: str) -> bool:
    """Whether ``model`` is a contest's trivial reference (``Model.floor``)."""
    contender = models.lookup(model)
    return contender is not None and contender.floor


def _trains(model: str) -> bool:
    contender = models.lookup(model)
    return contender is None or contender.trains


def _caps_epochs(model: str) -> bool:
    contender = models.lookup(model)
    return contender is not None and contender.caps_epochs


# -- cost growth --------------------------------------------------------------------------------


def scaling_section(summary: pd.DataFrame, folder: Path) -> str:
    """Cost growth: time per epoch and training memory against ratings, with log-log slopes.

    Shown when some contender ran on at least three planted data sets (one family, so sizes
    are comparable) spanning a factor of 50 or more.
    The slope is the least-squares fit of ``log(y) = slope · log(n_train) + c``: 1 means cost
    grows linearly with the number of ratings.
    """
    if summary.empty or "fit_rss_growth_mb" not in summary:
        return ""
    planted = summary[summary["noise_floor_rmse"].notna()]  # one family of data: comparable
    rows, groups = [], []
    for (label, backend), group in planted.groupby(["label", "backend"], sort=False):
        group = group.sort_values("n_train")
        if len(group) < 3 or group["n_train"].max() < 50 * group["n_train"].min():
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
    plots.scaling(groups, folder / "scaling.png")
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


def _header(env: dict[str, Any], results: pd.DataFrame) -> str:
    versions = env.get("versions", {})
    gpu = env.get("gpu") or {}
    driver = f" (driver {gpu['driver']})" if gpu.get("driver") else ""
    pools = {
        f"{p.get('internal_api')} {p.get('version') or ''}".strip()
        for p in env.get("threadpools", [])
    }
    threads = sorted(results["n_threads"].dropna().astype(int).unique())
    counts = ", ".join(f"{n} {status}" for status, n in results["status"].value_counts().items())
    configs = ", ".join(map(str, results["config"].dropna().unique()))
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
    return (
        f"# mfbench report\n\nConfig **{configs}**, {len(results)} runs ({counts}). Generated by "
        f"`mfbench report` from this folder's results; do not edit by hand.\n\n{table}"
    )


def _dataset_section(
    dataset: str,
    rows: pd.DataFrame,
    results: pd.DataFrame,
    curves: pd.DataFrame,
    folder: Path,
    reference_model: str,
) -> str:
    runs = results[results["dataset"] == dataset]
    first = runs.iloc[0]
    split = f"{first['split']}, {runs['fold'].nunique()} fold(s) × {runs['seed'].nunique()} seed(s)"
    parts = [
        f"## {dataset}",
        f"{int(first['n_users']):,} users × {int(first['n_items']):,} items; split: {split}; "
        f"~{int(first['n_train']):,} train / {int(first['n_test']):,} test ratings per run. "
        f"Relevant = test rating ≥ {first['relevance_threshold']:g}."
        if not pd.isna(first.get("n_users"))
        else f"## {dataset}",
    ]
    if rows.empty:
        return "\n\n".join([*parts, "_No successful runs._"])
    said = findings(dataset, rows, runs)
    parts += ["### What the numbers say", "\n".join(f"- {s}" for s in said)]
    parts += ["### Accuracy, time and memory", main_table(rows)]
    parts += ["### Speed against the reference", speedup_table(rows, reference_model)]
    cuda = cuda_table(rows)
    if cuda:
        parts += ["### CPU vs CUDA", cuda]
    floor = noise_floor_table(rows)
    if floor:
        parts += ["### Distance to the noise floor (planted data)", floor]
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(dataset).name)
    if plots.convergence(dataset, results, curves, folder / f"convergence-{slug}.png"):
        parts.append(f"![convergence on {dataset}](convergence-{slug}.png)")
    if plots.epoch_times(dataset, rows, folder / f"epoch-time-{slug}.png"):
        parts.append(f"![time per epoch on {dataset}](epoch-time-{slug}.png)")
    return "\n\n".join(parts)


def _problems_section(results: pd.DataFrame) -> str:
    """Every run that was not ok, and every ok run that carries a caveat, grouped by reason."""
    bad = results[(results["status"] != "ok") | (results["reason"] != "")]
    if bad.empty:
        return ""
    grouped = bad.groupby(["label", "backend", "status", "reason"], sort=False).size()
    table = [[m, b, s, r, n] for (m, b, s, r), n in grouped.items()]
    return "## Skipped and failed runs, and caveats\n\n" + tabulate(
        table, headers=["model", "backend", "status", "reason", "runs"], tablefmt="github"
    )


def _columns_note() -> str:
    return (
        "## How to read this\n\n"
        "RMSE/MAE only exist for models that predict ratings; ranking models show n/a. "
        "± is the standard deviation over seeds and folds. Fit time excludes data loading, "
        "conversion and host→device copies (`prepare_s`), one-off warm-up (`warmup_s`) and the "
        "per-epoch evaluation behind the curves; CUDA work is synchronised before each clock "
        "read. ratings/s = training examples visited ÷ fit time. Peak RSS is the worker "
        "process's peak, libraries included. Every number comes from `results.csv` beside "
        "this file (schema in `suite/results.py`)."
    )


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}" if not math.isnan(std) else f"{mean:.4f}"


def _si(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"
