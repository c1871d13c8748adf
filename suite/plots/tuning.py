"""The tuning figure: every trial's validation score against its fit time, per contest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from suite.plots.contender_look import colour
from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.scales import label_log_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: The legend's entry for a winner's star (and how to read the rest).
WINNER = "winner (dots: trials; line: best by that fit time)"


def draw(title: str, trials: pd.DataFrame, path: Path) -> bool:
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
    figure, panels, plan = new_figure(len(contests), (6.5, 5.0), [*names, WINNER])
    for axes, contest in zip(panels, contests, strict=True):
        _tuning_panel(axes, done[done["contest"] == contest])
    figure_legend(figure, panels, plan)
    figure.suptitle(title)
    save(figure, path)
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
