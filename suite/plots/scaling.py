"""The cost-growth figure: time per epoch and fit memory against training ratings, log-log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suite.analysis.growth import Growth
from suite.plots.contender_look import legend_name, markers, style
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.scales import label_log_axes


def draw(found: list[Growth], path: Path) -> None:
    """Log-log time per epoch and fit memory against training ratings, one line per contender
    setting, each named with its fitted slope of time (1: linear in the ratings), and a
    dashed slope-1 guide."""
    firsts = [growth.rows.iloc[0] for growth in found]
    names = [
        legend_name(first["label"], first["backend"]) + _slope(growth)
        for growth, first in zip(found, firsts, strict=True)
    ]
    figure, (ax_time, ax_memory), plan = new_figure(2, (5.4, 4.6), names)
    marks = markers((first["model"], first["label"]) for first in firsts)
    for growth, first, name in zip(found, firsts, names, strict=True):
        group = growth.rows
        look = style(first["model"], first["label"], first["backend"], marks[first["label"]])
        timed = group[group["epoch_s_median"] > 0]
        ax_time.plot(timed["n_train"], timed["epoch_s_median"], label=name, **look)
        grown = group[group["fit_rss_growth_mb"] > 0]
        ax_memory.plot(grown["n_train"], grown["fit_rss_growth_mb"], label=name, **look)
    for axes in (ax_time, ax_memory):
        _slope_one(axes)
    for axes, ylabel in ((ax_time, "seconds per epoch"), (ax_memory, "memory rise in fit, MB")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        label_log_axes(axes)
        axes.set_xlabel("training ratings (log)")
        axes.set_ylabel(f"{ylabel} (log)")
        axes.grid(alpha=0.3, which="major")
        axes.grid(alpha=0.1, which="minor")
    figure_legend(figure, [ax_time, ax_memory], plan)
    figure.suptitle("Cost growth (log-log)")
    save(figure, path)


def _slope(growth: Growth) -> str:
    """`` (slope 1.05)``: the log-log least-squares slope of time per epoch, where it has
    two or more sizes."""
    found = growth.slopes["epoch_s_median"]
    return "" if found is None else f" (slope {found.slope:.2f})"


def _slope_one(axes: Any) -> None:
    """A dashed grey line of slope 1 through the middle of what the axes show: linear cost."""
    lines = [line for line in axes.get_lines() if len(line.get_xdata())]
    if not lines:
        return
    x = np.concatenate([np.asarray(line.get_xdata(), float) for line in lines])
    y = np.concatenate([np.asarray(line.get_ydata(), float) for line in lines])
    keep = (x > 0) & (y > 0)
    if not keep.any():
        return
    x, y = x[keep], y[keep]
    middle_x, middle_y = np.exp(np.log(x).mean()), np.exp(np.log(y).mean())
    span = np.array([x.min(), x.max()])
    axes.plot(span, middle_y * span / middle_x, color="0.5", linestyle=(0, (4, 3)), linewidth=0.9,
              label="slope 1 (linear)")  # fmt: skip
