"""How a contender looks in every figure of every report: colour, line, marker, fill.

- Colour: fixed per contender, by its place among the registry's (``suite.models.REGISTRY``)
  non-floor contenders in ``PALETTE``, twenty-one hues far apart in CIELAB. Floors
  (``Model.floor``: the trivial references) are drawn in greys, so they read as references.
- Line style: one per ``family`` (the library a contender is written with, from its class's
  ``requirements``, or "floor").
- Marker: one per setting of a contender (the labels of a sweep), in the order they come.
- Backend: filled markers on CPU, hollow on CUDA, half-filled on MPS; the legend adds
  "(cuda)" (``legend_name``).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from suite import models

#: Colours of the non-floor contenders, in registry order: matplotlib's tab10 without its
#: grey, then more picked greedily for CIELAB distance (the first thirteen at least 35 ΔE (CIE76)
#: from every other colour here and from the floors' greys, the last six at least 29, none too
#: light to read on white).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#000080",
    "#ff00ff",
    "#0a481e",
    "#0165fc",
    "#ff0789",
    "#8fb67b",
    "#886806",
    "#750851",
    "#ffa07a",
    "#9932cc",
    "#0000ff",
    "#00e100",
    "#00e1a5",
    "#c74767",
    "#fdb915",
    "#8b3103",
    "#a2bffe",
    "#017371",
    "#fdb0c0",
)

#: Floors take evenly spaced greys from this dark to this light (0 black, 1 white).
FLOOR_GREYS = (0.1, 0.55)

#: Line style of each family.
FAMILY_LINES: dict[str, Any] = {
    "floor": (0, (2, 1.5)),
    "torch": "-",
    "numpy": "--",
    "numba": "-.",
    "implicit": ":",
    "lightfm": (0, (4, 1, 1, 1, 1, 1)),
    "surprise": (0, (8, 2)),
    "cornac": (0, (6, 1.5, 1, 1.5, 1, 1.5)),
    "pyspark": (0, (3, 1, 3, 3)),
    "libmf": (0, (5, 1, 1, 1)),
    "other": (0, (1, 3)),
}

#: Marker fill of each backend: CPU filled, CUDA hollow, MPS half-filled.
BACKEND_FILLS = {"cpu": "full", "cuda": "none", "mps": "left"}

#: Markers of a contender's settings, in the order they appear in a figure.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def family(model: str) -> str:
    """The family of contender ``model``: "floor" for a floor, else the library it is written
    with (``suite.models.library``) where ``FAMILY_LINES`` has a line for it, else "other"."""
    if models.is_floor(model):
        return "floor"
    library = models.library(model)
    return library if library in FAMILY_LINES else "other"


@functools.cache
def _registry_colours() -> dict[str, str]:
    """Each registered contender's colour: palette by non-floor position, greys for floors."""
    import matplotlib.colors

    names = models.names()
    floors = [name for name in names if models.is_floor(name)]
    others = [name for name in names if not models.is_floor(name)]
    dark, light = FLOOR_GREYS
    greys = np.linspace(dark, light, len(floors)) if len(floors) > 1 else [dark] * len(floors)
    colours = {
        name: matplotlib.colors.to_hex((g, g, g)) for name, g in zip(floors, greys, strict=True)
    }
    colours |= {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(others)}
    return colours


def colour(model: str) -> str:
    """The fixed colour (hex) of contender ``model``; an unregistered name gets a stable one."""
    known = _registry_colours()
    if model in known:
        return known[model]
    return PALETTE[zlib.crc32(model.encode()) % len(PALETTE)]


def markers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A marker per label: each contender's labels (settings) take ``MARKERS`` in order.

    Parameters
    ----------
    pairs : iterable of (model, label)
        The contender and label of each thing a figure draws, in drawing order; repeats
        (the same label on two backends) share a marker.
    """
    chosen: dict[str, str] = {}
    per_model: dict[str, int] = {}
    for model, label in pairs:
        if label not in chosen:
            position = per_model.get(model, 0)
            chosen[label] = MARKERS[position % len(MARKERS)]
            per_model[model] = position + 1
    return chosen


def style(model: str, label: str, backend: str, marker: str = "o") -> dict[str, Any]:
    """Keyword arguments of ``plot`` for one (contender setting, backend) in every figure."""
    return {
        "color": colour(model),
        "linestyle": FAMILY_LINES[family(model)],
        "marker": marker,
        "fillstyle": BACKEND_FILLS.get(backend, "bottom"),
        "markersize": 4.5,
        "linewidth": 1.4,
    }


def legend_name(label: str, backend: str) -> str:
    """How figures and tables name a label on a backend: CPU plain, others "(cuda)" after."""
    return label if backend == "cpu" else f"{label} ({backend})"
