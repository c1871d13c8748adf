"""The claims figure: claim 3's deciding pairs, PyTorch's time to the target over the same
model's bespoke code's, per data set size and contest, with 95% intervals, on a log scale
around 1×."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from suite.analysis.figures import ClaimPoint
from suite.analysis.paired import PAR
from suite.plots.figure import pyplot, save
from suite.plots.scales import label_log_axes

#: Marker and colour of each contest's points.
CONTESTS = {"rating": ("o", "#1f77b4"), "ranking": ("s", "#d62728")}

#: Points whose sizes lie within this many decades of each other share a column: they are
#: dodged sideways, and their labels are kept apart (a label runs about a decade wide).
COLUMN_DECADES = 0.9

#: Sideways step between the points of one data size, in decades of the size axis.
DODGE_DECADES = 0.035

#: Least vertical distance between two labels of a column, as a share of the y axis's
#: decades (a 7-point line on the 4.6-inch figure).
LABEL_GAP = 0.045


def draw(points: list[ClaimPoint], title: str, path: Path) -> bool:
    """Each point's ratio against its data size (both log), an interval bar where it has one,
    a 1× line and the ±10% band of "on par"; False (nothing written) without points.

    Points of one size are spread sideways (``dodged``, the axis label says so) and the
    labels of a crowded column kept apart (``spread_labels``), each tied to its point by a
    thin line.
    """
    if not points:
        return False
    figure, axes = pyplot().subplots(figsize=(7.5, 4.6), layout="constrained")
    axes.axhspan(1 / PAR, PAR, color="0.9", zorder=0, label=f"on par (±{(PAR - 1) * 100:.0f}%)")
    axes.axhline(1.0, color="black", linewidth=0.9, zorder=1)
    x_of = dodged(points)
    for contest, (marker, colour) in CONTESTS.items():
        mine = [i for i, p in enumerate(points) if p.contest == contest]
        if not mine:
            continue
        x = np.array([x_of[i] for i in mine])
        y = np.array([points[i].ratio for i in mine])
        low = np.array([_below(points[i]) for i in mine])
        high = np.array([_above(points[i]) for i in mine])
        axes.errorbar(
            x, y, yerr=[low, high], fmt=marker, color=colour, capsize=3, label=f"{contest} contest"
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    sizes = [p.n_train for p in points]
    axes.set_xlim(min(sizes) / 2, max(sizes) * 6)  # room for the labels on the right
    label_log_axes(axes)
    y_low, y_high = axes.get_ylim()
    gap = LABEL_GAP * np.log10(y_high / y_low)
    label_y = spread_labels(points, gap)
    columns = _columns(points)
    right = {c: max(x for x, d in zip(x_of, columns, strict=True) if d == c) for c in columns}
    for i, point in enumerate(points):
        axes.annotate(
            point.label,
            (x_of[i], point.ratio),
            xytext=(right[columns[i]] * 10**DODGE_DECADES, label_y[i]),
            textcoords="data",
            fontsize=7,
            va="center",
            arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6, "shrinkA": 0},
        )
    crowded = any(x != point.n_train for x, point in zip(x_of, points, strict=True))
    axes.set_xlabel(
        "training ratings (log)" + ("; points of one size spread sideways" if crowded else "")
    )
    axes.set_ylabel("PyTorch's time to target / the bespoke code's (log)\n< 1: PyTorch faster")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3, which="major")
    axes.legend(fontsize=7, loc="best")
    save(figure, path)
    return True


def _below(point: ClaimPoint) -> float:
    return point.ratio - point.low if point.low is not None else 0.0


def _above(point: ClaimPoint) -> float:
    return point.high - point.ratio if point.high is not None else 0.0


def _columns(points: list[ClaimPoint]) -> list[int]:
    """Each point's column: the index of the smallest point of a chain of points whose sizes
    lie within ``COLUMN_DECADES`` of their neighbours', in order of size."""
    order = sorted(range(len(points)), key=lambda j: points[j].n_train)
    column = [0] * len(points)
    start = order[0]
    for previous, j in zip([order[0], *order], order, strict=False):
        if np.log10(points[j].n_train / points[previous].n_train) > COLUMN_DECADES:
            start = j
        column[j] = start
    return column


def dodged(points: list[ClaimPoint]) -> list[float]:
    """Each point's x: its size, moved sideways by ``DODGE_DECADES`` steps (centred) where
    several points share a size, so that their bars do not hide each other."""
    x = []
    for i, point in enumerate(points):
        same = sorted(
            (
                j
                for j, other in enumerate(points)
                if np.isclose(other.n_train, point.n_train, rtol=0.01)
            ),
            key=lambda j: points[j].ratio,
        )
        x.append(point.n_train * 10 ** (DODGE_DECADES * (same.index(i) - (len(same) - 1) / 2)))
    return x


def spread_labels(points: list[ClaimPoint], gap: float) -> list[float]:
    """The y of each point's label: at its ratio, but at least ``gap`` decades from every
    other label of its column (``_columns``), each column's labels shifted together so that
    they stay centred on their points."""
    log_y = np.log10([p.ratio for p in points])
    placed = log_y.copy()
    columns = _columns(points)
    for column in set(columns):
        members = sorted((i for i, c in enumerate(columns) if c == column), key=lambda i: log_y[i])
        wanted = log_y[members]
        spaced = wanted.copy()
        for k in range(1, len(spaced)):
            spaced[k] = max(spaced[k], spaced[k - 1] + gap)
        spaced -= (spaced - wanted).mean()  # centred on the points, not pushed upwards
        placed[members] = spaced
    return [float(10**value) for value in placed]
