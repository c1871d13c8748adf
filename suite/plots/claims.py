"""The claims figure: PyTorch's time to the target over the fastest other contender's, per
data set size and contest, with 95% intervals, on a log scale around 1×."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite.plots.figure import pyplot, save
from suite.plots.scales import label_log_axes

#: Marker and colour of each contest's points.
CONTESTS = {"rating": ("o", "#1f77b4"), "ranking": ("s", "#d62728")}


@dataclass(frozen=True)
class Point:
    """One ratio of a claim: at ``n_train`` training ratings, in ``contest``."""

    n_train: float
    ratio: float
    low: float | None
    high: float | None
    contest: str
    label: str  # "torch-als / libmf-sgd, ml-100k"


def draw(points: list[Point], title: str, path: Path) -> bool:
    """Each point's ratio against its data size (both log), an interval bar where it has one,
    a 1× line and the ±10% band of "on par"; False (nothing written) without points."""
    if not points:
        return False
    figure, axes = pyplot().subplots(figsize=(7.5, 4.6), layout="constrained")
    axes.axhspan(1 / 1.1, 1.1, color="0.9", zorder=0, label="on par (±10%)")
    axes.axhline(1.0, color="black", linewidth=0.9, zorder=1)
    for contest, (marker, colour) in CONTESTS.items():
        mine = [p for p in points if p.contest == contest]
        if not mine:
            continue
        x = np.array([p.n_train for p in mine])
        y = np.array([p.ratio for p in mine])
        low = np.array([p.ratio - p.low if p.low is not None else 0.0 for p in mine])
        high = np.array([p.high - p.ratio if p.high is not None else 0.0 for p in mine])
        axes.errorbar(
            x, y, yerr=[low, high], fmt=marker, color=colour, capsize=3, label=f"{contest} contest"
        )
        for point in mine:
            axes.annotate(
                point.label,
                (point.n_train, point.ratio),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=7,
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    sizes = [p.n_train for p in points]
    axes.set_xlim(min(sizes) / 2, max(sizes) * 6)  # room for the labels on the right
    label_log_axes(axes)
    axes.set_xlabel("training ratings (log)")
    axes.set_ylabel("PyTorch / fastest other, time to target (log)\n< 1: PyTorch faster")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3, which="major")
    axes.legend(fontsize=7, loc="best")
    save(figure, path)
    return True
