"""How figures read in every output (REPORT.md, the README, CHECK.md, the site): one
convention for speed, stated once.

Every speed ratio reads as time: "A takes N× B's time" (below 1: A is faster), and says what
it is: the geometric mean of n paired runs with its 95% interval, or a single run
(``speed``). Sentences that name contenders in bold are fragments (``Strong``), so that the
Markdown and the HTML renderers draw the same sentence without parsing one another's markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from suite.analysis.paired import (
    ALPHA,
    MIN_RUNS,
    OVERHEAD_S,
    PAR,
    Difference,
    Ratio,
    Reading,
)

#: How every output states the convention, once.
CONVENTION = (
    "Every speed ratio reads as time: “A takes N× B's time” (below 1×, A is faster), the "
    f"geometric mean of the paired per-run ratios with its {1 - ALPHA:.0%} interval where "
    f"{MIN_RUNS} or more paired runs give one; within ±{(PAR - 1) * 100:.0f}% is on par, "
    f"fits under {OVERHEAD_S * 1000:.0f} ms judge nothing."
)


class Strong(str):
    """A fragment of a sentence shown in bold (a contender's name, a verdict)."""


#: A sentence: plain and bold fragments, in order.
Sentence = tuple[str, ...]


def sentence(*parts: str | Iterable[str]) -> Sentence:
    """A sentence of ``parts`` (strings, ``Strong`` fragments, or sequences of them)."""
    flat: list[str] = []
    for part in parts:
        if isinstance(part, str):
            flat.append(part)
        else:
            flat.extend(part)
    return tuple(flat)


def joined(items: Iterable[Sentence], separator: str = ", ") -> Sentence:
    """Sentences (or phrases) one after the other, ``separator`` between them."""
    out: list[str] = []
    for number, item in enumerate(items):
        if number:
            out.append(separator)
        out.extend(item)
    return tuple(out)


def markdown(text: Sentence | str) -> str:
    """A sentence as Markdown: bold fragments between ``**``."""
    if isinstance(text, str) and not isinstance(text, Strong):
        return text
    return "".join(f"**{part}**" if isinstance(part, Strong) else part for part in text)


def plain(text: Sentence | str) -> str:
    """A sentence as plain text (no emphasis)."""
    return text if isinstance(text, str) else "".join(text)


# -- numbers ------------------------------------------------------------------------------------


def times(value: float) -> str:
    """``0.087×``, ``0.24×``, ``1.23×``, ``35.1×``, ``120×``: a ratio with the digits its size
    deserves (two significant ones at least)."""
    return f"{figure(value)}×" if math.isfinite(value) else "n/a"


def figure(value: float) -> str:
    """A ratio's number, as ``times`` shows it, without the ×."""
    if not math.isfinite(value):
        return "n/a"
    if value < 0.1:
        return f"{value:.2g}"  # 0.0014, 0.087
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def bounds(low: float, high: float) -> str:
    """`` [0.50, 0.80]``: an interval of a ratio, each end with ``figure``'s digits; nothing
    where there is none."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f" [{figure(low)}, {figure(high)}]"


def si(value: Any) -> str:
    """``1.55M``: a count or rate with an SI suffix (``n/a`` for NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


def difference(found: Difference, digits: int = 4) -> str:
    """``"+0.0012 [−0.0003, +0.0027]"``: a difference and its confidence interval."""
    low, mean, high = (round(value, digits) + 0.0 for value in (found.low, found.mean, found.high))
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"  # + 0.0: no "-0.0"


def interval(ratio: Ratio) -> str:
    """`` [0.50, 0.80]``: a ratio's interval, or nothing where it has none."""
    return bounds(ratio.low, ratio.high) if ratio.resolved else ""


def basis(ratio: Ratio, medians: str = ".3g") -> str:
    """What a ratio is: ``"geometric mean of 5 paired runs; medians 0.23 s and 0.25 s"``, or
    ``"one run: 0.23 s and 0.25 s"`` (medians only where the figures are seconds)."""
    seconds = ratio.seconds and all(math.isfinite(v) for v in (ratio.a_median, ratio.b_median))
    shown = f"{format(ratio.a_median, medians)} s and {format(ratio.b_median, medians)} s"
    if ratio.runs == 1:
        return f"one run: {shown}" if seconds else "one run"
    kind = f"geometric mean of {ratio.runs} paired runs"
    if not ratio.resolved:
        kind += ", too few for an interval"
    return f"{kind}; medians {shown}" if seconds else kind


def speed(ratio: Ratio, medians: str = ".3g") -> str:
    """``"torch-als takes 0.25× numpy-als's time to target [0.09, 0.74] (geometric mean of 5
    paired runs; medians 0.185 s and 0.525 s)"``: the convention, in one phrase."""
    return (
        f"{ratio.a} takes {times(ratio.value)} {possessive(ratio.b)} {ratio.quantity}"
        f"{interval(ratio)} ({basis(ratio, medians)})"
    )


def own_speed(ratio: Ratio, other: str, medians: str = ".3g") -> str:
    """``"torch-mf on CUDA takes 0.26× its time per rating on the CPU [...] (...)"``: a
    contender against itself elsewhere (``other``: where, e.g. ``"on the CPU"``)."""
    return (
        f"{ratio.a} takes {times(ratio.value)} its {ratio.quantity} {other}"
        f"{interval(ratio)} ({basis(ratio, medians)})"
    )


def possessive(name: str) -> str:
    """``numba-sgd's`` (a contender's name, as code: always 's)."""
    return f"{name}'s"


def reading(ratio: Ratio) -> str:
    """What a ratio says: ``"torch-als faster"``, ``"on par"``, ``"not resolved"``, or why it
    judges nothing."""
    found = ratio.reading
    if found is Reading.OVERHEAD_BOUND:
        return f"overhead-bound (a fit under {OVERHEAD_S * 1000:.0f} ms): not judged"
    if found is Reading.TOO_FEW:
        return f"not resolved ({ratio.runs} paired run(s): too few for an interval)"
    if found is Reading.LOWER:
        return f"{ratio.a} faster"
    if found is Reading.HIGHER:
        return f"{ratio.b} faster"
    return found.value
