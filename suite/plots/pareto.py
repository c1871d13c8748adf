"""The Pareto figure: a contest's primary metric against fit time, with the frontier."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from suite.analysis.figures import Level, Pareto, ParetoPoint
from suite.plots.contender_look import markers, style
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.scales import edge_marks, label_log_axes, note_off_scale

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def draw(chart: Pareto, path: Path) -> bool:
    """``chart.metric`` against fit time, one point per contender setting, with the Pareto
    frontier as a step line.

    Each point is at (median fit time, mean metric) with bars for the fit time's min–max and
    the metric's standard deviation; floors are horizontal reference lines named at their
    left end. The frontier is a black step line: the best value reached within each time.
    Points and floors off scale are named (the chart's window). Returns False, writing
    nothing, when fewer than two settings are points.
    """
    if len(chart.points) < 2:
        return False
    metric = chart.metric
    names = [point.setting.name for point in chart.points]
    figure, (axes,), plan = new_figure(1, (8.0, 5.2), [*names, "Pareto frontier"])
    drawn = _pareto_points(axes, chart.points)
    _pareto_frontier(axes, chart.frontier)
    _pareto_floors(axes, chart.floors)
    window = chart.window
    axes.set_ylim(window.low, window.high)
    edge_marks(axes, window, drawn)
    note_off_scale(axes, window, metric.title, curve=False)
    label_log_axes(axes)
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_xlabel("fit time, s (median over runs, log; bar = min–max)")
    axes.set_ylabel(f"{metric.title} (mean over runs ± std), {better} is better")
    axes.set_title(f"{chart.dataset}: {metric.title} vs fit time ({metric.contest.value})")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")
    figure_legend(figure, [axes], plan)
    save(figure, path)
    return True


def _pareto_points(axes: Axes, points: list[ParetoPoint]) -> dict[str, tuple]:
    """Draw each point with its spread; each name's ([x], [y], colour), for the edge marks."""
    marks = markers((p.setting.model, p.setting.label) for p in points)
    drawn = {}
    for point in points:
        one = point.setting
        look = style(one.model, one.label, one.backend, marks[one.label])
        axes.errorbar(
            point.fit_s,
            point.score,
            xerr=[[max(point.fit_s - point.fit_min, 0.0)], [max(point.fit_max - point.fit_s, 0.0)]],
            yerr=point.score_std or None,
            label=one.name,
            elinewidth=0.8,
            capsize=0,
            **{**look, "linestyle": "none", "markersize": 6},
        )
        drawn[one.name] = ([point.fit_s], [point.score], look["color"])
    axes.set_xscale("log")
    return drawn


def _pareto_frontier(axes: Axes, on: list[ParetoPoint]) -> None:
    """The frontier as a step: the best value reached by each fit time, to the axis's end."""
    x = [*(point.fit_s for point in on), axes.get_xlim()[1]]
    y = [*(point.score for point in on), on[-1].score]
    axes.step(x, y, where="post", color="black", linewidth=1, zorder=1, label="Pareto frontier")
    axes.set_xlim(right=x[-1])


def _pareto_floors(axes: Axes, floors: list[Level]) -> None:
    """Each floor as a horizontal line in its grey, named at its left end."""
    for level in floors:
        one = level.setting
        look = style(one.model, one.label, one.backend)
        axes.axhline(level.value, color=look["color"], linestyle=look["linestyle"], linewidth=1.2)
        axes.annotate(
            f"{level.name} {level.value:.3g}",
            (0, level.value),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=7,
            color=look["color"],
            annotation_clip=True,
        )
