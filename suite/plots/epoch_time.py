"""The time-per-epoch figure: seconds per 10⁶ ratings visited of each training contender."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from suite.analysis.figures import Bar, EpochTimes
from suite.plots.contender_look import colour
from suite.plots.figure import pyplot, save
from suite.plots.scales import label_log_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def draw(chart: EpochTimes, path: Path) -> bool:
    """Time per epoch per 10⁶ ratings visited of each training contender, fastest on top.

    A contender that does not train (``Model.trains`` False) gets no bar; neither does one
    without a per-epoch time or an example count; the axis label names both kinds. Returns
    False (and writes nothing) when no bar can be drawn.
    """
    if not chart.bars:
        return False
    names = [bar.setting.name + _factors(bar.factors) for bar in chart.bars]
    plt = pyplot()
    longest = max(len(name) for name in names)  # room for the names, then 5 in of bars
    figure, axes = plt.subplots(
        figsize=(5.5 + 0.075 * longest, 0.3 * len(chart.bars) + 1.6), layout="constrained"
    )
    _bars(axes, chart.bars, names)
    axes.set_title(f"{chart.dataset}: time per epoch, s per 10⁶ ratings visited", fontsize=10)
    axes.set_xlabel(_with_note("seconds per 10⁶ ratings visited (median epoch, log)", chart))
    save(figure, path)
    return True


def _bars(axes: Axes, bars: list[Bar], names: list[str]) -> None:
    values = np.array([bar.seconds_per_million for bar in bars])
    positions = np.arange(len(bars))
    for y, value, bar in zip(positions, values, bars, strict=True):
        filled = bar.setting.backend == "cpu"
        shade = colour(bar.setting.model)
        axes.barh(
            y,
            value,
            color=shade if filled else "white",
            edgecolor=shade,
            hatch=None if filled else "////",
            height=0.75,
        )
        axes.annotate(
            f"{value:.3g}",
            (value, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    axes.set_yticks(positions, names)
    axes.set_ylim(len(bars) - 0.5, -0.5)  # fastest on top
    axes.set_xscale("log")
    axes.set_xlim(values.min() / 2, values.max() * 3)
    label_log_axes(axes)
    axes.grid(alpha=0.3, axis="x", which="major")


def _with_note(label: str, chart: EpochTimes) -> str:
    """``label``, then which contenders have no bar and why, wrapped."""
    notes = []
    if chart.idle:
        notes.append(f"no bar, does not train: {', '.join(chart.idle)}")
    if chart.unknown:
        notes.append(f"no bar, no per-epoch time or example count: {', '.join(chart.unknown)}")
    return "\n".join([label, *(textwrap.fill(note, 90) for note in notes)])


def _factors(factors: float) -> str:
    """`` (32 factors)``: the work per rating grows with them, so each bar says how many."""
    return f" ({factors:g} factors)" if factors is not None and math.isfinite(factors) else ""
