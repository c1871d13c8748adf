"""The targets of "PyTorch at its best on CPU", judged from one folder's runs.

Each target is a threshold on one figure that has a 95% interval over paired runs (folds ×
seeds). A target is **met** when the whole interval lies on the threshold's good side,
**missed** when it lies wholly on the other, **not resolved** when the interval straddles the
threshold (or there are too few runs for one), and **not measured** when the folder lacks the
runs. ``mfbench report`` lists them in a folder's REPORT.md (section "Targets").

The bespoke side is every contender that is not PyTorch (numba-sgd, Cornac, LIBMF, ...), each
at the settings the folder ran it with; ratios are ``PyTorch / bespoke``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite import models, stats
from suite import results as results_io
from suite.claims import Ratio, fastest, time_ratio
from suite.models.base import Contest
from suite.verdicts import test_fraction

#: The data sets the targets are set on.
MOVIELENS = "ml-100k"
SMALL = "synthetic-seed-2017"


@dataclass(frozen=True)
class Judged:
    """One target, its deciding figure with a 95% interval, and its state."""

    target: str
    figure: str
    state: str  # met | missed | not resolved | not measured


#: What a target's check gives: its figure and state, or None when the runs are missing.
Found = tuple[str, str] | None


def state(low: float, high: float, threshold: float, at_most: bool) -> str:
    """``met`` / ``missed`` / ``not resolved`` of an interval against ``threshold``
    (``at_most``: the figure must not exceed it; else it must reach it)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not resolved"
    good, bad = (
        (high <= threshold, low > threshold) if at_most else (low >= threshold, high < threshold)
    )
    return "met" if good else "missed" if bad else "not resolved"


def _both(*states: str) -> str:
    """Several conditions of one target: missed if any is, met if all are."""
    if "missed" in states:
        return "missed"
    return "met" if all(s == "met" for s in states) else "not resolved"


