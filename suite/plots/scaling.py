"""The cost-growth figure: time per epoch and fit memory against training ratings, log-log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from suite.plots.figure import figure_legend, new_figure, save
from suite.plots.look import legend_name, markers, style
from suite.plots.scales import label_log_axes


def draw(groups: list[pd.DataFrame], path: Path) -> None:
    """Log-log time per epoch and fit memory against training ratings, one line per group.

    Each group holds the summary rows of one (contender setting, backend) over data sizes.
    """
    firsts = [group.iloc[0] for group in groups]
    names = [legend_name(first["label"], first["backend"]) for first in firsts]
    figure, (ax_time, ax_memory), plan = new_figure(2, (5.4, 4.6), names)
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
    figure_legend(figure, [ax_time, ax_memory], plan)
    figure.suptitle("Cost growth (log-log)")
    save(figure, path)
