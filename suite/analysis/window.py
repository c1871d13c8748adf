"""The y window of an accuracy axis: the range every figure shows, and what it leaves out.

An accuracy axis spans every point unless a few lie so far off that including them would
flatten the rest; those are then named, never dropped silently (``y_window`` states the
rule). Both the report's PNGs and the site's figures take their window from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: A final value is typical within this many scaled median absolute deviations of the median
#: final value (the usual outlier rule; the MAD tolerates up to half the values far off).
FENCE = 3.0

#: Scales the median absolute deviation to the standard deviation for normal data.
MAD_TO_SD = 1.4826

#: A point is off scale beyond this many scales (see ``y_window``) outside the core.
REACH = 4.0

#: Share of a window's span left free above and below the points.
PAD = 0.05


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
