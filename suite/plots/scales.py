"""Axes a reader can trust: labelled log ticks on any span, and a y window that names
what it leaves out.

Every log axis carries labelled ticks on round numbers, however short its span
(``log_ticks``). An accuracy axis spans every point unless a few lie so far off that
including them would flatten the rest; those are then named on the axis, never dropped
silently (``y_window`` states the rule).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

#: A final value is typical within this many scaled median absolute deviations of the median
#: final value (the usual outlier rule; the MAD tolerates up to half the values far off).
FENCE = 3.0

#: Scales the median absolute deviation to the standard deviation for normal data.
MAD_TO_SD = 1.4826

#: A point is off scale beyond this many scales (see ``y_window``) outside the core.
REACH = 4.0

#: Share of a window's span left free above and below the points.
PAD = 0.05


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


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Tick texts of one axis: plain digits when every tick lies in [0.001, 100000), else
    powers of ten ("$10^{5}$", "$2\\times10^{5}$") for all, so an axis reads one way."""
    if all(1e-3 <= abs(tick) < 1e5 for tick in ticks):
        return [f"{tick:g}" for tick in ticks]
    return [_power_of_ten(tick) for tick in ticks]


def _power_of_ten(value: float) -> str:
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = float(f"{value / 10.0**exponent:.3g}")
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


@dataclass(frozen=True)
class OffScale:
    """A curve or point left out of an axis's view, and how far off it lies.

    Attributes
    ----------
    name : str
        Its legend name.
    value : float
        Its point furthest outside the window.
    side : str
        "above" or "below" the window.
    final : float
        Its final value (NaN when unknown).
    ends_off : bool
        Whether its final value lies outside too (it never comes into view), rather than
        only some early points.
    """

    name: str
    value: float
    side: str
    final: float
    ends_off: bool

    def describe(self, title: str, curve: bool = True) -> str:
        """One line for the axis, e.g. "name: RMSE ends at 2.78 ↑"."""
        final = self.final if self.ends_off else math.nan
        return f"{self.name}: {_how_far(self.value, final, self.side, title, curve)}"


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
        return [item.describe(title, curve) for item in items]
    groups: dict[str, list[OffScale]] = {}
    for item in items:
        groups.setdefault(re.sub(r"\[.*\]", "[…]", item.name), []).append(item)
    lines = []
    for name, members in groups.items():
        furthest = max(members, key=lambda o: abs(o.value))
        if len(members) == 1:
            lines.append(furthest.describe(title, curve))
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


@dataclass(frozen=True)
class Window:
    """The y range an axis shows, and what lies outside it (see ``y_window``)."""

    low: float
    high: float
    off_scale: tuple[OffScale, ...]


def y_window(
    points: Mapping[str, Sequence[float]],
    finals: Mapping[str, float],
    guides: Sequence[float] = (),
    higher_is_better: bool | None = None,
) -> Window:
    """The y range of an accuracy axis, and the curves or points it leaves out.

    The rule: the *core* spans the typical final values (within ``FENCE`` scaled median
    absolute deviations of their median: the usual outlier rule) and the guides. Its *scale*
    is the larger of the core's span and the median distance a curve travels (its largest
    minus its smallest point). A point more than ``REACH`` scales beyond the core is off
    scale; the window spans every other point and every guide, padded by ``PAD``. So a
    contender whose final value is far from everyone else's, or whose early epochs start
    far off, is named instead of flattening the others; nothing is left out silently. With
    ``higher_is_better`` set, only points on the worse side can be off scale: a contender
    far *better* than the crowd (a ranking model among rating models' NDCG) is the news, and
    stays in view.

    Parameters
    ----------
    points : mapping of name to values
        Every value drawn for each name (curve medians, band limits); NaN ignored.
    finals : mapping of name to float
        Each name's final value (its last median; for a scatter, the point itself).
    guides : sequence of float
        Reference values that must stay in view (the RMSE target, the noise floor).
    higher_is_better : bool, optional
        The metric's direction; None: either side may be off scale.

    Returns
    -------
    Window
        ``low`` and ``high`` of the view, and ``off_scale``: each name with a point outside,
        furthest first.
    """
    values = {name: _finite(v) for name, v in points.items()}
    values = {name: v for name, v in values.items() if v.size}
    guide_values = _finite(guides)
    if not values:
        return _padded(guide_values, ()) if guide_values.size else Window(0.0, 1.0, ())
    low, high = _allowed(values, finals, guide_values)
    if higher_is_better is not None:  # the better side is never off scale
        low, high = (low, math.inf) if higher_is_better else (-math.inf, high)
    found = [_off_scale(name, v, finals.get(name), low, high) for name, v in values.items()]
    outside = [item for item in found if item is not None]
    outside.sort(key=lambda o: -(o.value - high if o.side == "above" else low - o.value))
    kept = [v[(v >= low) & (v <= high)] for v in values.values()]
    return _padded(np.concatenate([*kept, guide_values]), tuple(outside))


def off_scale(
    points: Mapping[str, Sequence[float]],
    finals: Mapping[str, float],
    guides: Sequence[float] = (),
    higher_is_better: bool | None = None,
) -> list[str]:
    """The names ``y_window`` leaves out of view, furthest first."""
    window = y_window(points, finals, guides, higher_is_better)
    return [item.name for item in window.off_scale]


def _finite(values: Iterable[float]) -> np.ndarray:
    array = np.asarray(list(values), dtype=np.float64)
    return array[np.isfinite(array)]


def _allowed(
    values: Mapping[str, np.ndarray], finals: Mapping[str, float], guides: np.ndarray
) -> tuple[float, float]:
    """The band of y values in which a point is in scale (the rule of ``y_window``)."""
    last = _finite(finals.get(name, v[-1]) for name, v in values.items())
    centre = np.median(last) if last.size else np.nan
    deviation = MAD_TO_SD * np.median(np.abs(last - centre)) if last.size else np.nan
    typical = last[np.abs(last - centre) <= FENCE * deviation]
    core = np.concatenate([typical, guides])
    if not core.size:
        core = np.concatenate(list(values.values()))
    travel = float(np.median([v.max() - v.min() for v in values.values()]))
    scale = max(float(core.max() - core.min()), travel)
    scale = scale or abs(float(core.mean())) * 0.1 or 1.0
    return float(core.min()) - REACH * scale, float(core.max()) + REACH * scale


def _off_scale(
    name: str, values: np.ndarray, final: float | None, low: float, high: float
) -> OffScale | None:
    above, below = values[values > high], values[values < low]
    if not above.size and not below.size:
        return None
    side, value = ("above", above.max()) if above.size else ("below", below.min())
    if above.size and below.size and low - below.min() > above.max() - high:
        side, value = "below", below.min()
    final = values[-1] if final is None or not math.isfinite(final) else final
    return OffScale(name, float(value), side, float(final), bool(final > high or final < low))


def _padded(values: np.ndarray, off: tuple[OffScale, ...]) -> Window:
    low, high = float(values.min()), float(values.max())
    pad = (high - low) * PAD or abs(high) * PAD or PAD
    return Window(low - pad, high + pad, off)


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
