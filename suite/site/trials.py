"""A tuning folder's page content (``mfbench tune``): every trial's validation score against
its fit time, per contest, and the tables of winners and trials (``trials.csv``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from suite.site import bokeh_look
from suite.site.figures import Figure
from suite.site.html import Cell, Table, number, text


def _settings(params: dict) -> str:
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in sorted(params.items())
    )


def figures(prefix: str, trials: pd.DataFrame) -> list[Figure]:
    """One figure per contest: each contender's completed trials as dots, its frontier (the
    best score reached within each fit time) as a step line, its winner as a star; a legend
    entry hides or shows a contender (dots, line and star together)."""
    from bokeh.models import ColumnDataSource

    done = trials[(trials["state"] == "complete") & (trials["fit_s"] > 0)]
    drawn = []
    for contest, own in done.groupby("contest", sort=False):
        higher = bool(own["higher_is_better"].iloc[0])
        title = str(own["metric"].iloc[0])
        better = "higher" if higher else "lower"
        figure = bokeh_look.new_figure(
            f"{contest}: validation {title} of every trial",
            "fit time of the trial, s (log)",
            f"validation {title}, {better} is better",
            height=480,
        )
        items, tipped = [], []
        for model, points in own.groupby("model", sort=True):
            model = str(model)
            colour = bokeh_look.colour(model)
            tips = [
                bokeh_look.hover(
                    model + (" (winner)" if w else ""),
                    f"trial {int(t)}: validation {title} {s:.4f}, fit {f:.3g} s",
                    _settings(p),
                )
                for t, s, f, p, w in zip(
                    points["number"],
                    points["score"],
                    points["fit_s"],
                    points["params"],
                    points["winner"],
                    strict=True,
                )
            ]
            source = ColumnDataSource(
                {"x": list(points["fit_s"]), "y": list(points["score"]), "tip": tips}
            )
            dots = figure.scatter(x="x", y="y", source=source, color=colour, size=6, alpha=0.45)
            line = points.sort_values("fit_s")
            reach = line["score"].cummax() if higher else line["score"].cummin()
            step = figure.step(
                list(line["fit_s"]), list(reach), mode="after", color=colour, line_width=1.4
            )
            glyphs = [dots, step]
            won = points["winner"].to_numpy()
            if won.any():
                star = figure.scatter(
                    x="x",
                    y="y",
                    source=ColumnDataSource(
                        {
                            "x": list(points["fit_s"][won]),
                            "y": list(points["score"][won]),
                            "tip": [t for t, w in zip(tips, won, strict=True) if w],
                        }
                    ),
                    marker="star",
                    size=17,
                    fill_color=colour,
                    line_color="#000000",
                )
                glyphs.append(star)
                tipped.append(star)
            tipped.append(dots)
            items.append((model, glyphs))
        caption = (
            "Dots: completed trials; line: each contender's best score by that fit time; "
            "star: the winner. Click a legend entry to hide or show a contender."
        )
        caption += _window(figure, own, higher)
        bokeh_look.log_range(figure, "x", *bokeh_look.spread(own["fit_s"]))
        bokeh_look.finish(figure, items, tipped)
        drawn.append(Figure(f"{prefix}-{contest}", figure, caption))
    return drawn


def _window(figure: Any, done: pd.DataFrame, higher: bool) -> str:
    """The report's tuning window (``suite.plots.tuning``): the winners with room around
    them; a sentence on the trials it leaves out of view."""
    from bokeh.models import Range1d

    winners = done[done["winner"]]
    if winners.empty:
        return ""
    best, worst = winners["score"].max(), winners["score"].min()
    best, worst = (best, worst) if higher else (worst, best)
    room = max(abs(best - worst), 0.05 * abs(float(winners["score"].median())))
    low, high = (worst - room, best + 0.25 * room) if higher else (best - 0.25 * room, worst + room)
    figure.y_range = Range1d(low, high)
    hidden = int(((done["score"] < low) | (done["score"] > high)).sum())
    if not hidden:
        return ""
    return f" {hidden} of {len(done)} trials are out of view (pan or zoom out to see them)."


def winners_table(trials: pd.DataFrame) -> Table:
    """Each contender's winning trial: its validation score, settings and what is at a
    range's edge, with the count of trials by how they ended."""
    rows = []
    for model, own in trials.groupby("model", sort=False):
        won = own[own["winner"]]
        states = own["state"].value_counts()
        ended = ", ".join(f"{n} {state}" for state, n in states.items())
        first = won.iloc[0] if not won.empty else None
        rows.append(
            [
                text(model),
                text(own["metric"].iloc[0]),
                number(first["score"] if first is not None else None, 4),
                number(first["fit_s"] if first is not None else None, 3, style="g"),
                text(_settings(first["params"]) if first is not None else "no winner"),
                text((first["on_edge"] if first is not None else "") or "–"),
                Cell(f"{ended} of {len(own)}", len(own)),
            ]
        )
    return Table(
        [
            "contender",
            "metric",
            "validation score",
            "fit s",
            "winner's settings",
            "at a range's edge",
            "trials",
        ],
        rows,
        "The winner of each contender's search (the fastest trial within 0.1% of the best).",
        "contenders",
    )


def trials_table(trials: pd.DataFrame) -> Table:
    """Every trial: contender, number, how it ended, score, epochs kept, fit time, settings."""
    rows = [
        [
            text(row["model"]),
            text(row["contest"]),
            number(row.get("number"), 0),
            text(row["state"]),
            number(row["score"], 4),
            number(row.get("best_epoch"), 0),
            number(row["fit_s"], 3, style="g"),
            text("★ winner" if row["winner"] else ""),
            text(_settings(row["params"])),
        ]
        for _, row in trials.iterrows()
    ]
    return Table(
        [
            "contender",
            "contest",
            "trial",
            "state",
            "validation score",
            "best epoch",
            "fit s",
            "winner",
            "settings",
        ],
        rows,
        "Every trial of the search, pruned and failed ones included (trials.csv).",
        "trials",
    )
