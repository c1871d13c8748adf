"""The time-per-epoch figure: seconds per 10⁶ ratings visited of each training contender."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from suite import models
from suite.plots.figure import pyplot, save
from suite.plots.look import colour, legend_name
from suite.plots.scales import label_log_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def seconds_per_million(rows: pd.DataFrame) -> pd.Series:
    """Median epoch time per 10⁶ training examples visited, per summary row (NaN if unknown).

    ``epoch_s_median / (ratings_processed / epochs) × 10⁶``: an epoch's time scaled by how
    many examples one epoch visits, so contenders with different epoch sizes compare.
    """
    unknown = pd.Series(np.nan, index=rows.index)
    per_epoch = rows.get("ratings_processed", unknown) / rows.get("epochs", unknown)
    seconds = rows["epoch_s_median"] / per_epoch * 1e6
    return seconds.where(np.isfinite(seconds) & (per_epoch > 0) & (seconds > 0))


def draw(dataset: str, rows: pd.DataFrame, path: Path) -> bool:
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
        legend_name(label, backend) + _factors(factors)
        for label, backend, factors in zip(
            drawn["label"],
            drawn["backend"],
            drawn.get("factors", [np.nan] * len(drawn)),
            strict=True,
        )
    ]
    plt = pyplot()
    longest = max(len(name) for name in names)  # room for the names, then 5 in of bars
    figure, axes = plt.subplots(
        figsize=(5.5 + 0.075 * longest, 0.3 * len(drawn) + 1.6), layout="constrained"
    )
    _bars(axes, drawn, names)
    axes.set_title(f"{dataset}: time per epoch, s per 10⁶ ratings visited", fontsize=10)
    axes.set_xlabel(_with_note("seconds per 10⁶ ratings visited (median epoch, log)", rows, trains))
    save(figure, path)
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


def _factors(factors: float) -> str:
    """`` (32 factors)``: the work per rating grows with them, so each bar says how many."""
    return f" ({factors:g} factors)" if factors is not None and np.isfinite(factors) else ""
