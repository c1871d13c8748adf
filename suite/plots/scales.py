"""Axes a reader can trust: labelled log ticks on any span, and the names of what an
accuracy axis's window (``suite.analysis.window``) leaves out of view.

Every log axis carries labelled ticks on round numbers, however short its span
(``log_ticks``).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from suite.analysis.window import OffScale, Window

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

# -- log axes ---------------------------------------------------------------------------------

_MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0))


def log_ticks(low: float, high: float) -> list[float]:
    """Round tick positions for a log axis from ``low`` to ``high`` (both > 0).

    Powers of ten when at least three fit (thinned to at most nine), else 1-2-5 steps, else
    finer mantissas, else evenly spaced round values: at least two ticks always lie inside,
    so an axis spanning less than a decade still reads.
    """
    low, high = min(low, high), max(low, high)
    if not low < high:
        return [low]
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for mantissas in _MANTISSAS:
        ticks = [float(f"{m * 10.0**e:.12g}") for e in range(first, last + 1) for m in mantissas]
        inside = [t for t in ticks if low <= t <= high]
        if len(inside) >= 3:
            return inside[:: math.ceil(len(inside) / 9)]
    from matplotlib.ticker import MaxNLocator

    values = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    return [float(f"{v:.12g}") for v in values if low <= v <= high]


def tick_labels(
    ticks: Sequence[float], power: Callable[[float, int], str] | None = None
) -> list[str]:
    """Tick texts of one axis: plain digits when every tick lies in [0.001, 100000), else
    powers of ten for all, so an axis reads one way: ``power(mantissa, exponent)`` writes one
    (default: matplotlib's mathtext, "$10^{5}$", "$2\\times10^{5}$")."""
    if all(1e-3 <= abs(tick) < 1e5 for tick in ticks):
        return [f"{tick:g}" for tick in ticks]
    write = power or _mathtext
    return ["0" if tick == 0 else write(*scientific(tick)) for tick in ticks]


def scientific(value: float) -> tuple[float, int]:
    """``value`` as (mantissa to three digits, power of ten): 2e5 -> (2.0, 5)."""
    exponent = math.floor(math.log10(abs(value)))
    return float(f"{value / 10.0**exponent:.3g}"), exponent


def _mathtext(mantissa: float, exponent: int) -> str:
    power = f"10^{{{exponent}}}"
    return f"${power}$" if mantissa == 1 else f"${mantissa:g}\\times{power}$"


def _label_log_axis(axis: Axis, limits: tuple[float, float]) -> None:
    """Round, labelled major ticks on a log axis already drawn, and unlabelled minor ones."""
    from matplotlib import ticker

    ticks = log_ticks(*limits)
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FixedFormatter(tick_labels(ticks)))
    axis.set_minor_locator(ticker.LogLocator(subs="all"))
    axis.set_minor_formatter(ticker.NullFormatter())


def label_log_axes(axes: Axes) -> None:
    """Label every log axis of ``axes`` (call once its limits are final)."""
    if axes.get_xscale() == "log":
        _label_log_axis(axes.xaxis, axes.get_xlim())
    if axes.get_yscale() == "log":
        _label_log_axis(axes.yaxis, axes.get_ylim())


# -- the y window ---------------------------------------------------------------------------


# -- what a window leaves out ------------------------------------------------------------------


def describe(item: OffScale, title: str, curve: bool = True) -> str:
    """One line for the axis, e.g. "name: RMSE ends at 2.78 ↑"."""
    final = item.final if item.ends_off else math.nan
    return f"{item.name}: {_how_far(item.value, final, item.side, title, curve)}"


def _how_far(value: float, final: float, side: str, title: str, curve: bool) -> str:
    """ "RMSE 2.77 ↑" for a point (or how far its spread reaches, with ``final`` NaN). For a
    curve, "ends at" its ``final`` value when that is off scale too, else how far its early
    points reach (``final`` NaN)."""
    arrow = "↑" if side == "above" else "↓"
    extreme = "max" if side == "above" else "min"
    if not curve and math.isnan(final):
        return f"{title} ± std {extreme} {value:.3g} {arrow}"
    if not curve:
        return f"{title} {final:.3g} {arrow}"
    if math.isnan(final):
        return f"{title} {extreme} {value:.3g} in early epochs {arrow}"
    if f"{final:.3g}" != f"{value:.3g}":
        return f"{title} ends at {final:.3g} ({extreme} {value:.3g}) {arrow}"
    return f"{title} ends at {final:.3g} {arrow}"


def off_scale_lines(
    items: Sequence[OffScale], title: str, curve: bool = True, most: int = 4
) -> list[str]:
    """A line per item; beyond ``most``, one per contender (a sweep's settings together)."""
    if len(items) <= most:
        return [describe(item, title, curve) for item in items]
    groups: dict[str, list[OffScale]] = {}
    for item in items:
        groups.setdefault(re.sub(r"\[.*\]", "[…]", item.name), []).append(item)
    lines = []
    for name, members in groups.items():
        furthest = max(members, key=lambda o: abs(o.value))
        if len(members) == 1:
            lines.append(describe(furthest, title, curve))
            continue
        lines.append(f"{name} ({len(members)} settings): {_group_note(members, title, curve)}")
    return lines


def _group_note(members: Sequence[OffScale], title: str, curve: bool) -> str:
    """How far several settings of one contender lie off scale, in one phrase."""
    furthest = max(members, key=lambda o: abs(o.value))
    arrow = "↑" if furthest.side == "above" else "↓"
    extreme = "max" if furthest.side == "above" else "min"
    ending = sum(o.ends_off for o in members)
    if not curve:
        value = furthest.final if furthest.ends_off else furthest.value
        return f"{title} {extreme} {value:.3g} {arrow}"
    if ending == 0:
        return f"{title} {extreme} {furthest.value:.3g} in early epochs {arrow}"
    which = "all" if ending == len(members) else f"{ending} of {len(members)}"
    return f"{title} {extreme} {furthest.value:.3g}, {which} end off scale {arrow}"


def note_off_scale(axes: Axes, window: Window, title: str, curve: bool = True) -> None:
    """Name what ``window`` leaves out, in a box at the axis's top (above) or bottom."""
    for side, corner in (("above", 0.98), ("below", 0.02)):
        items = [o for o in window.off_scale if o.side == side]
        if not items:
            continue
        lines = [textwrap.fill(line, 60) for line in off_scale_lines(items, title, curve)]
        axes.text(
            0.98,
            corner,
            "off scale (▲▼ on the edge):\n" + "\n".join(lines),
            transform=axes.transAxes,
            ha="right",
            va="top" if side == "above" else "bottom",
            fontsize=7,
            bbox={"facecolor": "white", "edgecolor": "0.5", "alpha": 0.9},
            zorder=10,
        )


def edge_marks(axes: Axes, window: Window, series: Mapping[str, tuple[Any, Any, str]]) -> None:
    """Each off-scale point of ``series`` (name: x, y, colour) as a triangle on the edge."""
    for item in window.off_scale:
        if item.name not in series:
            continue
        x, y, shade = series[item.name]
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        for beyond, edge, marker in (
            (y > window.high, window.high, "^"),
            (y < window.low, window.low, "v"),
        ):
            if beyond.any():
                axes.plot(
                    x[beyond],
                    np.full(int(beyond.sum()), edge),
                    linestyle="none",
                    marker=marker,
                    color=shade,
                    markersize=5,
                    clip_on=False,
                    zorder=5,
                )
