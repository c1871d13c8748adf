"""Cost growth on a folder's page: time per epoch and the memory a fit adds, against training
ratings (log-log), with the fitted slopes, where a folder has several sizes of planted data.

What is shown, and the slopes, are the analysis layer's (``suite.analysis.growth``), as in
the report's ``scaling.png``.
"""

from __future__ import annotations

import math

import pandas as pd

from suite.analysis.growth import Growth
from suite.site import bokeh_look
from suite.site.figures import Figure
from suite.site.html import Table, number, text

#: The two costs: summary column, axis title, figure title.
COSTS = (
    ("epoch_s_median", "seconds per epoch (log)", "time per epoch"),
    ("fit_rss_growth_mb", "memory rise during fit, MB (log)", "memory a fit adds"),
)


def figures(prefix: str, found: list[Growth]) -> list[Figure]:
    """One log-log figure per cost: each contender's points joined by a line, and its fitted
    line dotted; the legend names the slope (1 = linear growth) and hides or shows both."""
    from bokeh.models import ColumnDataSource

    drawn = []
    for column, axis, title in COSTS:
        figure = bokeh_look.new_figure(
            f"Cost growth: {title}", "training ratings (log)", axis, y_log=True
        )
        items, tipped = [], []
        for growth in found:
            group = growth.rows
            first = group.iloc[0]
            name = bokeh_look.legend_name(first["label"], first["backend"])
            colour = bokeh_look.colour(first["model"])
            shown = group[group[column] > 0]
            if shown.empty:
                continue
            line = growth.slopes[column]
            tips = [
                bokeh_look.hover(name, f"{int(n):,} training ratings ({dataset})", f"{v:.3g}")
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
            values = pd.concat([g.rows[g.rows[column] > 0] for g in found])
            bokeh_look.log_range(figure, "x", *bokeh_look.spread(values["n_train"]))
            bokeh_look.log_range(figure, "y", *bokeh_look.spread(values[column]))
            bokeh_look.finish(figure, items, tipped)
            drawn.append(
                Figure(
                    f"{prefix}-{column}",
                    figure,
                    f"{title.capitalize()} against training ratings, log-log; dotted: the "
                    "least-squares fit whose slope the legend gives (1 = linear).",
                )
            )
    return drawn


def table(found: list[Growth]) -> Table:
    """Each contender setting's sizes, fitted slopes and its costs at the largest size."""
    rows = []
    for growth in found:
        group, last = growth.rows, growth.largest
        time, memory = growth.slopes["epoch_s_median"], growth.slopes["fit_rss_growth_mb"]
        rows.append(
            [
                text(bokeh_look.legend_name(last["label"], last["backend"])),
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
