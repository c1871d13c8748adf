"""The interactive figures of a run folder's page, as Bokeh figures (drawn in the browser by
the bundled BokehJS): Pareto (primary metric against fit time), convergence against training
time, and time per epoch.

Each is computed from the folder's summary (``suite.report.summarize``) and records, with the
same choices as the report's PNGs (``suite.plots``): the frontier, the floors as references,
the y window that names what it leaves out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from suite import metrics, models, plots, verdicts
from suite.models.base import Contest
from suite.plots.scales import y_window
from suite.site import look


@dataclass
class Figure:
    """One figure: its element id, the Bokeh model, and a caption (text)."""

    id: str
    model: Any
    caption: str = ""


def settings(runs: pd.DataFrame) -> str:
    """The settings (hyperparameters) a contender's runs share, ``name=value`` each; a value
    that differs between them reads "varies". Seed, threads and backend are left out (they
    are the repeats and the execution, shown on their own)."""
    found: dict[str, set[str]] = {}
    for text in runs["params"].dropna():
        try:
            params = json.loads(text) if isinstance(text, str) else dict(text)
        except (ValueError, TypeError):
            continue
        for name, value in params.items():
            if name not in ("seed", "n_threads", "backend") and value is not None:
                found.setdefault(name, set()).add(_value(value))
    return ", ".join(
        f"{name}={next(iter(values)) if len(values) == 1 else 'varies'}"
        for name, values in sorted(found.items())
    )


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def repeats(runs: pd.DataFrame) -> str:
    """Which folds and seeds the runs cover: ``"folds 0–4 × seeds 0, 1"``."""
    return f"folds {_span(runs['fold'])} × seeds {_span(runs['seed'])}"


def _span(values: pd.Series) -> str:
    known = sorted({int(v) for v in values.dropna()})
    if not known:
        return "?"
    if len(known) > 2 and known == list(range(known[0], known[-1] + 1)):
        return f"{known[0]}–{known[-1]}"
    return ", ".join(map(str, known))


def _own_runs(runs: pd.DataFrame, label: str, backend: str) -> pd.DataFrame:
    ok = runs[runs["status"] == "ok"]
    return ok[(ok["label"] == label) & (ok["backend"] == backend)]


def pareto(
    figure_id: str, dataset: str, rows: pd.DataFrame, runs: pd.DataFrame, contest: Contest
) -> Figure | None:
    """The contest's primary metric against fit time on one data set, one point per contender.

    A point is at (median fit time, mean metric) with bars for the fit time's min–max and
    the metric's std; its tooltip names the contender, its settings and the folds × seeds it
    ran. Floors are horizontal reference lines; the Pareto frontier is a black step line.
    A legend entry hides or shows its contender. None when no contender has a point.
    """
    from bokeh.models import ColumnDataSource

    metric = metrics.primary(contest)
    entrants = verdicts.entrants_of(rows, contest)
    column = f"{metric.column}_mean"
    floor = entrants["model"].map(models.is_floor).astype(bool)
    points = entrants[~floor & (entrants["fit_median"] > 0) & entrants[column].notna()]
    if points.empty:
        return None
    better = "higher" if metric.higher_is_better else "lower"
    drawn = look.new_figure(
        f"{dataset}: {metric.title} vs fit time ({verdicts.CONTEST_TITLES[contest].lower()})",
        "fit time, s (median over runs, log; bar = min–max)",
        f"{metric.title} (mean ± std), {better} is better",
    )
    marks = look.markers(zip(points["model"], points["label"], strict=True))
    items, tipped, spans, finals = [], [], {}, {}
    for row in points.to_dict("records"):
        name = look.legend_name(row["label"], row["backend"])
        x, y = float(row["fit_median"]), float(row[column])
        std = row[f"{metric.column}_std"]
        std = float(std) if np.isfinite(std) else 0.0
        low, high = float(row["fit_min"]), float(row["fit_max"])
        own = _own_runs(runs, row["label"], row["backend"])
        tip = look.hover(
            name,
            f"{metric.title} {y:.4f}" + (f" ± {std:.4f}" if std else ""),
            f"fit {x:.3g} s (median; min–max {low:.3g}–{high:.3g} s)",
            f"settings: {settings(own) or 'defaults'}",
            f"{int(row['runs'])} run(s): {repeats(own)}",
        )
        colour = look.colour(row["model"])
        bars = drawn.segment(
            x0=[low, x], y0=[y, y - std], x1=[high, x], y1=[y, y + std], color=colour
        )
        point = drawn.scatter(
            source=ColumnDataSource({"x": [x], "y": [y], "tip": [tip]}),
            marker=look.marker(marks[row["label"]]),
            size=11,
            fill_color=look.fill(row["model"], row["backend"]),
            line_color=colour,
            line_width=1.5,
        )
        items.append((name, [point, bars]))
        tipped.append(point)
        spans[name], finals[name] = [y - std, y, y + std], y
    x_ends = [float(points["fit_min"].min()) / 1.5, float(points["fit_max"].max()) * 1.5]
    for row in entrants[floor].to_dict("records"):
        name = f"{look.legend_name(row['label'], row['backend'])} (floor)"
        value = float(row[column])
        line = _level(drawn, value, x_ends, look.colour(row["model"]), name, metric.title)
        items.append((f"{name} {value:.4g}", [line]))
        tipped.append(line)
        spans[name], finals[name] = [value], value
    on = entrants.loc[plots.frontier(entrants, metric)]
    if len(on) > 1:
        step = drawn.step(
            [*on["fit_median"], x_ends[1]],
            [*on[column], on[column].iloc[-1]],
            mode="after",
            color="#000000",
            line_width=1,
        )
        items.append(("Pareto frontier", [step]))
    look.log_range(drawn, "x", *x_ends)
    caption = (
        f"{metric.title} against fit time on {dataset}: hover a point for its settings and "
        "runs; click a legend entry to hide or show it; drag to pan, scroll or box to zoom."
    )
    caption += _window(drawn, spans, finals, [], metric)
    look.finish(drawn, items, tipped)
    return Figure(figure_id, drawn, caption)


def _level(drawn: Any, value: float, x: Sequence[float], colour: str, name: str, title: str) -> Any:
    """A horizontal reference line across ``x`` (a floor, a target), with its tooltip."""
    from bokeh.models import ColumnDataSource

    tip = look.hover(name, f"{title} {value:.4f}")
    return drawn.line(
        source=ColumnDataSource({"x": list(x), "y": [value, value], "tip": [tip, tip]}),
        color=colour,
        line_dash="dashed",
        line_width=1.4,
    )


def _window(
    drawn: Any,
    spans: dict[str, list[float]],
    finals: dict[str, float],
    guides: list[float],
    metric: metrics.Metric,
) -> str:
    """Set the y range by ``suite.plots.scales.y_window``; a sentence naming what it leaves
    out (empty when nothing)."""
    from bokeh.models import Range1d

    window = y_window(spans, finals, guides, higher_is_better=metric.higher_is_better)
    drawn.y_range = Range1d(window.low, window.high)
    if not window.off_scale:
        return ""
    named = "; ".join(
        f"{item.name} ({metric.title} {item.value:.3g}, {item.side})" for item in window.off_scale
    )
    return f" Off scale (pan or zoom out to see): {named}."


def convergence(
    figure_id: str, dataset: str, runs: pd.DataFrame, curves: pd.DataFrame, metric: metrics.Metric
) -> Figure | None:
    """``metric`` on the test set against training time, per contender setting: the median
    over its runs at each epoch, with a band from their min to max. The rating contest
    shows the target and the noise floor where the runs recorded them. None without curves.
    """
    from bokeh.models import ColumnDataSource

    column = f"test_{metric.column}"
    ok = runs[runs["status"] == "ok"]
    joined = curves.merge(ok[["run_id", "model", "label", "backend"]], on="run_id")
    if joined.empty or column not in joined or joined[column].isna().all():
        return None
    sampled = " (user sample)" if metric.contest == Contest.RANKING else ""
    better = "higher" if metric.higher_is_better else "lower"
    drawn = look.new_figure(
        f"{dataset}: convergence, test {metric.title}",
        "training time, s (log)",
        f"test {metric.title}{sampled}, {better} is better",
    )
    groups = list(joined.groupby(["model", "label", "backend"], sort=False))
    marks = look.markers((model, label) for (model, label, _), _ in groups)
    items, tipped, spans, finals = [], [], {}, {}
    for (model, label, backend), rows in groups:
        by_epoch = rows.groupby("epoch")
        median = by_epoch[column].median()
        keep = median.notna()
        if not keep.any():
            continue
        elapsed = by_epoch["elapsed_s"].median()[keep]
        low, high = by_epoch[column].min()[keep], by_epoch[column].max()[keep]
        median = median[keep]
        name = look.legend_name(label, backend)
        colour = look.colour(model)
        count = rows["run_id"].nunique()
        tips = [
            look.hover(
                name,
                f"epoch {epoch}, {seconds:.3g} s",
                f"{metric.title} {value:.4f} (median of {count} run(s); min–max {lo:.4f}–{hi:.4f})",
            )
            for epoch, seconds, value, lo, hi in zip(
                median.index, elapsed, median, low, high, strict=True
            )
        ]
        source = ColumnDataSource(
            {
                "x": list(elapsed),
                "y": list(median),
                "low": list(low),
                "high": list(high),
                "tip": tips,
            }
        )
        glyphs = []
        if count > 1:
            glyphs.append(
                drawn.varea(
                    x="x", y1="low", y2="high", source=source, fill_color=colour, fill_alpha=0.15
                )
            )
        glyphs.append(
            drawn.line(
                x="x",
                y="y",
                source=source,
                color=colour,
                line_dash=look.dash(model),
                line_width=1.6,
            )
        )
        point = drawn.scatter(
            x="x",
            y="y",
            source=source,
            marker=look.marker(marks[label]),
            size=5,
            fill_color=look.fill(model, backend),
            line_color=colour,
        )
        glyphs.append(point)
        items.append((name, glyphs))
        tipped.append(point)
        spans[name] = [*median, *low, *high]
        finals[name] = float(median.iloc[-1])
    if not items:
        return None
    guides = _guides(drawn, ok, joined["elapsed_s"], metric, items, tipped)
    look.log_range(drawn, "x", *look.spread(joined["elapsed_s"]))
    caption = (
        f"Test {metric.title} against training time on {dataset}: the median over each "
        "contender's runs at every epoch, the band their min–max."
    )
    caption += _window(drawn, spans, finals, guides, metric)
    look.finish(drawn, items, tipped)
    return Figure(figure_id, drawn, caption)


def _guides(
    drawn: Any,
    runs: pd.DataFrame,
    elapsed: pd.Series,
    metric: metrics.Metric,
    items: list[tuple[str, list[Any]]],
    tipped: list[Any],
) -> list[float]:
    """The rating target and noise floor as named black lines (rating contest only)."""
    if metric.contest != Contest.RATING or not (elapsed > 0).any():
        return []
    ends = [float(elapsed[elapsed > 0].min()), float(elapsed.max())]
    values = []
    for name, column in (("target", "rating_target"), ("noise floor", "rating_noise_floor")):
        known = runs[column].dropna() if column in runs else pd.Series(dtype=float)
        if known.empty:
            continue
        value = float(known.iloc[0])
        line = _level(drawn, value, ends, "#000000", name, metric.title)
        items.append((f"{name} {value:.4g}", [line]))
        tipped.append(line)
        values.append(value)
    return values


def epoch_time(figure_id: str, dataset: str, rows: pd.DataFrame) -> Figure | None:
    """Median epoch time per 10⁶ ratings visited of each training contender, fastest on top
    (``suite.plots.seconds_per_million``). None when no contender has one."""
    from bokeh.models import ColumnDataSource

    trains = rows["model"].map(models.trains).astype(bool)
    seconds = plots.seconds_per_million(rows).where(trains)
    shown = rows.assign(seconds=seconds)[seconds.notna()].sort_values("seconds")
    if shown.empty:
        return None
    names = [look.legend_name(a, b) for a, b in zip(shown["label"], shown["backend"], strict=True)]
    left = float(shown["seconds"].min()) / 2
    drawn = look.new_figure(
        f"{dataset}: time per epoch",
        "seconds per 10⁶ ratings visited (median epoch, log)",
        "",
        y_range=list(reversed(names)),  # fastest on top
        height=max(240, 24 * len(shown) + 110),
    )
    tips = [
        look.hover(
            name,
            f"{value:.3g} s per 10⁶ ratings visited",
            f"median epoch {epoch:.3g} s, {per / max(epochs, 1):,.0f} ratings an epoch",
        )
        for name, value, epoch, per, epochs in zip(
            names,
            shown["seconds"],
            shown["epoch_s_median"],
            shown["ratings_processed"],
            shown["epochs"],
            strict=True,
        )
    ]
    source = ColumnDataSource(
        {
            "name": names,
            "right": list(shown["seconds"]),
            "left": [left] * len(names),
            "fill": [
                look.fill(m, b) for m, b in zip(shown["model"], shown["backend"], strict=True)
            ],
            "line": [look.colour(m) for m in shown["model"]],
            "text": [f"{value:.3g}" for value in shown["seconds"]],
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
    look.log_range(drawn, "x", left, float(shown["seconds"].max()) * 4)
    drawn.ygrid.grid_line_color = None
    look.finish(drawn, [], [bars])
    idle = [
        look.legend_name(a, b)
        for a, b, t in zip(rows["label"], rows["backend"], trains, strict=True)
        if not t
    ]
    caption = f"Time per epoch on {dataset}, per 10⁶ training ratings visited; fastest on top."
    if idle:
        caption += f" No bar, does not train: {', '.join(idle)}."
    return Figure(figure_id, drawn, caption)
