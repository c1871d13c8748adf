"""Paired significance of a difference between two contenders measured on the same splits.

Every verdict the suite prints ("tied", "beats the floor", "changed") comes from
``paired_difference``: the corrected resampled t-test of Nadeau & Bengio (2003), which
Bouckaert & Frank (2004) extend to repeated k-fold cross-validation. The plain paired t-test
treats the J (fold, seed) runs as independent, but their training sets overlap, which makes
it find differences that are not there; the correction inflates the variance of the mean
difference from ``s² / J`` to ``(1/J + n_test/n_train) · s²``.

References
----------
C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52 (2003).
R. R. Bouckaert and E. Frank, "Evaluating the Replicability of Significance Tests for
Comparing Learning Algorithms", PAKDD 2004.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

#: Significance level of every test the suite prints.
ALPHA = 0.05

#: What the report says the test is.
TEST_NAME = "corrected resampled paired t-test (Nadeau & Bengio) over the same folds × seeds"


@dataclass(frozen=True)
class Difference:
    """``mean(a − b)`` over ``n`` paired runs, its ``1 − ALPHA`` confidence interval and the
    two-sided p-value of "no difference"."""

    mean: float
    low: float
    high: float
    p: float
    n: int

    @property
    def significant(self) -> bool:
        """Whether the difference is significant at ``ALPHA``."""
        return self.p < ALPHA

    def interval(self, digits: int = 4) -> str:
        """``"+0.0012 [−0.0003, +0.0027]"``: the difference and its confidence interval."""
        low, mean, high = (round(value, digits) + 0.0 for value in (self.low, self.mean, self.high))
        return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"  # + 0.0: no "-0.0"


def paired_difference(a: pd.Series, b: pd.Series, test_fraction: float) -> Difference | None:
    """The corrected paired t-test of ``a − b`` over the index values both have.

    Parameters
    ----------
    a, b : Series
        One value per run, indexed by what pairs them (e.g. ``(fold, seed)``); runs only one
        side has and NaN values are left out.
    test_fraction : float
        ``n_test / n_train`` of the splits (0 gives the uncorrected paired t-test).

    Returns
    -------
    Difference or None
        None when fewer than two pairs remain: no test is possible. Pairs whose differences
        are all equal have no spread: p is 1 (and the interval a point) when that difference
        is 0, else 0.
    """
    from scipy import stats

    pairs = pd.concat([a, b], axis=1, join="inner").dropna()
    n = len(pairs)
    if n < 2:
        return None
    difference = pairs.iloc[:, 0] - pairs.iloc[:, 1]
    mean = float(difference.mean())
    variance = float(difference.var(ddof=1))
    if variance <= 1e-24 * max(mean * mean, 1e-300):  # no spread (to rounding)
        return Difference(mean, mean, mean, 1.0 if mean == 0 else 0.0, n)
    error = math.sqrt((1 / n + test_fraction) * variance)
    t = mean / error
    p = float(2 * stats.t.sf(abs(t), df=n - 1))
    half = float(stats.t.ppf(1 - ALPHA / 2, df=n - 1)) * error
    return Difference(mean, mean - half, mean + half, p, n)
