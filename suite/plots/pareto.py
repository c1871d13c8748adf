"""The Pareto figure: a contest's primary metric against fit time, with the frontier."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from suite import metrics, models
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.look import legend_name, markers, style
from suite.plots.scales import edge_marks, label_log_axes, note_off_scale, y_window

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _candidates(rows: pd.DataFrame, metric: metrics.Metric) -> pd.DataFrame:
    """Rows that are points: not a floor, with a positive fit time and a metric value."""
    score = rows[f"{metric.column}_mean"]
    fit = rows["fit_median"]
    keep = ~rows["model"].map(models.is_floor).astype(bool) & np.isfinite(score) & (fit > 0)
    return rows[keep]


def frontier(rows: pd.DataFrame, metric: metrics.Metric) -> list[Any]:
    """Index labels of the rows on the Pareto frontier of fit time and ``metric``, fastest first.

    A row is on it when no other row is at least as fast and at least as accurate, and
    strictly better in one of the two (``metric.higher_is_better`` says which way is
    better). Floors, and rows without a positive ``fit_median`` or a ``<metric>_mean``, are
    not candidates. Two rows equal in both are both on it.
    """
    points = _candidates(rows, metric)
    sign = 1.0 if metric.higher_is_better else -1.0
    score = sign * points[f"{metric.column}_mean"]
    order = pd.DataFrame({"fit": points["fit_median"], "score": score}).sort_values(
        ["fit", "score"], ascending=[True, False], kind="stable"
    )
    chosen: list[Any] = []
    best, best_fit = -math.inf, math.nan
    for index, fit, value in zip(order.index, order["fit"], order["score"], strict=True):
        if value > best or (value == best and fit == best_fit):
            chosen.append(index)
            best, best_fit = value, fit
    return chosen


def draw(dataset: str, rows: pd.DataFrame, metric: metrics.Metric, path: Path) -> bool:
    """``metric`` against fit time, one point per row, with the Pareto frontier as a step line.

    ``rows`` are one data set's summary rows, already restricted to the entrants of
    ``metric``'s contest (floors and swept labels may be among them). Each row is a point at
    (``fit_median``, ``<metric>_mean``) with bars for the fit time's min–max and the metric's
    standard deviation; floors are horizontal reference lines named at their left end. The
    frontier (``frontier``) is a black step line: the best value reached within each time.
    Points and floors off scale are named (``y_window``). Returns False, writing nothing,
    when fewer than two rows are points.
    """
    points = _candidates(rows, metric)
    if len(points) < 2:
        return False
    column = f"{metric.column}_mean"
    floors = rows[rows["model"].map(models.is_floor).astype(bool) & np.isfinite(rows[column])]
    names = [legend_name(a, b) for a, b in zip(points["label"], points["backend"], strict=True)]
    figure, (axes,), plan = new_figure(1, (8.0, 5.2), [*names, "Pareto frontier"])
    drawn = _pareto_points(axes, points, metric)
    _pareto_frontier(axes, rows.loc[frontier(rows, metric)], metric)
    floor_values = _pareto_floors(axes, floors, metric)
    spans = {name: [y - spread, y, y + spread] for name, (_, y, spread, _) in drawn.items()}
    spans |= {name: [value] for name, value in floor_values.items()}
    finals = {name: y for name, (_, y, _, _) in drawn.items()} | floor_values
    window = y_window(spans, finals, higher_is_better=metric.higher_is_better)
    axes.set_ylim(window.low, window.high)
    edge_marks(axes, window, {name: ([x], [y], c) for name, (x, y, _, c) in drawn.items()})
    note_off_scale(axes, window, metric.title, curve=False)
    label_log_axes(axes)
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_xlabel("fit time, s (median over runs, log; bar = min–max)")
    axes.set_ylabel(f"{metric.title} (mean over runs ± std), {better} is better")
    axes.set_title(f"{dataset}: {metric.title} vs fit time ({metric.contest.value})")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")
    figure_legend(figure, [axes], plan)
    save(figure, path)
    return True


def _pareto_points(
    axes: Axes, points: pd.DataFrame, metric: metrics.Metric
) -> dict[str, tuple[float, float, float, str]]:
    """Draw each row as a point with its spread; each name's x, y, y's std (0 if none) and
    colour."""
    marks = markers(zip(points["model"], points["label"], strict=True))
    drawn = {}
    for _, row in points.iterrows():
        name = legend_name(row["label"], row["backend"])
        look = style(row["model"], row["label"], row["backend"], marks[row["label"]])
        x, y = float(row["fit_median"]), float(row[f"{metric.column}_mean"])
        deviation = row.get(f"{metric.column}_std")
        deviation = float(deviation) if pd.notna(deviation) else 0.0
        axes.errorbar(
            x,
            y,
            xerr=_spread(x, row.get("fit_min"), row.get("fit_max")),
            yerr=deviation or None,
            label=name,
            elinewidth=0.8,
            capsize=0,
            **{**look, "linestyle": "none", "markersize": 6},
        )
        drawn[name] = (x, y, deviation, look["color"])
    axes.set_xscale("log")
    return drawn


def _spread(centre: float, low: Any, high: Any) -> list[list[float]] | None:
    if pd.isna(low) or pd.isna(high):
        return None
    return [[max(centre - low, 0.0)], [max(high - centre, 0.0)]]


def _pareto_frontier(axes: Axes, on: pd.DataFrame, metric: metrics.Metric) -> None:
    """The frontier as a step: the best value reached by each fit time, to the axis's end."""
    x = [*on["fit_median"], axes.get_xlim()[1]]
    y = [*on[f"{metric.column}_mean"], on[f"{metric.column}_mean"].iloc[-1]]
    axes.step(x, y, where="post", color="black", linewidth=1, zorder=1, label="Pareto frontier")
    axes.set_xlim(right=x[-1])


def _pareto_floors(axes: Axes, floors: pd.DataFrame, metric: metrics.Metric) -> dict[str, float]:
    """Each floor as a horizontal line in its grey, named at its left end; name: value."""
    values = {}
    for _, row in floors.iterrows():
        value = float(row[f"{metric.column}_mean"])
        name = f"{legend_name(row['label'], row['backend'])} (floor)"
        look = style(row["model"], row["label"], row["backend"])
        axes.axhline(value, color=look["color"], linestyle=look["linestyle"], linewidth=1.2)
        axes.annotate(
            f"{name} {value:.3g}",
            (0, value),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=7,
            color=look["color"],
            annotation_clip=True,
        )
        values[name] = value
    return values
