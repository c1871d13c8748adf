"""The convergence figure: each contest's primary metric on the test set against training time."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from suite.analysis.figures import Convergence
from suite.plots.contender_look import markers, style
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.scales import edge_marks, label_log_axes, note_off_scale

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Guides (rating target, noise floor): black, thin, no markers, named at their right end.
GUIDE_LINES = {"target": (0, (6, 3)), "noise floor": (0, (1, 2))}


def draw(panels: list[Convergence], path: Path) -> bool:
    """Each contest's primary metric on the test set against training time (one panel per
    ``Convergence``), for the contenders that enter it: median per epoch (or per fresh fit),
    band.

    The band spans the runs' minimum and maximum. The y range is the panel's window: what it
    leaves out is named on the panel and marked by triangles on the edge. Returns False
    (and writes nothing) when there is nothing to draw.
    """
    if not panels:
        return False
    dataset = panels[0].dataset
    settings = list(dict.fromkeys(curve.setting for panel in panels for curve in panel.curves))
    names = [setting.name for setting in settings]
    figure, axes, plan = new_figure(len(panels), (5.4, 4.8), names)
    marks = markers((setting.model, setting.label) for setting in settings)
    for one, panel in zip(axes, panels, strict=True):
        _convergence_panel(one, panel, marks)
    figure_legend(figure, axes, plan)
    title = f"{dataset}: convergence (median over runs, band = min–max)"
    wrapped = textwrap.fill(title, int(5.4 * len(panels) * 9))  # ~9 characters an inch
    if len(panels) == 1:  # over its panel, clear of a legend on the right
        axes[0].set_title(wrapped)
    else:
        figure.suptitle(wrapped)
    save(figure, path)
    return True


def _convergence_panel(axes: Axes, panel: Convergence, marks: dict[str, str]) -> None:
    metric = panel.metric
    drawn = {}
    for curve in panel.curves:
        one = curve.setting
        look = style(one.model, one.label, one.backend, marks[one.label])
        axes.plot(curve.elapsed_s, curve.median, label=one.name, **{**look, "markersize": 3.5})
        axes.fill_between(
            curve.elapsed_s, curve.low, curve.high, alpha=0.15, color=look["color"], linewidth=0
        )
        drawn[one.name] = (curve.elapsed_s, curve.median, look["color"])
    for guide in panel.guides:
        axes.axhline(guide.value, color="black", linestyle=GUIDE_LINES[guide.name], linewidth=0.9)
        axes.annotate(
            f"{guide.name} {guide.value:.3g}",
            (1, guide.value),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
        )
    window = panel.window
    axes.set_ylim(window.low, window.high)
    axes.set_xscale("log")
    edge_marks(axes, window, drawn)
    note_off_scale(axes, window, metric.title)
    label_log_axes(axes)
    axes.set_xlabel("training time, s (log)")
    sampled = " (user sample)" if metric.contest.value == "ranking" else ""
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_ylabel(f"test {metric.title}{sampled}, {better} is better")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")
