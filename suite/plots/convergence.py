"""The convergence figure: each contest's primary metric on the test set against training time."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from suite import metrics, models
from suite.models.base import Contest
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.look import legend_name, markers, style
from suite.plots.scales import edge_marks, label_log_axes, note_off_scale, y_window

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Guides (rating target, noise floor): black, thin, no markers, named at their right end.
GUIDE_LINES = {"target": (0, (6, 3)), "noise floor": (0, (1, 2))}


def draw(dataset: str, results: pd.DataFrame, curves: pd.DataFrame, path: Path) -> bool:
    """Each contest's primary metric on the test set against training time, for the
    contenders that enter it: median per epoch (or per fresh fit), band.

    The band spans the runs' minimum and maximum. The y range follows ``y_window``: what it
    leaves out is named on the panel and marked by triangles on the edge. Returns False
    (and writes nothing) when there is nothing to draw.
    """
    runs = results[(results["dataset"] == dataset) & (results["status"] == "ok")]
    joined = curves.merge(runs[["run_id", "model", "label", "backend"]], on="run_id")
    if joined.empty:
        return False
    panels = [  # a contest none of whose entrants has a curve of its metric: no empty panel
        metric
        for metric in metrics.primaries()
        if _entered(joined, metric)[f"test_{metric.column}"].notna().any()
    ]
    if not panels:
        return False
    groups = list(joined.groupby(["model", "label", "backend"], sort=False))
    names = [legend_name(label, backend) for (_, label, backend), _ in groups]
    figure, axes, plan = new_figure(len(panels), (5.4, 4.8), names)
    marks = markers((model, label) for (model, label, _), _ in groups)
    for one, metric in zip(axes, panels, strict=True):
        _convergence_panel(one, metric, groups, marks, runs)
    figure_legend(figure, axes, plan)
    title = f"{dataset}: convergence (median over runs, band = min–max)"
    wrapped = textwrap.fill(title, int(5.4 * len(panels) * 9))  # ~9 characters an inch
    if len(panels) == 1:  # over its panel, clear of a legend on the right
        axes[0].set_title(wrapped)
    else:
        figure.suptitle(wrapped)
    save(figure, path)
    return True


def _entered(joined: pd.DataFrame, metric: metrics.Metric) -> pd.DataFrame:
    """The curve rows of the contenders that enter ``metric``'s contest."""
    return joined[joined["model"].map(lambda m: models.enters(m, metric.contest)).astype(bool)]


def _convergence_panel(
    axes: Axes,
    metric: metrics.Metric,
    groups: list[tuple[tuple[str, str, str], pd.DataFrame]],
    marks: Mapping[str, str],
    runs: pd.DataFrame,
) -> None:
    column = f"test_{metric.column}"
    points: dict[str, list[float]] = {}
    finals: dict[str, float] = {}
    drawn: dict[str, tuple[Any, Any, str]] = {}
    for (model, label, backend), rows in groups:
        if not models.enters(model, metric.contest):  # a panel shows its contest's entrants
            continue
        by_epoch = rows.groupby("epoch")
        median = by_epoch[column].median()
        if median.isna().all():
            continue
        elapsed = by_epoch["elapsed_s"].median()
        name = legend_name(label, backend)
        look = style(model, label, backend, marks[label])
        axes.plot(elapsed, median, label=name, **{**look, "markersize": 3.5})
        low, high = by_epoch[column].min(), by_epoch[column].max()
        axes.fill_between(elapsed, low, high, alpha=0.15, color=look["color"], linewidth=0)
        points[name] = [*median, *low, *high]
        finals[name] = float(median.dropna().iloc[-1])
        drawn[name] = (elapsed, median, look["color"])
    guides = _guides(axes, runs) if metric.contest == Contest.RATING else []
    window = y_window(points, finals, guides, metric.higher_is_better)
    axes.set_ylim(window.low, window.high)
    axes.set_xscale("log")
    edge_marks(axes, window, drawn)
    note_off_scale(axes, window, metric.title)
    label_log_axes(axes)
    axes.set_xlabel("training time, s (log)")
    sampled = " (user sample)" if metric.contest == Contest.RANKING else ""
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_ylabel(f"test {metric.title}{sampled}, {better} is better")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")


def _guides(axes: Axes, runs: pd.DataFrame) -> list[float]:
    """The RMSE target and noise floor as labelled black lines; their values."""
    values = []
    for name, column in (("target", "rating_target"), ("noise floor", "noise_floor_rmse")):
        known = runs[column].dropna() if column in runs else pd.Series(dtype=float)
        if known.empty:
            continue
        value = float(known.iloc[0])
        axes.axhline(value, color="black", linestyle=GUIDE_LINES[name], linewidth=0.9)
        axes.annotate(
            f"{name} {value:.3g}",
            (1, value),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
        )
        values.append(value)
    return values
