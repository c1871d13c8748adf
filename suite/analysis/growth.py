"""Cost growth over planted data sizes: time per epoch and the memory a fit adds, against
training ratings, with the slopes of their log-log least-squares fits (1 = linear growth).

A contender setting is shown when it ran on at least three planted data sets (one family of
data, so sizes are comparable) spanning a factor of ``MIN_SPAN`` or more (scaling-large's
10^6 to 2.5·10^7 ratings span 25).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The least ratio of largest to smallest training set over which a slope is fitted.
MIN_SPAN = 20

#: The two costs whose growth is fitted: summary column -> what it is.
COSTS = {"epoch_s_median": "time per epoch", "fit_rss_growth_mb": "memory a fit adds"}


@dataclass(frozen=True)
class Slope:
    """The least-squares fit of ``log10(cost) = slope · log10(n_train) + intercept``."""

    slope: float
    intercept: float
    points: int


@dataclass(frozen=True)
class Growth:
    """One contender setting's summary rows over planted sizes (smallest first) and the
    slope of each cost in ``COSTS`` (None with fewer than two positive values)."""

    rows: pd.DataFrame
    slopes: dict[str, Slope | None]

    @property
    def largest(self) -> pd.Series:
        return self.rows.iloc[-1]


def fit(group: pd.DataFrame, column: str) -> Slope | None:
    """The log-log fit of ``column`` against ``n_train`` over the group's positive values;
    None with fewer than two."""
    points = group[(group[column] > 0) & (group["n_train"] > 0)]
    if len(points) < 2:
        return None
    slope, intercept = np.polyfit(np.log10(points["n_train"]), np.log10(points[column]), 1)
    return Slope(float(slope), float(intercept), len(points))


def growths(summary: pd.DataFrame) -> list[Growth]:
    """Each contender setting measured at several planted sizes (see the module's docstring)."""
    if summary.empty or "fit_rss_growth_mb" not in summary:
        return []
    planted = summary[summary["rating_noise_floor"].notna()]
    found = []
    for _, group in planted.groupby(["label", "backend"], sort=False):
        group = group.sort_values("n_train")
        if len(group) >= 3 and group["n_train"].max() >= MIN_SPAN * group["n_train"].min():
            found.append(Growth(group, {column: fit(group, column) for column in COSTS}))
    return found
