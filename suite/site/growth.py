"""Cost growth on a folder's page: time per epoch and the memory a fit adds, against training
ratings (log-log), with the fitted slopes, where a folder has several sizes of planted data.

The choice of what is shown is the report's (``suite.report.scaling_section``): a contender
setting on at least three planted data sets (one family of data, so sizes compare) whose
training sets span a factor of ``suite.report.MIN_SPAN`` or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite import report
from suite.site import look
from suite.site.figures import Figure
from suite.site.html import Table, number, text

#: The two costs: summary column, axis title, figure title.
COSTS = (
    ("epoch_s_median", "seconds per epoch (log)", "time per epoch"),
    ("fit_rss_growth_mb", "memory rise during fit, MB (log)", "memory a fit adds"),
)


@dataclass(frozen=True)
class Slope:
    """The least-squares fit of ``log10(cost) = slope · log10(n_train) + intercept``."""

    slope: float
    intercept: float
    points: int


def fit(group: pd.DataFrame, column: str) -> Slope | None:
    """The log-log fit of ``column`` against ``n_train`` over the group's positive values;
    None with fewer than two."""
    points = group[(group[column] > 0) & (group["n_train"] > 0)]
    if len(points) < 2:
        return None
    slope, intercept = np.polyfit(np.log10(points["n_train"]), np.log10(points[column]), 1)
    return Slope(float(slope), float(intercept), len(points))


def groups(summary: pd.DataFrame) -> list[pd.DataFrame]:
    """The summary rows of each contender setting measured at several planted sizes, smallest
    first (see the module's docstring)."""
    if summary.empty or "fit_rss_growth_mb" not in summary:
        return []
    planted = summary[summary["rating_noise_floor"].notna()]
    found = []
    for _, group in planted.groupby(["label", "backend"], sort=False):
        group = group.sort_values("n_train")
        if len(group) >= 3 and group["n_train"].max() >= report.MIN_SPAN * group["n_train"].min():
            found.append(group)
    return found


def figures(prefix: str, found: list[pd.DataFrame]) -> list[Figure]:
    """One log-log figure per cost: each contender's points joined by a line, and its fitted
    line dotted; the legend names the slope (1 = linear growth) and hides or shows both."""
    from bokeh.models import ColumnDataSource

    drawn = []
    for column, axis, title in COSTS:
        figure = look.new_figure(
            f"Cost growth: {title}", "training ratings (log)", axis, y_log=True
        )
        items, tipped = [], []
        for group in found:
            first = group.iloc[0]
            name = look.legend_name(first["label"], first["backend"])
            colour = look.colour(first["model"])
            shown = group[group[column] > 0]
            if shown.empty:
                continue
            line = fit(group, column)
            tips = [
                look.hover(name, f"{int(n):,} training ratings ({dataset})", f"{v:.3g}")
                for n, v, dataset in zip(
                    shown["n_train"], shown[column], shown["dataset"], strict=True
                )
            ]
            source = ColumnDataSource(
                {"x": list(shown["n_train"]), "y": list(shown[column]), "tip": tips}
            )
            glyphs = [
                figure.line(x="x", y="y", source=source, color=colour, line_width=1.6),
                figure.scatter(x="x", y="y", source=source, color=colour, size=7),
            ]
            tipped.append(glyphs[-1])
            if line:
                ends = [float(shown["n_train"].min()), float(shown["n_train"].max())]
                fitted = [10 ** (line.intercept + line.slope * math.log10(n)) for n in ends]
                glyphs.append(
                    figure.line(ends, fitted, color=colour, line_width=1, line_dash="dotted")
                )
            items.append((name + (f" (slope {line.slope:.2f})" if line else ""), glyphs))
        if items:
            values = pd.concat([group[group[column] > 0] for group in found])
            look.log_range(figure, "x", *look.spread(values["n_train"]))
            look.log_range(figure, "y", *look.spread(values[column]))
            look.finish(figure, items, tipped)
            drawn.append(
                Figure(
                    f"{prefix}-{column}",
                    figure,
                    f"{title.capitalize()} against training ratings, log-log; dotted: the "
                    "least-squares fit whose slope the legend gives (1 = linear).",
                )
            )
    return drawn


def table(found: list[pd.DataFrame]) -> Table:
    """Each contender setting's sizes, fitted slopes and its costs at the largest size."""
    rows = []
    for group in found:
        last = group.iloc[-1]
        time, memory = fit(group, "epoch_s_median"), fit(group, "fit_rss_growth_mb")
        rows.append(
            [
                text(look.legend_name(last["label"], last["backend"])),
                number(len(group), 0),
                number(time.slope if time else None, 2),
                number(memory.slope if memory else None, 2),
                number(last["epoch_s_median"], 3, style="g"),
                number(last["fit_rss_growth_mb"], 0),
                number(last["n_train"], style=","),
            ]
        )
    return Table(
        [
            "contender",
            "sizes",
            "time slope",
            "memory slope",
            "s/epoch at largest",
            "fit memory MB at largest",
            "largest n_train",
        ],
        rows,
        "Slopes of the log-log fits (1 = cost grows linearly with the ratings).",
        "contenders",
    )
