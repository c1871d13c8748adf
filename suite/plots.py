"""The report's figures. One place picks matplotlib's backend and each contender's colour.

A contender keeps its colour in every figure of every report: the colour follows its place
in the registry (``suite.models.REGISTRY``), not the order rows happen to come in. Backends
differ by line style (CPU solid, CUDA dashed, MPS dotted); settings of one contender
(variants of a sweep) by marker.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from suite import metrics, models, safe_io
from suite.models.base import Contest

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LINE_STYLES = {"cpu": "-", "cuda": "--", "mps": ":"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
DPI = 110


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend (no display is ever needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@functools.cache
def _palette() -> list[tuple[float, float, float]]:
    plt = _pyplot()
    return [
        *plt.get_cmap("tab10").colors,
        *plt.get_cmap("tab20").colors[1::2],
        *plt.get_cmap("Dark2").colors,
    ]


def colour(model: str) -> tuple[float, float, float]:
    """The fixed colour of contender ``model`` (an unregistered name gets a stable one too)."""
    palette = _palette()
    names = models.names()
    index = names.index(model) if model in names else zlib.crc32(model.encode())
    return palette[index % len(palette)]


def style(model: str, label: str, backend: str) -> dict[str, Any]:
    """Line and marker style of one (contender setting, backend) in every figure."""
    marker = "." if label == model else MARKERS[zlib.crc32(label.encode()) % len(MARKERS)]
    return {"color": colour(model), "linestyle": LINE_STYLES.get(backend, "-."), "marker": marker}


def legend_name(label: str, backend: str) -> str:
    return label if backend == "cpu" else f"{label} ({backend})"


def convergence(dataset: str, results: pd.DataFrame, curves: pd.DataFrame, path: Path) -> bool:
    """Each primary metric on the test set against training time: median per epoch, band.

    The band spans the runs' minimum and maximum. Returns False when there is nothing to draw.
    """
    plt = _pyplot()
    import matplotlib.ticker

    runs = results[(results["dataset"] == dataset) & (results["status"] == "ok")]
    joined = curves.merge(runs[["run_id", "model", "label", "backend"]], on="run_id")
    if joined.empty:
        return False
    panels = [  # a metric no run has a curve of (no rating model ran) gets no empty panel
        metric for metric in metrics.primaries() if joined[f"test_{metric.column}"].notna().any()
    ]
    if not panels:
        return False
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for (model, label, backend), rows in joined.groupby(["model", "label", "backend"], sort=False):
        by_epoch = rows.groupby("epoch")
        elapsed = by_epoch["elapsed_s"].median()
        look = style(model, label, backend)
        for axis, metric in zip(axes[0], panels, strict=True):
            values = by_epoch[f"test_{metric.column}"]
            if values.median().isna().all():
                continue
            axis.plot(elapsed, values.median(), label=legend_name(label, backend), **look)
            axis.fill_between(elapsed, values.min(), values.max(), alpha=0.15, color=look["color"])
    for axis, metric in zip(axes[0], panels, strict=True):
        if metric.contest == Contest.RATING:
            _rating_guides(axis, runs, joined, f"test_{metric.column}")
        axis.set_xscale("log")
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("training time, s (log)")
        sampled = " (user sample)" if metric.contest == Contest.RANKING else ""
        axis.set_ylabel(f"test {metric.title}{sampled}")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:  # nothing drawn: no legend (and no warning)
            axis.legend(fontsize=7)
    figure.suptitle(f"{dataset}: convergence (median over runs, band = min–max)")
    _save(figure, path)
    return True


def _rating_guides(axis: Any, runs: pd.DataFrame, joined: pd.DataFrame, column: str) -> None:
    """The RMSE target and noise floor as lines; the y range kept on the final values."""
    target = runs["rmse_target"].dropna()
    if not target.empty:
        axis.axhline(target.iloc[0], color="grey", linestyle="--", linewidth=1, label="target")
    floor = runs["noise_floor_rmse"].dropna()
    if not floor.empty:
        axis.axhline(floor.iloc[0], color="black", linestyle=":", linewidth=1, label="noise floor")
    finals = joined.sort_values("epoch").groupby("run_id")[column].last().dropna()
    if not finals.empty:  # keep the interesting range in view; early epochs may start far off
        low = min(finals.min(), floor.iloc[0] if not floor.empty else finals.min())
        high = max(finals.median(), target.max() if not target.empty else 0) * 1.25
        axis.set_ylim(low - 0.05, high)


def epoch_times(dataset: str, rows: pd.DataFrame, path: Path) -> bool:
    """Median time per epoch of each contender (summary rows of one data set), log scale."""
    plt = _pyplot()
    rows = rows[rows["epoch_s_median"].notna()].sort_values("epoch_s_median")
    if rows.empty:
        return False
    names = [legend_name(label, b) for label, b in zip(rows["label"], rows["backend"], strict=True)]
    longest = max(len(name) for name in names)  # room for the labels, then 5 in of bars
    figure, axis = plt.subplots(figsize=(5 + 0.075 * longest, 0.32 * len(rows) + 1.3))
    axis.barh(names, rows["epoch_s_median"], color=[colour(m) for m in rows["model"]])
    axis.margins(y=0.01)
    axis.set_xscale("log")
    axis.set_xlabel("seconds per epoch (median, log)")
    axis.set_title(f"{dataset}: time per epoch")
    axis.grid(alpha=0.3, axis="x")
    _save(figure, path)
    return True


def scaling(groups: list[pd.DataFrame], path: Path) -> None:
    """Log-log time per epoch and fit memory against training ratings, one line per group.

    Each group holds the summary rows of one (contender setting, backend) over data sizes.
    """
    plt = _pyplot()
    figure, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    for group in groups:
        first = group.iloc[0]
        look = style(first["model"], first["label"], first["backend"])
        name = legend_name(first["label"], first["backend"])
        ax_time.plot(group["n_train"], group["epoch_s_median"], label=name, **look)
        positive = group[group["fit_rss_growth_mb"] > 0]
        ax_memory.plot(positive["n_train"], positive["fit_rss_growth_mb"], label=name, **look)
    for axis, ylabel in ((ax_time, "seconds per epoch"), (ax_memory, "memory rise in fit, MB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("training ratings")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=7)
    figure.suptitle("Cost growth (log-log)")
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    try:
        safe_io.write_with(path, functools.partial(figure.savefig, dpi=DPI, format=path.suffix[1:]))
    finally:
        _pyplot().close(figure)
