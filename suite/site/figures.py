"""The interactive figures of a run folder's page, as Bokeh figures (drawn in the browser by
the bundled BokehJS): Pareto (primary metric against fit time), convergence against training
time, and time per epoch.

Each draws the same figure data as the report's PNG (``suite.analysis.figures``): the points,
the frontier, the floors as references, the curves with their bands, the y window that names
what it leaves out. Nothing here computes a figure's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from suite.analysis.figures import Convergence, EpochTimes, Pareto, ParetoPoint
from suite.analysis.window import Window
from suite.metrics import Metric
from suite.site import bokeh_look
from suite.verdicts import CONTEST_TITLES


@dataclass
class Figure:
    """One figure: its element id, the Bokeh model, and a caption (text)."""

    id: str
    model: Any
    caption: str = ""


def _repeats(point: ParetoPoint) -> str:
    """Which folds and seeds a point's runs cover: ``"folds 0–4 × seeds 0, 1"``."""
    return f"folds {_span(point.folds)} × seeds {_span(point.seeds)}"


def _span(known: list[int]) -> str:
    if not known:
        return "?"
    if len(known) > 2 and known == list(range(known[0], known[-1] + 1)):
        return f"{known[0]}–{known[-1]}"
    return ", ".join(map(str, known))


def _settings(point: ParetoPoint) -> str:
    return ", ".join(f"{name}={value}" for name, value in point.settings.items())


def pareto(figure_id: str, chart: Pareto) -> Figure:
    """The contest's primary metric against fit time on one data set, one point per contender.

    A point is at (median fit time, mean metric) with bars for the fit time's min–max and
    the metric's std; its tooltip names the contender, its settings and the folds × seeds it
    ran. Floors are horizontal reference lines; the Pareto frontier is a black step line.
    A legend entry hides or shows its contender.
    """
    from bokeh.models import ColumnDataSource

    metric = chart.metric
    better = "higher" if metric.higher_is_better else "lower"
    drawn = bokeh_look.new_figure(
        f"{chart.dataset}: {metric.title} vs fit time ({CONTEST_TITLES[metric.contest].lower()})",
        "fit time, s (median over runs, log; bar = min–max)",
        f"{metric.title} (mean ± std), {better} is better",
    )
    marks = bokeh_look.markers((p.setting.model, p.setting.label) for p in chart.points)
    items, tipped = [], []
    for point in chart.points:
        one = point.setting
        x, y, std = point.fit_s, point.score, point.score_std
        tip = bokeh_look.hover(
            one.name,
            f"{metric.title} {y:.4f}" + (f" ± {std:.4f}" if std else ""),
            f"fit {x:.3g} s (median; min–max {point.fit_min:.3g}–{point.fit_max:.3g} s)",
            f"settings: {_settings(point) or 'defaults'}",
            f"{point.runs} run(s): {_repeats(point)}",
        )
        colour = bokeh_look.colour(one.model)
        bars = drawn.segment(
            x0=[point.fit_min, x], y0=[y, y - std], x1=[point.fit_max, x], y1=[y, y + std],
            color=colour,
        )  # fmt: skip
        dot = drawn.scatter(
            source=ColumnDataSource({"x": [x], "y": [y], "tip": [tip]}),
            marker=bokeh_look.marker(marks[one.label]),
            size=11,
            fill_color=bokeh_look.fill(one.model, one.backend),
            line_color=colour,
            line_width=1.5,
        )
        items.append((one.name, [dot, bars]))
        tipped.append(dot)
    x_ends = [
        min(p.fit_min for p in chart.points) / 1.5,
        max(p.fit_max for p in chart.points) * 1.5,
    ]
    for level in chart.floors:
        colour = bokeh_look.colour(level.setting.model) if level.setting else "#000000"
        line = _level(drawn, level.value, x_ends, colour, level.name, metric.title)
        items.append((f"{level.name} {level.value:.4g}", [line]))
        tipped.append(line)
    if len(chart.frontier) > 1:
        step = drawn.step(
            [*(p.fit_s for p in chart.frontier), x_ends[1]],
            [*(p.score for p in chart.frontier), chart.frontier[-1].score],
            mode="after",
            color="#000000",
            line_width=1,
        )
        items.append(("Pareto frontier", [step]))
    bokeh_look.log_range(drawn, "x", *x_ends)
    caption = (
        f"{metric.title} against fit time on {chart.dataset}: hover a point for its settings "
        "and runs; click a legend entry to hide or show it; drag to pan, scroll or box to zoom."
    )
    caption += _window(drawn, chart.window, metric)
    bokeh_look.finish(drawn, items, tipped)
    return Figure(figure_id, drawn, caption)


def _level(drawn: Any, value: float, x: Sequence[float], colour: str, name: str, title: str) -> Any:
    """A horizontal reference line across ``x`` (a floor, a target), with its tooltip."""
    from bokeh.models import ColumnDataSource

    tip = bokeh_look.hover(name, f"{title} {value:.4f}")
    return drawn.line(
        source=ColumnDataSource({"x": list(x), "y": [value, value], "tip": [tip, tip]}),
        color=colour,
        line_dash="dashed",
        line_width=1.4,
    )


def _window(drawn: Any, window: Window, metric: Metric) -> str:
    """Set the y range to the figure's window; a sentence naming what it leaves out (empty
    when nothing)."""
    from bokeh.models import Range1d

    drawn.y_range = Range1d(window.low, window.high)
    if not window.off_scale:
        return ""
    named = "; ".join(
        f"{item.name} ({metric.title} {item.value:.3g}, {item.side})" for item in window.off_scale
    )
    return f" Off scale (pan or zoom out to see): {named}."


