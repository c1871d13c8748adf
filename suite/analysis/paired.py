"""Paired statistics of two contenders measured on the same runs: a difference, or a ratio.

Every interval the suite shows comes from this module, and no other computes one:

- ``paired_difference``: the mean of ``a − b`` over paired runs with the corrected resampled
  t-test of Nadeau & Bengio (2003), which Bouckaert & Frank (2004) extend to repeated k-fold
  cross-validation. The plain paired t-test treats the J (fold, seed) runs as independent,
  but their training sets overlap, which makes it find differences that are not there; the
  correction inflates the variance of the mean difference from ``s² / J`` to
  ``(1/J + n_test/n_train) · s²``. Accuracy is compared this way ("tied", "beats the floor").
- ``paired_ratio``: ``a`` over ``b`` as the geometric mean of the paired per-run ratios, with
  the t-interval of their logarithms (the same test on ``log a − log b``). Every speed ratio
  is one (times, times to a target, time per rating); with fewer than ``MIN_RUNS`` pairs it
  has no interval, and fits shorter than ``OVERHEAD_S`` are overhead-bound.
- ``holm``: Holm's step-down adjustment of a family of p-values (Holm 1979), which the
  claims protocol applies across its deciding comparisons.
- ``par_reading``: the one on-par rule. A ratio is "lower" (``a`` takes less) only when its
  whole interval lies below ``1 / PAR``, "higher" only when it lies above ``PAR``, "on par"
  only when it lies within, and "not resolved" otherwise.

References
----------
C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52 (2003).
R. R. Bouckaert and E. Frank, "Evaluating the Replicability of Significance Tests for
Comparing Learning Algorithms", PAKDD 2004.
S. Holm, "A Simple Sequentially Rejective Multiple Test Procedure", Scandinavian Journal of
Statistics 6 (1979).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Significance level of every test the suite shows.
ALPHA = 0.05

#: What the reports say the accuracy test is.
TEST_NAME = "corrected resampled paired t-test (Nadeau & Bengio) over the same folds × seeds"

#: A ratio whose interval lies within this factor either way of 1 is "on par".
PAR = 1.1

#: Pairs of runs a speed ratio needs for an interval (folds × seeds, or repeats).
MIN_RUNS = 3

#: Fits shorter than this (seconds) are dominated by fixed costs: they judge no speed.
OVERHEAD_S = 0.05


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


class Reading(enum.Enum):
    """What a ratio's interval says about ``a`` against ``b`` (``par_reading``)."""

    LOWER = "lower"  # a's figure is lower beyond PAR (for times: a is faster)
    HIGHER = "higher"  # a's figure is higher beyond PAR
    ON_PAR = "on par"  # the interval lies within PAR either way
    NOT_RESOLVED = "not resolved"  # the interval straddles a bound
    TOO_FEW = "too few runs"  # fewer than MIN_RUNS pairs: no interval
    OVERHEAD_BOUND = "overhead-bound"  # a fit under OVERHEAD_S: not judged


def par_reading(low: float, high: float) -> Reading:
    """The on-par rule applied to an interval ``[low, high]`` of a ratio."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return Reading.TOO_FEW
    if high < 1 / PAR:
        return Reading.LOWER
    if low > PAR:
        return Reading.HIGHER
    if low >= 1 / PAR and high <= PAR:
        return Reading.ON_PAR
    return Reading.NOT_RESOLVED


@dataclass(frozen=True)
class Ratio:
    """``a``'s figure over ``b``'s on the same runs: the geometric mean of the paired per-run
    ratios and its ``1 − ALPHA`` interval (NaN with fewer than ``MIN_RUNS`` pairs).

    ``quantity`` names what is divided (``"time to target"``, ``"fit time"``, ``"time per
    rating"``); ``a_median`` and ``b_median`` are each side's median over the pairs, for the
    reader (the ratio is not theirs: one slow pair can pull it far from them). ``seconds``
    says whether the medians are whole fits in seconds, which makes a ratio of fits shorter
    than ``OVERHEAD_S`` overhead-bound.
    """

    a: str
    b: str
    value: float
    low: float
    high: float
    runs: int
    a_median: float
    b_median: float
    quantity: str = "time to target"
    seconds: bool = True
    p: float = math.nan  # two-sided p-value of "no difference" (log ratio 0)
    corrected: bool = False  # the Nadeau–Bengio correction applied (overlapping training sets)

    @property
    def resolved(self) -> bool:
        """Whether the ratio has an interval (``MIN_RUNS`` pairs or more)."""
        return self.runs >= MIN_RUNS and math.isfinite(self.low)

    @property
    def overhead_bound(self) -> bool:
        """Whether a side's median fit is under ``OVERHEAD_S`` (fixed costs dominate it)."""
        return self.seconds and min(self.a_median, self.b_median) < OVERHEAD_S

    @property
    def judged(self) -> bool:
        """Whether a verdict may rest on it: an interval, and fits long enough to time."""
        return self.resolved and not self.overhead_bound

    @property
    def reading(self) -> Reading:
        """The on-par rule on its interval, or why it gives none."""
        if self.overhead_bound:
            return Reading.OVERHEAD_BOUND
        if not self.resolved:
            return Reading.TOO_FEW
        return par_reading(self.low, self.high)


def paired_ratio(
    a: pd.Series,
    b: pd.Series,
    a_name: str,
    b_name: str,
    quantity: str = "time to target",
    seconds: bool = True,
    test_fraction: float = 0.0,
) -> Ratio | None:
    """``a`` over ``b`` over the index values both have (e.g. ``(fold, seed)``).

    Pairs with a missing or non-positive value on either side are left out; None when no
    pair remains. The value is ``exp(mean(log a − log b))``; its interval the t-interval of
    that mean (``paired_difference`` on the logs), where ``MIN_RUNS`` pairs or more give one,
    and ``p`` its test of "no difference". ``test_fraction`` (``n_test / n_train``) applies
    the Nadeau–Bengio correction: the runs' training sets overlap (k folds, or random splits
    of one data set), so their times, like their scores, vary less from run to run than
    independent samples would; 0 (fresh data per run) leaves the plain t-interval.
    """
    pairs = pd.concat([a.astype(float), b.astype(float)], axis=1, join="inner").dropna()
    pairs = pairs[(pairs > 0).all(axis=1)]
    if pairs.empty:
        return None
    logs = np.log(pairs.iloc[:, 0]) - np.log(pairs.iloc[:, 1])
    difference = paired_difference(logs, pd.Series(0.0, index=logs.index), test_fraction)
    low = high = p = math.nan
    if difference is not None and len(pairs) >= MIN_RUNS:
        low, high = math.exp(difference.low), math.exp(difference.high)
        p = difference.p
    return Ratio(
        a_name,
        b_name,
        float(math.exp(logs.mean())),
        low,
        high,
        len(pairs),
        float(pairs.iloc[:, 0].median()),
        float(pairs.iloc[:, 1].median()),
        quantity,
        seconds,
        p,
        test_fraction > 0,
    )


def holm(p_values: list[float]) -> list[float]:
    """Holm's adjusted p-values, in the order given (NaN stays NaN and is not counted).

    The i-th smallest of the m p-values is multiplied by ``m − i + 1``, and each adjusted
    value is at least the one before it (and at most 1): rejecting where the adjusted value
    is below ``ALPHA`` keeps the chance of any false rejection in the family at ``ALPHA``.
    """
    finite = sorted((p, i) for i, p in enumerate(p_values) if math.isfinite(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(finite):
        running = max(running, min(1.0, (len(finite) - rank) * p))
        adjusted[i] = running
    return adjusted