def _ok(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return runs[
        (runs["dataset"] == dataset) & (runs["status"] == "ok") & (runs["backend"] == "cpu")
    ]


def _ratio(runs: pd.DataFrame, a: str, b: str, column: str) -> Ratio | None:
    """``a``'s ``column`` over ``b``'s, paired by run; None where a side or the column is absent."""
    if column not in runs or not {a, b} <= set(runs["label"]):
        return None
    return time_ratio(runs, a, b, column)


def _interval(ratio_low: float, ratio_high: float) -> str:
    return f" [{ratio_low:.2f}, {ratio_high:.2f}]" if math.isfinite(ratio_low) else " (no interval)"


def _time_to_rmse(results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, MOVIELENS)
    target = runs["rating_target"].dropna()
    mine = fastest(runs, Contest.RATING, models.is_pytorch)
    theirs = fastest(runs, Contest.RATING, lambda m: not models.is_pytorch(m))
    if target.empty or mine is None or theirs is None:
        return None
    ratio = _ratio(runs, mine, theirs, "time_to_rating_target_s")
    if ratio is None:
        return None
    figure = (
        f"RMSE {target.iloc[0]:g}: {mine} / {theirs} = {ratio.value:.2f}×"
        f"{_interval(ratio.low, ratio.high)} ({ratio.a_median:.2f} s against "
        f"{ratio.b_median:.2f} s, {ratio.runs} runs)"
    )
    return figure, state(ratio.low, ratio.high, 1.0, at_most=True)


def _ials(results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, MOVIELENS)
    fit = _ratio(runs, "torch-ials", "implicit-als", "fit_s")
    ndcg = _ratio(runs, "torch-ials", "implicit-als", "ndcg_at_10")
    if fit is None or ndcg is None:
        return None
    figure = (
        f"fit {fit.value:.2f}×{_interval(fit.low, fit.high)} ({fit.a_median:.2f} s against "
        f"{fit.b_median:.2f} s); NDCG@10 {ndcg.value:.3f}×{_interval(ndcg.low, ndcg.high)}; "
        f"{fit.runs} runs, factors {_factors(runs, 'torch-ials')} and "
        f"{_factors(runs, 'implicit-als')}"
    )
    verdict = _both(
        state(fit.low, fit.high, 1.5, at_most=True),
        state(ndcg.low, ndcg.high, 0.98, at_most=False),
    )
    return figure, verdict


def _bpr(results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, MOVIELENS)
    if "ndcg_at_10" not in runs or "test_ndcg_at_10" not in curves:
        return None
    theirs = runs[runs["label"] == "implicit-bpr"].set_index(["fold", "seed"])
    mine = runs[runs["label"] == "torch-bpr"].set_index(["fold", "seed"])
    if theirs.empty or mine.empty:
        return None
    reached = {}
    for key, run in mine.iterrows():
        if key not in theirs.index:
            continue
        goal = float(theirs.loc[key, "ndcg_at_10"])
        curve = curves[curves["run_id"] == run["run_id"]].sort_values("epoch")
        there = curve[curve["test_ndcg_at_10"] >= goal]
        reached[key] = float(there["elapsed_s"].iloc[0]) if not there.empty else math.nan
    if not reached:
        return None
    times = pd.Series(reached)
    fits = theirs["fit_s"].astype(float).reindex(times.index)
    never = int(times.isna().sum())
    logs = np.log(times.dropna()) - np.log(fits[times.notna()])
    difference = stats.paired_difference(logs, pd.Series(0.0, index=logs.index), 0.0)
    low, high = (
        (math.exp(difference.low), math.exp(difference.high)) if difference else (math.nan,) * 2
    )
    value = math.exp(logs.mean()) if len(logs) else math.nan
    figure = (
        f"{value:.2f}×{_interval(low, high)} ({times.median():.2f} s to NDCG@10 "
        f"{theirs['ndcg_at_10'].median():.4f} against a {fits.median():.2f} s fit, "
        f"{len(times)} runs" + (f"; never reached in {never}" if never else "") + ")"
    )
    verdict = "missed" if never else state(low, high, 1.0, at_most=True)
    return figure, verdict


def _small_data(results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, SMALL)
    if runs.empty or _factors(runs, "torch-biased-mf") != _factors(runs, "numba-sgd"):
        return None
    ratio = _ratio(runs, "torch-biased-mf", "numba-sgd", "ratings_per_s")
    if ratio is None:
        return None
    figure = (
        f"{ratio.value:.2f}×{_interval(ratio.low, ratio.high)} ratings/s at k = "
        f"{_factors(runs, 'numba-sgd')} ({ratio.runs} runs; fits of {ratio.a_median:.3g} and "
        f"{ratio.b_median:.3g} ratings/s)"
    )
    return figure, state(ratio.low, ratio.high, 0.3, at_most=False)


def _accuracy(results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, MOVIELENS)
    if "rmse" not in runs:
        return None
    mine = runs[runs["label"] == "torch-biased-mf"].set_index(["fold", "seed"])
    if mine.empty:
        return None
    rmse = mine["rmse"].astype(float)
    threshold = pd.Series(0.903, index=rmse.index)
    difference = stats.paired_difference(rmse, threshold, test_fraction(runs))
    low, high = (
        (0.903 + difference.low, 0.903 + difference.high) if difference else (math.nan, math.nan)
    )
    fit = float(mine["fit_s"].median())
    interval = f" [{low:.4f}, {high:.4f}]" if math.isfinite(low) else " (no interval)"
    figure = f"RMSE {rmse.mean():.4f}{interval}, median fit {fit:.2f} s ({len(rmse)} runs)"
    verdict = _both(state(low, high, 0.903, at_most=True), "met" if fit <= 3.0 else "missed")
    return figure, verdict


def _factors(runs: pd.DataFrame, label: str) -> str:
    """The factors ``label`` ran with (as the records' settings say), or ``?``."""
    found = {results_io.param(p, "factors") for p in runs[runs["label"] == label]["params"]}
    numbers = all(isinstance(k, int | float) for k in found)
    return ", ".join(str(k) for k in sorted(found, key=None if numbers else str)) or "?"


#: Every target in the order they were set: what it asks, and how it is checked.
TARGETS: tuple[tuple[str, Callable[[pd.DataFrame, pd.DataFrame], Found]], ...] = (
    (
        "Time to the RMSE target on ML-100K: the fastest PyTorch contender ≤ 1.0× the fastest "
        "bespoke one",
        _time_to_rmse,
    ),
    ("torch-ials fits in ≤ 1.5× implicit-als's time at ≥ 0.98× its NDCG@10", _ials),
    ("torch-bpr reaches implicit-bpr's final NDCG@10 in ≤ 1.0× implicit-bpr's fit time", _bpr),
    (
        f"On {SMALL} (10^4 ratings) torch-biased-mf's throughput ≥ 0.3× numba-sgd's at equal k",
        _small_data,
    ),
    ("torch-biased-mf's ML-100K RMSE ≤ 0.903 at ≤ 3 s a fit", _accuracy),
)


def judge(results: pd.DataFrame, curves: pd.DataFrame) -> list[Judged]:
    """Every target: judged where this folder has its runs, else ``not measured``."""
    judged = []
    for text, check in TARGETS:
        found = check(results, curves)
        judged.append(Judged(text, *found) if found else Judged(text, "–", "not measured"))
    return judged


def markdown(judged: list[Judged]) -> str:
    """The targets as a table: target, figure with its 95% interval, state."""
    lines = ["| target | figure, 95% interval | state |", "|---|---|---|"]
    lines += [f"| {j.target} | {j.figure} | **{j.state}** |" for j in judged]
    return "\n".join(lines)
