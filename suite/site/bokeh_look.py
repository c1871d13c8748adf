"""How the site's interactive figures look, drawn with Bokeh (BokehJS, bundled in the site).

Each contender keeps the colour, line and marker of the report's PNGs
(``suite.plots.contender_look``), translated to Bokeh's names. Every figure has its legend
on the right, where a click hides or shows a contender (all its glyphs together), hover
tooltips, and pan, zoom, reset and save.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from suite.plots import contender_look, scales

#: ``suite.plots.contender_look.FAMILY_LINES``' families as Bokeh dashes.
DASHES = {
    "floor": "dotted",
    "torch": "solid",
    "numpy": "dashed",
    "numba": "dashdot",
    "implicit": "dotted",
    "lightfm": "dotdash",
    "surprise": [8, 3],
    "cornac": [6, 2, 1, 2],
    "pyspark": [3, 1, 3, 4],
    "other": [1, 4],
}

#: matplotlib's markers (``suite.plots.contender_look.MARKERS``) as Bokeh markers.
MARKERS = {
    "o": "circle",
    "s": "square",
    "^": "triangle",
    "D": "diamond",
    "v": "inverted_triangle",
    "P": "plus",
    "X": "x",
    "*": "star",
    "<": "triangle_dot",
    ">": "square_pin",
    "h": "hex",
    "p": "circle_cross",
}

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
#: A tooltip shows the glyph's ``tip`` column: HTML made by ``hover`` (escaped text).
TOOLTIP = '<div style="max-width: 26rem; font-size: 12px">@tip{safe}</div>'


def colour(model: str) -> str:
    """The contender's colour in every figure (hex)."""
    return contender_look.colour(model)


def dash(model: str) -> Any:
    """The line dash of the contender's family."""
    return DASHES.get(contender_look.family(model), "solid")


def marker(symbol: str) -> str:
    """A Bokeh marker for one of ``suite.plots.contender_look.MARKERS``."""
    return MARKERS.get(symbol, "circle")


def fill(model: str, backend: str) -> str:
    """Marker fill: the contender's colour on the CPU, white (hollow) on another backend."""
    return colour(model) if backend == "cpu" else "#ffffff"


def markers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A marker per label (``suite.plots.contender_look.markers``)."""
    return contender_look.markers(pairs)


def legend_name(label: str, backend: str) -> str:
    """How figures name a contender setting on a backend."""
    return contender_look.legend_name(label, backend)


def hover(*lines: str) -> str:
    """Tooltip HTML: the lines escaped, the first in bold, one per line."""
    shown = [html.escape(line, quote=False) for line in lines if line]
    if not shown:
        return ""
    return "<br>".join([f"<b>{shown[0]}</b>", *shown[1:]])


def new_figure(
    title: str,
    x_label: str,
    y_label: str,
    *,
    x_log: bool = True,
    y_log: bool = False,
    height: int = 430,
    **options: Any,
) -> Any:
    """A figure with the site's look: log axes where asked, light grid, tools above."""
    from bokeh.plotting import figure

    drawn = figure(
        title=title,
        x_axis_type="log" if x_log else "auto",
        y_axis_type="log" if y_log else "auto",
        height=height,
        sizing_mode="stretch_width",
        tools=TOOLS,
        toolbar_location="above",
        background_fill_color="#ffffff",
        border_fill_color="#ffffff",
        outline_line_color="#d8dee4",
        **options,
    )
    drawn.toolbar.logo = None
    drawn.title.text_font = FONT
    drawn.title.text_font_size = "13px"
    drawn.title.text_font_style = "bold"
    drawn.xaxis.axis_label, drawn.yaxis.axis_label = x_label, y_label
    for axis in (*drawn.xaxis, *drawn.yaxis):
        axis.axis_label_text_font = FONT
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_font_size = "12px"
        axis.major_label_text_font = FONT
        axis.major_label_text_font_size = "11px"
    drawn.grid.grid_line_color = "#e3e6ea"
    drawn.min_border_left = 60
    return drawn


def finish(drawn: Any, items: Sequence[tuple[str, list[Any]]], tipped: Sequence[Any]) -> None:
    """Add the legend (one entry per name, hiding all its glyphs on click) on the right, and
    a hover tool that shows the ``tip`` of the glyphs in ``tipped``.

    No glyph keeps the non-selection and muted copies Bokeh makes by default: the figures have
    no selection tool and the legend hides rather than mutes, so those copies were never
    drawn, yet they were a fifth of the models a page serialises and its browser parses
    (results/scaling's page: 3,275 → 2,647 models, 727 → 544 kB).
    """
    from bokeh.models import GlyphRenderer, HoverTool, Legend, LegendItem

    for renderer in drawn.renderers:
        if isinstance(renderer, GlyphRenderer):
            renderer.nonselection_glyph = None
            renderer.muted_glyph = None

    if items:
        legend = Legend(
            items=[LegendItem(label=name, renderers=list(glyphs)) for name, glyphs in items],
            click_policy="hide",
            title="click to hide or show",
            title_text_font_size="10px",
            title_text_font_style="italic",
            title_text_color="#57606a",
            label_text_font=FONT,
            label_text_font_size="11px",
            label_height=14,
            glyph_height=14,
            spacing=1,
            padding=4,
            border_line_color=None,
        )
        drawn.add_layout(legend, "right")
    if tipped:
        drawn.add_tools(HoverTool(renderers=list(tipped), tooltips=TOOLTIP))


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """A log axis's tick texts as the report's (``suite.plots.scales.tick_labels``), powers
    of ten written in Unicode (``10⁶``, ``2×10⁶``): Bokeh draws no mathtext."""
    return scales.tick_labels(ticks, _unicode_power)


def _unicode_power(mantissa: float, exponent: int) -> str:
    power = "10" + str(exponent).translate(_SUPERSCRIPTS)
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def log_range(drawn: Any, which: str, low: float, high: float) -> None:
    """Show ``low``–``high`` on the figure's log axis ``which`` ("x" or "y"), with round,
    labelled ticks (``suite.plots.scales.log_ticks``, as the report's figures have)."""
    from bokeh.models import FixedTicker, Range1d

    setattr(drawn, f"{which}_range", Range1d(low, high))
    ticks = scales.log_ticks(low, high)
    minor = [
        m * 10.0**e
        for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for m in range(1, 10)
        if low <= m * 10.0**e <= high
    ]
    axis = getattr(drawn, f"{which}axis")[0]
    axis.ticker = FixedTicker(ticks=ticks, minor_ticks=minor)
    axis.major_label_overrides = dict(zip(ticks, tick_labels(ticks), strict=True))


def spread(values: Iterable[float], pad: float = 1.25) -> tuple[float, float]:
    """A log axis's ends around the positive ``values``, ``pad`` times beyond each."""
    positive = [float(v) for v in values if v == v and v > 0]
    if not positive:
        return 0.1, 10.0
    return min(positive) / pad, max(positive) * pad
