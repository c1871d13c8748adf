"""The report's figures: convergence, time per epoch, accuracy against fit time, cost growth.

How a contender looks is decided in ``suite.plots.look``, the axes in ``suite.plots.scales``.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from suite import metrics, models, safe_io
from suite.models.base import Contest
from suite.plots.look import colour, legend_name, markers, style
from suite.plots.scales import edge_marks, label_log_axes, note_off_scale, y_window

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110

#: Guides (RMSE target, noise floor): black, thin, no markers, named at their right end.
GUIDE_LINES = {"target": (0, (6, 3)), "noise floor": (0, (1, 2))}


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend (no display is ever needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# -- legends ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LegendPlan:
    """Where a figure's legend goes, and the room it needs (inches)."""

    below: bool
    columns: int
    width: float
    height: float


def _legend_plan(names: Sequence[str], plot_width: float) -> _LegendPlan:
    """Right of the panels in one column for up to 20 names; below them, in columns, beyond."""
    longest = max((len(name) for name in names), default=0)
    column = 0.06 * longest + 0.6  # inches a column takes at font size 7
    if len(names) <= 20:
        return _LegendPlan(False, 1, column, 0.0)
    columns = max(1, int(plot_width // column))
    rows = math.ceil(len(names) / columns)
    return _LegendPlan(True, columns, 0.0, 0.15 * rows + 0.3)


def _figure(
    panels: int, panel_size: tuple[float, float], names: Sequence[str]
) -> tuple[Figure, list[Axes], _LegendPlan]:
    """A figure of ``panels`` side by side with room for a legend of ``names``."""
    width, height = panel_size[0] * panels, panel_size[1]
    plan = _legend_plan(names, width)
    figure, axes = _pyplot().subplots(
        1,
        panels,
        figsize=(width + plan.width, height + plan.height),
        squeeze=False,
        layout="constrained",
    )
    return figure, list(axes[0]), plan


def _figure_legend(figure: Figure, axes: Iterable[Axes], plan: _LegendPlan) -> None:
    """One legend for every panel, each name once, where ``plan`` says."""
    entries: dict[str, Any] = {}
    for one in axes:
        for handle, label in zip(*one.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        figure.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center" if plan.below else "outside right upper",
            fontsize=7,
            ncols=plan.columns,
        )


# -- convergence ----------------------------------------------------------------------------


def convergence(dataset: str, results: pd.DataFrame, curves: pd.DataFrame, path: Path) -> bool:
    """Each primary metric on the test set against training time: median per epoch, band.

    The band spans the runs' minimum and maximum. The y range follows ``y_window``: what it
    leaves out is named on the panel and marked by triangles on the edge. Returns False
    (and writes nothing) when there is nothing to draw.
    """
    runs = results[(results["dataset"] == dataset) & (results["status"] == "ok")]
    joined = curves.merge(runs[["run_id", "model", "label", "backend"]], on="run_id")
    if joined.empty:
        return False
    panels = [  # a metric no run has a curve of (no rating model ran) gets no empty panel
        metric for metric in metrics.primaries() if joined[f"test_{metric.column}"].notna().any()
    ]
    if not panels:
        return False
    groups = list(joined.groupby(["model", "label", "backend"], sort=False))
    names = [legend_name(label, backend) for (_, label, backend), _ in groups]
    figure, axes, plan = _figure(len(panels), (5.4, 4.8), names)
    marks = markers((model, label) for (model, label, _), _ in groups)
    for one, metric in zip(axes, panels, strict=True):
        _convergence_panel(one, metric, groups, marks, runs)
    _figure_legend(figure, axes, plan)
    title = f"{dataset}: convergence (median over runs, band = min–max)"
    figure.suptitle(textwrap.fill(title, int(5.4 * len(panels) * 9)))  # ~9 characters an inch
    _save(figure, path)
    return True


def _convergence_panel(
    axes: Axes,
    metric: metrics.Metric,
    groups: list[tuple[tuple[str, str, str], pd.DataFrame]],
    marks: Mapping[str, str],
    runs: pd.DataFrame,
) -> None:
    column = f"test_{metric.column}"
    points: dict[str, list[float]] = {}
    finals: dict[str, float] = {}
    drawn: dict[str, tuple[Any, Any, str]] = {}
    for (model, label, backend), rows in groups:
        by_epoch = rows.groupby("epoch")
        median = by_epoch[column].median()
        if median.isna().all():
            continue
        elapsed = by_epoch["elapsed_s"].median()
        name = legend_name(label, backend)
        look = style(model, label, backend, marks[label])
        axes.plot(elapsed, median, label=name, **{**look, "markersize": 3.5})
        low, high = by_epoch[column].min(), by_epoch[column].max()
        axes.fill_between(elapsed, low, high, alpha=0.15, color=look["color"], linewidth=0)
        points[name] = [*median, *low, *high]
        finals[name] = float(median.dropna().iloc[-1])
        drawn[name] = (elapsed, median, look["color"])
    guides = _guides(axes, runs) if metric.contest == Contest.RATING else []
    window = y_window(points, finals, guides, metric.higher_is_better)
    axes.set_ylim(window.low, window.high)
    axes.set_xscale("log")
    edge_marks(axes, window, drawn)
    note_off_scale(axes, window, metric.title)
    label_log_axes(axes)
    axes.set_xlabel("training time, s (log)")
    sampled = " (user sample)" if metric.contest == Contest.RANKING else ""
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_ylabel(f"test {metric.title}{sampled}, {better} is better")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")


def _guides(axes: Axes, runs: pd.DataFrame) -> list[float]:
    """The RMSE target and noise floor as labelled black lines; their values."""
    values = []
    for name, column in (("target", "rmse_target"), ("noise floor", "noise_floor_rmse")):
        known = runs[column].dropna() if column in runs else pd.Series(dtype=float)
        if known.empty:
            continue
        value = float(known.iloc[0])
        axes.axhline(value, color="black", linestyle=GUIDE_LINES[name], linewidth=0.9)
        axes.annotate(
            f"{name} {value:.3g}",
            (1, value),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
        )
        values.append(value)
    return values


# -- time per epoch -------------------------------------------------------------------------


def seconds_per_million(rows: pd.DataFrame) -> pd.Series:
    """Median epoch time per 10⁶ training examples visited, per summary row (NaN if unknown).

    ``epoch_s_median / (ratings_processed / epochs) × 10⁶``: an epoch's time scaled by how
    many examples one epoch visits, so contenders with different epoch sizes compare.
    """
    unknown = pd.Series(np.nan, index=rows.index)
    per_epoch = rows.get("ratings_processed", unknown) / rows.get("epochs", unknown)
    seconds = rows["epoch_s_median"] / per_epoch * 1e6
    return seconds.where(np.isfinite(seconds) & (per_epoch > 0) & (seconds > 0))


def epoch_times(dataset: str, rows: pd.DataFrame, path: Path) -> bool:
    """Time per epoch per 10⁶ ratings visited of each training contender, fastest on top.

    ``rows`` are the summary rows of one data set. A contender that does not train
    (``Model.trains`` False) gets no bar; neither does one without a per-epoch time or an
    example count; the axis label names both kinds. Returns False (and writes nothing)
    when no bar can be drawn.
    """
    trains = rows["model"].map(models.trains).astype(bool)
    seconds = seconds_per_million(rows).where(trains)
    drawn = rows.assign(seconds=seconds)[seconds.notna()].sort_values("seconds")
    if drawn.empty:
        return False
    names = [
        legend_name(label, b) for label, b in zip(drawn["label"], drawn["backend"], strict=True)
    ]
    plt = _pyplot()
    longest = max(len(name) for name in names)  # room for the names, then 5 in of bars
    figure, axes = plt.subplots(
        figsize=(5.5 + 0.075 * longest, 0.3 * len(drawn) + 1.6), layout="constrained"
    )
    _bars(axes, drawn, names)
    axes.set_title(f"{dataset}: time per epoch, s per 10⁶ ratings visited", fontsize=10)
    axes.set_xlabel(_with_note("seconds per 10⁶ ratings visited (median epoch, log)", rows, trains))
    _save(figure, path)
    return True


def _bars(axes: Axes, drawn: pd.DataFrame, names: list[str]) -> None:
    values = drawn["seconds"].to_numpy()
    positions = np.arange(len(drawn))
    for y, value, model, backend in zip(
        positions, values, drawn["model"], drawn["backend"], strict=True
    ):
        filled = backend == "cpu"
        axes.barh(
            y,
            value,
            color=colour(model) if filled else "white",
            edgecolor=colour(model),
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
    axes.set_ylim(len(drawn) - 0.5, -0.5)  # fastest on top
    axes.set_xscale("log")
    axes.set_xlim(values.min() / 2, values.max() * 3)
    label_log_axes(axes)
    axes.grid(alpha=0.3, axis="x", which="major")


def _with_note(label: str, rows: pd.DataFrame, trains: pd.Series) -> str:
    """``label``, then which rows have no bar and why, wrapped."""
    seconds = seconds_per_million(rows)
    names = [legend_name(a, b) for a, b in zip(rows["label"], rows["backend"], strict=True)]
    idle = [n for n, t in zip(names, trains, strict=True) if not t]
    unknown = [n for n, t, s in zip(names, trains, seconds, strict=True) if t and pd.isna(s)]
    notes = []
    if idle:
        notes.append(f"no bar, does not train: {', '.join(idle)}")
    if unknown:
        notes.append(f"no bar, no per-epoch time or example count: {', '.join(unknown)}")
    return "\n".join([label, *(textwrap.fill(note, 90) for note in notes)])


# -- accuracy against fit time --------------------------------------------------------------


def _candidates(rows: pd.DataFrame, metric: metrics.Metric) -> pd.DataFrame:
    """Rows that are points: not a floor, with a positive fit time and a metric value."""
    score = rows[f"{metric.column}_mean"]
    fit = rows["fit_median"]
    keep = ~rows["model"].map(models.is_floor).astype(bool) & np.isfinite(score) & (fit > 0)
    return rows[keep]


def frontier(rows: pd.DataFrame, metric: metrics.Metric) -> list[Any]:
    """Index labels of the rows on the Pareto frontier of fit time and ``metric``, fastest first.

    A row is on it when no other row is at least as fast and at least as accurate, and
    strictly better in one of the two (``metric.higher_is_better`` says which way is
    better). Floors, and rows without a positive ``fit_median`` or a ``<metric>_mean``, are
    not candidates. Two rows equal in both are both on it.
    """
    points = _candidates(rows, metric)
    sign = 1.0 if metric.higher_is_better else -1.0
    score = sign * points[f"{metric.column}_mean"]
    order = pd.DataFrame({"fit": points["fit_median"], "score": score}).sort_values(
        ["fit", "score"], ascending=[True, False], kind="stable"
    )
    chosen: list[Any] = []
    best, best_fit = -math.inf, math.nan
    for index, fit, value in zip(order.index, order["fit"], order["score"], strict=True):
        if value > best or (value == best and fit == best_fit):
            chosen.append(index)
            best, best_fit = value, fit
    return chosen


def pareto(dataset: str, rows: pd.DataFrame, metric: metrics.Metric, path: Path) -> bool:
    """``metric`` against fit time, one point per row, with the Pareto frontier as a step line.

    ``rows`` are one data set's summary rows, already restricted to the entrants of
    ``metric``'s contest (floors and swept labels may be among them). Each row is a point at
    (``fit_median``, ``<metric>_mean``) with bars for the fit time's min–max and the metric's
    standard deviation; floors are horizontal reference lines named at their left end. The
    frontier (``frontier``) is a black step line: the best value reached within each time.
    Points and floors off scale are named (``y_window``). Returns False, writing nothing,
    when fewer than two rows are points.
    """
    points = _candidates(rows, metric)
    if len(points) < 2:
        return False
    column = f"{metric.column}_mean"
    floors = rows[rows["model"].map(models.is_floor).astype(bool) & np.isfinite(rows[column])]
    names = [legend_name(a, b) for a, b in zip(points["label"], points["backend"], strict=True)]
    figure, (axes,), plan = _figure(1, (8.0, 5.2), [*names, "Pareto frontier"])
    drawn = _pareto_points(axes, points, metric)
    _pareto_frontier(axes, rows.loc[frontier(rows, metric)], metric)
    floor_values = _pareto_floors(axes, floors, metric)
    spans = {name: [y - spread, y, y + spread] for name, (_, y, spread, _) in drawn.items()}
    spans |= {name: [value] for name, value in floor_values.items()}
    finals = {name: y for name, (_, y, _, _) in drawn.items()} | floor_values
    window = y_window(spans, finals, higher_is_better=metric.higher_is_better)
    axes.set_ylim(window.low, window.high)
    edge_marks(axes, window, {name: ([x], [y], c) for name, (x, y, _, c) in drawn.items()})
    note_off_scale(axes, window, metric.title, curve=False)
    label_log_axes(axes)
    better = "higher" if metric.higher_is_better else "lower"
    axes.set_xlabel("fit time, s (median over runs, log; bar = min–max)")
    axes.set_ylabel(f"{metric.title} (mean over runs ± std), {better} is better")
    axes.set_title(f"{dataset}: {metric.title} vs fit time ({metric.contest.value})")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")
    _figure_legend(figure, [axes], plan)
    _save(figure, path)
    return True


def _pareto_points(
    axes: Axes, points: pd.DataFrame, metric: metrics.Metric
) -> dict[str, tuple[float, float, float, str]]:
    """Draw each row as a point with its spread; each name's x, y, y's std (0 if none) and
    colour."""
    marks = markers(zip(points["model"], points["label"], strict=True))
    drawn = {}
    for _, row in points.iterrows():
        name = legend_name(row["label"], row["backend"])
        look = style(row["model"], row["label"], row["backend"], marks[row["label"]])
        x, y = float(row["fit_median"]), float(row[f"{metric.column}_mean"])
        deviation = row.get(f"{metric.column}_std")
        deviation = float(deviation) if pd.notna(deviation) else 0.0
        axes.errorbar(
            x,
            y,
            xerr=_spread(x, row.get("fit_min"), row.get("fit_max")),
            yerr=deviation or None,
            label=name,
            elinewidth=0.8,
            capsize=0,
            **{**look, "linestyle": "none", "markersize": 6},
        )
        drawn[name] = (x, y, deviation, look["color"])
    axes.set_xscale("log")
    return drawn


def _spread(centre: float, low: Any, high: Any) -> list[list[float]] | None:
    if pd.isna(low) or pd.isna(high):
        return None
    return [[max(centre - low, 0.0)], [max(high - centre, 0.0)]]


def _pareto_frontier(axes: Axes, on: pd.DataFrame, metric: metrics.Metric) -> None:
    """The frontier as a step: the best value reached by each fit time, to the axis's end."""
    x = [*on["fit_median"], axes.get_xlim()[1]]
    y = [*on[f"{metric.column}_mean"], on[f"{metric.column}_mean"].iloc[-1]]
    axes.step(x, y, where="post", color="black", linewidth=1, zorder=1, label="Pareto frontier")
    axes.set_xlim(right=x[-1])


def _pareto_floors(axes: Axes, floors: pd.DataFrame, metric: metrics.Metric) -> dict[str, float]:
    """Each floor as a horizontal line in its grey, named at its left end; name: value."""
    values = {}
    for _, row in floors.iterrows():
        value = float(row[f"{metric.column}_mean"])
        name = f"{legend_name(row['label'], row['backend'])} (floor)"
        look = style(row["model"], row["label"], row["backend"])
        axes.axhline(value, color=look["color"], linestyle=look["linestyle"], linewidth=1.2)
        axes.annotate(
            f"{name} {value:.3g}",
            (0, value),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=7,
            color=look["color"],
            annotation_clip=True,
        )
        values[name] = value
    return values


# -- cost growth ----------------------------------------------------------------------------


def scaling(groups: list[pd.DataFrame], path: Path) -> None:
    """Log-log time per epoch and fit memory against training ratings, one line per group.

    Each group holds the summary rows of one (contender setting, backend) over data sizes.
    """
    firsts = [group.iloc[0] for group in groups]
    names = [legend_name(first["label"], first["backend"]) for first in firsts]
    figure, (ax_time, ax_memory), plan = _figure(2, (5.4, 4.6), names)
    marks = markers((first["model"], first["label"]) for first in firsts)
    for group, first, name in zip(groups, firsts, names, strict=True):
        look = style(first["model"], first["label"], first["backend"], marks[first["label"]])
        timed = group[group["epoch_s_median"] > 0]
        ax_time.plot(timed["n_train"], timed["epoch_s_median"], label=name, **look)
        grown = group[group["fit_rss_growth_mb"] > 0]
        ax_memory.plot(grown["n_train"], grown["fit_rss_growth_mb"], label=name, **look)
    for axes, ylabel in ((ax_time, "seconds per epoch"), (ax_memory, "memory rise in fit, MB")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        label_log_axes(axes)
        axes.set_xlabel("training ratings (log)")
        axes.set_ylabel(f"{ylabel} (log)")
        axes.grid(alpha=0.3, which="major")
        axes.grid(alpha=0.1, which="minor")
    _figure_legend(figure, [ax_time, ax_memory], plan)
    figure.suptitle("Cost growth (log-log)")
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    try:
        safe_io.write_with(path, functools.partial(figure.savefig, dpi=DPI, format=path.suffix[1:]))
    finally:
        _pyplot().close(figure)


# -- tuning ---------------------------------------------------------------------------------


#: The legend's entry for a winner's star (and how to read the rest).
WINNER = "winner (dots: trials; line: best by that fit time)"


def tuning(title: str, trials: pd.DataFrame, path: Path) -> bool:
    """Each contender's tuning trials: validation score against fit time, one panel a contest.

    ``trials`` has one row per trial: ``model``, ``contest``, ``metric`` (its title),
    ``higher_is_better``, ``score`` (NaN unless the trial completed), ``fit_s`` and
    ``winner`` (the trial whose settings were kept; ``on_edge`` names its values at a range's
    edge). Completed trials are small dots, each contender's own Pareto frontier (the best
    score reached within each fit time) a step line in its colour, its winner a star. The
    window spans the winners with room around them; a trial far worse is left out of view,
    and its count is in the contender's legend name. Returns False, writing nothing, when no
    trial completed.
    """
    done = trials[(trials["state"] == "complete") & (trials["fit_s"] > 0)]
    if done.empty:
        return False
    contests = list(dict.fromkeys(done["contest"]))
    names = sorted(set(done["model"]))
    figure, panels, plan = _figure(len(contests), (6.5, 5.0), [*names, WINNER])
    for axes, contest in zip(panels, contests, strict=True):
        _tuning_panel(axes, done[done["contest"] == contest])
    _figure_legend(figure, panels, plan)
    figure.suptitle(title)
    _save(figure, path)
    return True


def _tuning_panel(axes: Axes, done: pd.DataFrame) -> None:
    higher = bool(done["higher_is_better"].iloc[0])
    title = str(done["metric"].iloc[0])
    winners = done[done["winner"]]
    best, worst = (winners["score"].max(), winners["score"].min())
    best, worst = (best, worst) if higher else (worst, best)
    room = max(abs(best - worst), 0.05 * abs(float(winners["score"].median())))
    low, high = (worst - room, best + 0.25 * room) if higher else (best - 0.25 * room, worst + room)
    for model, own in done.groupby("model", sort=True):
        shade = colour(str(model))
        hidden = int(((own["score"] < low) | (own["score"] > high)).sum())
        name = f"{model} ({hidden} of {len(own)} trials out of view)" if hidden else str(model)
        axes.scatter(own["fit_s"], own["score"], s=9, color=shade, alpha=0.35, linewidths=0)
        line = own.sort_values("fit_s")
        reach = line["score"].cummax() if higher else line["score"].cummin()
        axes.step(line["fit_s"], reach, where="post", color=shade, linewidth=1.2, label=name)
        for _, won in own[own["winner"]].iterrows():  # one winner per contender
            axes.scatter(
                won["fit_s"],
                won["score"],
                marker="*",
                s=150,
                color=shade,
                edgecolors="black",
                linewidths=0.6,
                zorder=5,
            )
            if won["on_edge"]:
                axes.annotate(
                    f"edge: {won['on_edge']}",
                    (won["fit_s"], won["score"]),
                    fontsize=7,
                    xytext=(6, -10 if higher else 6),
                    textcoords="offset points",
                )
    axes.scatter([], [], marker="*", s=150, color="white", edgecolors="black", label=WINNER)
    axes.set_ylim(low, high)
    axes.set_xscale("log")
    label_log_axes(axes)
    better = "higher" if higher else "lower"
    axes.set_xlabel("fit time of the trial, s (log)")
    axes.set_ylabel(f"validation {title}, {better} is better")
    axes.set_title(f"{done['contest'].iloc[0]}: {title}")
    axes.grid(alpha=0.3, which="major")
    axes.grid(alpha=0.1, which="minor", axis="x")
