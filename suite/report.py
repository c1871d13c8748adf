"""Results → summary DataFrames → ``REPORT.md`` and PNG plots, all computed from the data."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from suite import results as results_io
from suite.errors import InputError

REFERENCE_BACKEND = "cpu"
#: The post's per-sample loop and the fast trainer of the same model (the "before → after").
SEED_LOOP, SEED_MODEL = "torch-mf-seed", "torch-mf"
#: Reference rankings that do not train (left out of the throughput findings).
NOT_TRAINED = {"popularity"}


@dataclass
class Written:
    """What ``write_report`` produced."""

    path: Path
    main_tables: str  # the per-data-set main tables, also printed by ``mfbench run``


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, model, backend) over its ok runs: means, spreads, medians."""
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
    summary = grouped.agg(
        model=("model", "first"),
        runs=("run_id", "count"),
        rmse_mean=("rmse", "mean"),
        rmse_std=("rmse", "std"),
        mae_mean=("mae", "mean"),
        ndcg_mean=("ndcg_at_10", "mean"),
        ndcg_std=("ndcg_at_10", "std"),
        precision_mean=("precision_at_10", "mean"),
        recall_mean=("recall_at_10", "mean"),
        map_mean=("map_at_10", "mean"),
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


def write_report(folder: Path, reference_model: str = "torch-biased-mf") -> Written:
    """Write ``folder/REPORT.md`` and its PNG plots from the folder's results."""
    results, curves = results_io.load(folder)
    env_file = folder / "env.json"
    env = json.loads(env_file.read_text()) if env_file.exists() else {}
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
    path.write_text("\n\n".join(s for s in sections if s) + "\n")
    return Written(path, "\n\n".join(mains))


README_START, README_END = "<!-- headline:start -->", "<!-- headline:end -->"


def update_readme(readme: Path, folder: Path) -> None:
    """Replace the block between the headline markers of ``readme`` with ``folder``'s tables."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise InputError(f"{readme}: no {README_START} ... {README_END} block to fill")
    results, _ = results_io.load(folder)
    env_file = folder / "env.json"
    env = json.loads(env_file.read_text()) if env_file.exists() else {}
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
        said = "\n".join(f"- {line}" for line in findings(dataset, rows))
        blocks.append(f"#### {dataset}\n\n{main_table(rows)}\n\n{said}")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    body = "\n\n".join(blocks)
    readme.write_text(f"{head}{README_START}\n{body}\n{README_END}{tail}", encoding="utf-8")


# -- tables -------------------------------------------------------------------------------------


def main_table(rows: pd.DataFrame) -> str:
    """Model × backend: accuracy (mean ± std over seeds/folds), time, throughput, memory."""
    if rows.empty:
        return "_No successful runs._"
    table = []
    for row in rows.itertuples():
        rating = not math.isnan(row.rmse_mean)
        table.append(
            [
                row.label,
                row.backend,
                row.runs,
                _pm(row.rmse_mean, row.rmse_std) if rating else "n/a (ranking model)",
                f"{row.mae_mean:.4f}" if rating else "n/a",
                _pm(row.ndcg_mean, row.ndcg_std),
                f"{row.precision_mean:.4f}",
                f"{row.fit_median:.2f} [{row.fit_min:.2f}–{row.fit_max:.2f}]",
                _si(row.ratings_per_s),
                f"{row.peak_rss_mb:.0f}",
            ]
        )
    headers = [
        "model",
        "backend",
        "runs",
        "RMSE",
        "MAE",
        "NDCG@10",
        "P@10",
        "fit s, median [min–max]",
        "ratings/s",
        "peak RSS MB",
    ]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def speedup_table(rows: pd.DataFrame, reference_model: str) -> str:
    """Fit time, throughput and time to the RMSE target, relative to a reference contender."""
    reference = rows[(rows["label"] == reference_model) & (rows["backend"] == REFERENCE_BACKEND)]
    if reference.empty:
        return f"_No {reference_model} ({REFERENCE_BACKEND}) runs to compare with._"
    ref = reference.iloc[0]
    table = []
    for row in rows.itertuples():
        to_target = (
            f"{row.time_to_target_s:.2f}"
            if not math.isnan(row.time_to_target_s)
            else "not reached"
            if not math.isnan(row.rmse_mean)
            else "n/a"
        )
        table.append(
            [
                row.label,
                row.backend,
                f"{row.fit_median:.2f}",
                f"{ref.fit_median / row.fit_median:.2f}×",
                _si(row.ratings_per_s),
                f"{row.ratings_per_s / ref.ratings_per_s:.2f}×",
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
        f"s to RMSE ≤ {target:g}" if target == target else "s to target",
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
    rated = rows[rows["rmse_mean"].notna() & rows["noise_floor_rmse"].notna()]
    if rated.empty:
        return ""
    table = [
        [
            r.label,
            r.backend,
            f"{r.rmse_mean:.4f}",
            f"{r.noise_floor_rmse:.4f}",
            f"{r.rmse_mean - r.noise_floor_rmse:+.4f}",
        ]
        for r in rated.itertuples()
    ]
    return tabulate(
        table,
        headers=["model", "backend", "RMSE", "noise floor", "distance"],
        tablefmt="github",
        disable_numparse=True,
    )


# -- what the numbers say -----------------------------------------------------------------------


def findings(dataset: str, rows: pd.DataFrame) -> list[str]:
    """Sentences generated from the summary of one data set (never written by hand)."""
    said = []
    rated = rows[rows["rmse_mean"].notna()]
    if not rated.empty:
        best = rated.loc[rated["rmse_mean"].idxmin()]
        said.append(
            f"Most accurate rating model: **{best.label}** ({best.backend}), RMSE "
            f"{best.rmse_mean:.4f} over {best.runs} run(s)."
        )
    if not rows.empty:
        ranker = rows.loc[rows["ndcg_mean"].idxmax()]
        said.append(
            f"Best ranking: **{ranker.label}** ({ranker.backend}), NDCG@10 {ranker.ndcg_mean:.4f}."
        )
        trained = rows[~rows["model"].isin(NOT_TRAINED)]
        fastest = trained.loc[trained["ratings_per_s"].idxmax()]
        said.append(
            f"Highest training throughput: **{fastest.label}** ({fastest.backend}), "
            f"{_si(fastest.ratings_per_s)} ratings/s."
        )
    reached = rated[rated["time_to_target_s"].notna()]
    if not rated.empty and not math.isnan(rated["rmse_target"].iloc[0]):
        target = rated["rmse_target"].iloc[0]
        if reached.empty:
            said.append(f"No model reached the target RMSE {target:g}.")
        else:
            first = reached.loc[reached["time_to_target_s"].idxmin()]
            missed = sorted(set(rated["label"]) - set(reached["label"]))
            said.append(
                f"Fastest to RMSE ≤ {target:g}: **{first.label}** ({first.backend}) after "
                f"{first.time_to_target_s:.2f} s of training"
                + (f"; never reached by {', '.join(missed)}." if missed else ".")
            )
    loop = rows[(rows["label"] == SEED_LOOP) & (rows["backend"] == REFERENCE_BACKEND)]
    fast = rows[(rows["label"] == SEED_MODEL) & (rows["backend"] == REFERENCE_BACKEND)]
    if not loop.empty and not fast.empty:
        slow, quick = loop["ratings_per_s"].iloc[0], fast["ratings_per_s"].iloc[0]
        said.append(
            f"The post's one-rating-at-a-time loop ({SEED_LOOP}) trains at {_si(slow)} "
            f"ratings/s; the same model with the minibatch trainer ({SEED_MODEL}) at "
            f"{_si(quick)} ratings/s — {quick / slow:.0f}× faster."
        )
    return said


# -- plots --------------------------------------------------------------------------------------


def plot_convergence(dataset: str, results: pd.DataFrame, curves: pd.DataFrame, path: Path) -> bool:
    """Test RMSE and NDCG@10 against training time: median per epoch, band over runs."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results[(results["dataset"] == dataset) & (results["status"] == "ok")]
    joined = curves.merge(runs[["run_id", "label", "backend"]], on="run_id")
    if joined.empty:
        return False
    figure, (ax_rmse, ax_ndcg) = plt.subplots(1, 2, figsize=(12, 4.5))
    for (model, backend), rows in joined.groupby(["label", "backend"], sort=False):
        by_epoch = rows.groupby("epoch")
        elapsed = by_epoch["elapsed_s"].median()
        label = model if backend == "cpu" else f"{model} ({backend})"
        for axis, column in ((ax_rmse, "test_rmse"), (ax_ndcg, "test_ndcg_at_10")):
            values = by_epoch[column]
            if values.median().isna().all():
                continue
            (line,) = axis.plot(elapsed, values.median(), marker=".", label=label)
            axis.fill_between(
                elapsed, values.min(), values.max(), alpha=0.2, color=line.get_color()
            )
    target = runs["rmse_target"].dropna()
    if not target.empty:
        ax_rmse.axhline(target.iloc[0], color="grey", linestyle="--", linewidth=1, label="target")
    floor = runs["noise_floor_rmse"].dropna()
    if not floor.empty:
        ax_rmse.axhline(
            floor.iloc[0], color="black", linestyle=":", linewidth=1, label="noise floor"
        )
    finals = joined.sort_values("epoch").groupby("run_id")["test_rmse"].last().dropna()
    if not finals.empty:  # keep the interesting range in view; early epochs may start far off
        low = min(finals.min(), floor.iloc[0] if not floor.empty else finals.min())
        ax_rmse.set_ylim(
            low - 0.05, max(finals.median(), target.max() if not target.empty else 0) * 1.25
        )
    for axis, ylabel in ((ax_rmse, "test RMSE"), (ax_ndcg, "test NDCG@10 (user sample)")):
        axis.set_xscale("log")
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("training time, s (log)")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
    ax_rmse.legend(fontsize=7)
    ax_ndcg.legend(fontsize=7)
    figure.suptitle(f"{dataset}: convergence (median over runs, band = min–max)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def plot_epoch_times(dataset: str, rows: pd.DataFrame, path: Path) -> bool:
    """Median time per epoch (or ALS iteration) of each contender, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rows[rows["epoch_s_median"].notna()].sort_values("epoch_s_median")
    if rows.empty:
        return False
    labels = [
        m if b == "cpu" else f"{m} ({b})"
        for m, b in zip(rows["label"], rows["backend"], strict=True)
    ]
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    axis.barh(labels, rows["epoch_s_median"])
    axis.set_xscale("log")
    axis.set_xlabel("seconds per epoch / iteration (median, log)")
    axis.set_title(f"{dataset}: time per epoch")
    axis.grid(alpha=0.3, axis="x")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


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
    rows, curves = [], {}
    for (label, backend), group in planted.groupby(["label", "backend"], sort=False):
        group = group.sort_values("n_train")
        if len(group) < 3 or group["n_train"].max() < 50 * group["n_train"].min():
            continue
        name = label if backend == "cpu" else f"{label} ({backend})"
        curves[name] = group
        rows.append(
            [
                name,
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
    plot_scaling(curves, folder / "scaling.png")
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


def plot_scaling(curves: dict[str, pd.DataFrame], path: Path) -> None:
    """Log-log time per epoch and fit memory against training ratings, one line each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, group in curves.items():
        ax_time.plot(group["n_train"], group["epoch_s_median"], marker="o", label=name)
        positive = group[group["fit_rss_growth_mb"] > 0]
        ax_memory.plot(positive["n_train"], positive["fit_rss_growth_mb"], marker="o", label=name)
    for axis, ylabel in ((ax_time, "seconds per epoch"), (ax_memory, "memory rise in fit, MB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("training ratings")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=7)
    figure.suptitle("Cost growth (log-log)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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
    suites = ", ".join(map(str, results["suite"].dropna().unique()))
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
            "numpy / scipy / pandas",
            " / ".join(str(versions.get(p)) for p in ("numpy", "scipy", "pandas")),
        ),
        ("implicit / lightfm", f"{versions.get('implicit')} / {versions.get('lightfm')}"),
        ("BLAS / OpenMP", ", ".join(sorted(pools)) or "?"),
        ("commit", f"{env.get('git_commit') or '?'}{' (dirty)' if env.get('git_dirty') else ''}"),
    ]
    table = tabulate(machine, headers=["environment", ""], tablefmt="github")
    return (
        f"# mfbench report\n\nSuite **{suites}**, {len(results)} runs ({counts}). Generated by "
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
    said = findings(dataset, rows)
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
    if plot_convergence(dataset, results, curves, folder / f"convergence-{slug}.png"):
        parts.append(f"![convergence on {dataset}](convergence-{slug}.png)")
    if plot_epoch_times(dataset, rows, folder / f"epoch-time-{slug}.png"):
        parts.append(f"![time per epoch on {dataset}](epoch-time-{slug}.png)")
    return "\n\n".join(parts)


def _problems_section(results: pd.DataFrame) -> str:
    bad = results[results["status"] != "ok"]
    if bad.empty:
        return ""
    grouped = bad.groupby(["label", "backend", "status", "reason"], sort=False).size()
    table = [[m, b, s, r, n] for (m, b, s, r), n in grouped.items()]
    return "## Skipped and failed runs\n\n" + tabulate(
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
