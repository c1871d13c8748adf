"""The targets of "PyTorch at its best on CPU", judged from one folder's runs.

The targets themselves are data, in ``suite/targets.toml``: each names its check (``kind``),
its data set, the contenders it pairs and its thresholds; this module holds one check per kind
and writes each target's sentence from its fields. Each target is a threshold on one figure
that has a 95% interval over paired runs (folds × seeds). A target is **met** when the whole
interval lies on the threshold's good side, **missed** when it lies wholly on the other,
**not resolved** when the interval straddles the threshold (or there are too few runs for
one), and **not measured** when the folder lacks the runs. ``mfbench report`` lists them in a
folder's REPORT.md (section "Targets").

Ratios are ``mine / theirs``; the bespoke side of ``time_to_rating_target`` is every
contender not written in PyTorch, each at the settings the folder ran it with.
"""

from __future__ import annotations

import math
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from suite import models, stats
from suite import results as results_io
from suite.claims import Ratio, fastest, time_ratio
from suite.errors import InputError
from suite.models.base import Contest
from suite.verdicts import test_fraction

#: The file the targets are read from (inside the package).
TARGETS_FILE = "targets.toml"

#: One target as written in the file: its kind, data set, contenders and thresholds.
Target = Mapping[str, Any]


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


def _time_to_rmse(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    rmse = runs["rating_target"].dropna()
    mine = fastest(runs, Contest.RATING, models.is_pytorch)
    theirs = fastest(runs, Contest.RATING, lambda m: not models.is_pytorch(m))
    if rmse.empty or mine is None or theirs is None:
        return None
    ratio = _ratio(runs, mine, theirs, "time_to_rating_target_s")
    if ratio is None:
        return None
    figure = (
        f"RMSE {rmse.iloc[0]:g}: {mine} / {theirs} = {ratio.value:.2f}×"
        f"{_interval(ratio.low, ratio.high)} ({ratio.medians('.2f')})"
    )
    return figure, state(ratio.low, ratio.high, target["at_most"], at_most=True)


def _fit_at_equal_ranking(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    mine, theirs = target["mine"], target["theirs"]
    fit = _ratio(runs, mine, theirs, "fit_s")
    ndcg = _ratio(runs, mine, theirs, "ndcg_at_10")
    if fit is None or ndcg is None:
        return None
    figure = (
        f"fit {fit.value:.2f}×{_interval(fit.low, fit.high)} ({fit.medians('.2f')}); "
        f"NDCG@10 {ndcg.value:.3f}×{_interval(ndcg.low, ndcg.high)}; "
        f"factors {_factors(runs, mine)} and {_factors(runs, theirs)}"
    )
    verdict = _both(
        state(fit.low, fit.high, target["fit_at_most"], at_most=True),
        state(ndcg.low, ndcg.high, target["ndcg_at_least"], at_most=False),
    )
    return figure, verdict


def _time_to_their_ranking(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    if "ndcg_at_10" not in runs or "test_ndcg_at_10" not in curves:
        return None
    theirs = runs[runs["label"] == target["theirs"]].set_index(["fold", "seed"])
    mine = runs[runs["label"] == target["mine"]].set_index(["fold", "seed"])
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
    verdict = "missed" if never else state(low, high, target["at_most"], at_most=True)
    return figure, verdict


def _throughput_at_equal_k(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    mine, theirs = target["mine"], target["theirs"]
    if runs.empty or _factors(runs, mine) != _factors(runs, theirs):
        return None
    ratio = _ratio(runs, mine, theirs, "ratings_per_s")
    if ratio is None:
        return None
    figure = (
        f"{ratio.value:.2f}×{_interval(ratio.low, ratio.high)} ratings/s at k = "
        f"{_factors(runs, theirs)} ({ratio.runs} runs; fits of {ratio.a_median:.3g} and "
        f"{ratio.b_median:.3g} ratings/s)"
    )
    return figure, state(ratio.low, ratio.high, target["at_least"], at_most=False)


def _rmse_within_fit_time(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    if "rmse" not in runs:
        return None
    mine = runs[runs["label"] == target["mine"]].set_index(["fold", "seed"])
    bound, budget = float(target["rmse_at_most"]), float(target["fit_at_most_s"])
    if mine.empty:
        return None
    rmse = mine["rmse"].astype(float)
    threshold = pd.Series(bound, index=rmse.index)
    difference = stats.paired_difference(rmse, threshold, test_fraction(runs))
    low, high = (
        (bound + difference.low, bound + difference.high) if difference else (math.nan, math.nan)
    )
    fit = float(mine["fit_s"].median())
    interval = f" [{low:.4f}, {high:.4f}]" if math.isfinite(low) else " (no interval)"
    figure = f"RMSE {rmse.mean():.4f}{interval}, median fit {fit:.2f} s ({len(rmse)} runs)"
    verdict = _both(state(low, high, bound, at_most=True), "met" if fit <= budget else "missed")
    return figure, verdict


def _factors(runs: pd.DataFrame, label: str) -> str:
    """The factors ``label`` ran with (as the records' settings say), or ``?``."""
    found = {results_io.param(p, "factors") for p in runs[runs["label"] == label]["params"]}
    numbers = all(isinstance(k, int | float) for k in found)
    return ", ".join(str(k) for k in sorted(found, key=None if numbers else str)) or "?"


#: Every kind of target: the sentence a report shows (filled from the target's fields, which
#: are exactly the sentence's), and its check.
KINDS: dict[str, tuple[str, Callable[[Target, pd.DataFrame, pd.DataFrame], Found]]] = {
    "time_to_rating_target": (
        "Time to the RMSE target on {dataset}: the fastest PyTorch contender ≤ {at_most}× the "
        "fastest bespoke one",
        _time_to_rmse,
    ),
    "fit_at_equal_ranking": (
        "{mine} fits {dataset} in ≤ {fit_at_most}× {theirs}'s time at ≥ {ndcg_at_least}× its "
        "NDCG@10",
        _fit_at_equal_ranking,
    ),
    "time_to_their_ranking": (
        "{mine} reaches {theirs}'s final NDCG@10 on {dataset} in ≤ {at_most}× {theirs}'s fit time",
        _time_to_their_ranking,
    ),
    "throughput_at_equal_k": (
        "On {dataset} {mine}'s throughput ≥ {at_least}× {theirs}'s at equal k",
        _throughput_at_equal_k,
    ),
    "rmse_within_fit_time": (
        "{mine}'s {dataset} RMSE ≤ {rmse_at_most} at ≤ {fit_at_most_s} s a fit",
        _rmse_within_fit_time,
    ),
}


def _fields(kind: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(KINDS[kind][0]) if name}


def sentence(target: Target) -> str:
    """What ``target`` asks, in words."""
    return KINDS[target["kind"]][0].format(**target)


def load(text: str | None = None, label: str = f"suite/{TARGETS_FILE}") -> list[Target]:
    """The targets of ``text`` (default: the package's ``targets.toml``), each checked: a known
    kind with exactly its fields; else an ``InputError`` naming the file and the target."""
    if text is None:
        text = (resources.files("suite") / TARGETS_FILE).read_text(encoding="utf-8")
    try:
        listed = tomllib.loads(text).get("target", [])
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{label}: {exc}") from exc
    for number, target in enumerate(listed, start=1):
        where = f"{label}: [[target]] #{number}"
        kind = target.get("kind")
        if kind not in KINDS:
            raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        given, needed = set(target) - {"kind"}, _fields(kind)
        if given != needed:
            wrong = sorted(given - needed) or sorted(needed - given)
            what = "unknown key(s)" if given - needed else "missing key(s)"
            raise InputError(f"{where} ({kind}): {what} {', '.join(wrong)}")
    return listed


def judge(
    results: pd.DataFrame, curves: pd.DataFrame, listed: list[Target] | None = None
) -> list[Judged]:
    """Every target (``listed``, default the package's): judged where this folder has its
    runs, else ``not measured``."""
    judged = []
    for target in load() if listed is None else listed:
        found = KINDS[target["kind"]][1](target, results, curves)
        text = sentence(target)
        judged.append(Judged(text, *found) if found else Judged(text, "–", "not measured"))
    return judged


def markdown(judged: list[Judged]) -> str:
    """The targets as a table: target, figure with its 95% interval, state."""
    lines = ["| target | figure, 95% interval | state |", "|---|---|---|"]
    lines += [f"| {j.target} | {j.figure} | **{j.state}** |" for j in judged]
    return "\n".join(lines)