def convergence(figure_id: str, chart: Convergence) -> Figure:
    """The chart's metric on the test set against training time, per contender setting: the
    median over its runs at each epoch, with a band from their min to max. The rating contest
    shows the target and the noise floor where the runs recorded them."""
    from bokeh.models import ColumnDataSource

    metric = chart.metric
    sampled = " (user sample)" if metric.contest.value == "ranking" else ""
    better = "higher" if metric.higher_is_better else "lower"
    drawn = bokeh_look.new_figure(
        f"{chart.dataset}: convergence, test {metric.title}",
        "training time, s (log)",
        f"test {metric.title}{sampled}, {better} is better",
    )
    marks = bokeh_look.markers((c.setting.model, c.setting.label) for c in chart.curves)
    items, tipped = [], []
    for curve in chart.curves:
        one = curve.setting
        colour = bokeh_look.colour(one.model)
        tips = [
            bokeh_look.hover(
                one.name,
                f"epoch {epoch}, {seconds:.3g} s",
                f"{metric.title} {value:.4f} (median of {curve.runs} run(s); min–max "
                f"{lo:.4f}–{hi:.4f})",
            )
            for epoch, seconds, value, lo, hi in zip(
                curve.epochs, curve.elapsed_s, curve.median, curve.low, curve.high, strict=True
            )
        ]
        source = ColumnDataSource(
            {
                "x": curve.elapsed_s,
                "y": curve.median,
                "low": curve.low,
                "high": curve.high,
                "tip": tips,
            }
        )
        glyphs = []
        if curve.runs > 1:
            glyphs.append(
                drawn.varea(
                    x="x", y1="low", y2="high", source=source, fill_color=colour, fill_alpha=0.15
                )
            )
        glyphs.append(
            drawn.line(
                x="x", y="y", source=source, color=colour, line_dash=bokeh_look.dash(one.model),
                line_width=1.6,
            )
        )  # fmt: skip
        dot = drawn.scatter(
            x="x",
            y="y",
            source=source,
            marker=bokeh_look.marker(marks[one.label]),
            size=5,
            fill_color=bokeh_look.fill(one.model, one.backend),
            line_color=colour,
        )
        glyphs.append(dot)
        items.append((one.name, glyphs))
        tipped.append(dot)
    elapsed = [t for curve in chart.curves for t in curve.elapsed_s]
    positive = [t for t in elapsed if t > 0]
    if positive:
        ends = [min(positive), max(elapsed)]
        for guide in chart.guides:
            line = _level(drawn, guide.value, ends, "#000000", guide.name, metric.title)
            items.append((f"{guide.name} {guide.value:.4g}", [line]))
            tipped.append(line)
    bokeh_look.log_range(drawn, "x", *bokeh_look.spread(elapsed))
    caption = (
        f"Test {metric.title} against training time on {chart.dataset}: the median over each "
        "contender's runs at every epoch, the band their min–max."
    )
    caption += _window(drawn, chart.window, metric)
    bokeh_look.finish(drawn, items, tipped)
    return Figure(figure_id, drawn, caption)


def epoch_time(figure_id: str, chart: EpochTimes) -> Figure:
    """Median epoch time per 10⁶ ratings visited of each training contender, fastest on top."""
    from bokeh.models import ColumnDataSource

    names = [bar.setting.name for bar in chart.bars]
    seconds = [bar.seconds_per_million for bar in chart.bars]
    left = min(seconds) / 2
    drawn = bokeh_look.new_figure(
        f"{chart.dataset}: time per epoch",
        "seconds per 10⁶ ratings visited (median epoch, log)",
        "",
        y_range=list(reversed(names)),  # fastest on top
        height=max(240, 24 * len(names) + 110),
    )
    tips = [
        bokeh_look.hover(
            bar.setting.name,
            f"{bar.seconds_per_million:.3g} s per 10⁶ ratings visited",
            f"median epoch {bar.epoch_s:.3g} s, {bar.ratings_per_epoch:,.0f} ratings an epoch",
        )
        for bar in chart.bars
    ]
    source = ColumnDataSource(
        {
            "name": names,
            "right": seconds,
            "left": [left] * len(names),
            "fill": [bokeh_look.fill(b.setting.model, b.setting.backend) for b in chart.bars],
            "line": [bokeh_look.colour(b.setting.model) for b in chart.bars],
            "text": [f"{value:.3g}" for value in seconds],
            "tip": tips,
        }
    )
    bars = drawn.hbar(
        y="name",
        left="left",
        right="right",
        height=0.7,
        source=source,
        fill_color="fill",
        line_color="line",
    )
    drawn.text(
        x="right",
        y="name",
        text="text",
        source=source,
        x_offset=4,
        text_baseline="middle",
        text_font_size="10px",
        text_color="#57606a",
    )
    bokeh_look.log_range(drawn, "x", left, max(seconds) * 4)
    drawn.ygrid.grid_line_color = None
    bokeh_look.finish(drawn, [], [bars])
    caption = (
        f"Time per epoch on {chart.dataset}, per 10⁶ training ratings visited; fastest on top."
    )
    if chart.idle:
        caption += f" No bar, does not train: {', '.join(chart.idle)}."
    return Figure(figure_id, drawn, caption)
