"""The targets of "PyTorch at its best on CPU", judged from one folder's runs.

The targets themselves are data, in ``suite/targets.toml``: each names its check (``kind``),
its data set, the contenders it pairs and its thresholds; this module holds one check per kind
and writes each target's sentence from its fields. Each target is a threshold on one figure
that has a 95% interval over paired runs (folds × seeds). A target is **met** when the whole
interval lies on the threshold's good side, **missed** when it lies wholly on the other,
**not resolved** when the interval straddles the threshold (or there are too few runs for
one), and **not measured** when the folder lacks the runs. ``mfbench report`` lists them in a
folder's REPORT.md (section "Targets").

Ratios are ``mine / theirs`` (``suite.analysis.paired``); the bespoke side of
``time_to_rating_target`` is every contender not written in PyTorch, each at the settings the
folder ran it with. A throughput target is judged on time per rating (its inverse), as every
speed figure reads.
"""

from __future__ import annotations

import dataclasses
import math
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from suite import results as results_io
from suite.analysis.paired import Ratio, paired_difference, paired_ratio
from suite.analysis.speed import PER_RATING, ratio_of
from suite.analysis.summary import factors_of, test_fraction
from suite.errors import InputError

#: The file the targets are read from (inside the package).
TARGETS_FILE = "targets.toml"

#: One target as written in the file: its kind, data set, contenders and thresholds.
Target = Mapping[str, Any]


@dataclass(frozen=True)
class Judged:
    """One target, the figures it is decided on (each with its 95% interval), and its state.

    ``speed`` is the speed ratio (mine over theirs), ``accuracy`` a ratio of scores,
    ``score`` a mean with its interval; ``note`` what else the figure needs said (the RMSE
    raced to, the factors, how often a target was never reached).
    """

    target: str
    state: str  # met | missed | not resolved | not measured
    speed: Ratio | None = None
    accuracy: Ratio | None = None
    score: tuple[float, float, float] | None = None  # mean, low, high
    fit_s: float | None = None  # median fit time, where the target bounds it
    runs: int = 0
    note: str = ""


#: What a target's check gives: the judged target without its sentence, or None when the
#: folder lacks its runs.
Found = Judged | None


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
    ok = results_io.ok_runs(runs)
    return ok[(ok["dataset"] == dataset) & (ok["backend"] == "cpu")]


def _ratio(
    runs: pd.DataFrame, a: str, b: str, column: str, quantity: str = "time to target"
) -> Ratio | None:
    """``a``'s ``column`` over ``b``'s, paired by run; None where a side or the column is absent."""
    if (column != PER_RATING and column not in runs) or not {a, b} <= set(runs["label"]):
        return None
    return ratio_of(runs, a, b, column, quantity)


def _time_to_rmse(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    rmse = runs["rating_target"].dropna()
    mine, theirs = target["mine"], target["theirs"]  # named in advance, never picked here
    if rmse.empty:
        return None
    ratio = _ratio(runs, mine, theirs, "time_to_rating_target_s")
    if ratio is None:
        return None
    verdict = state(ratio.low, ratio.high, target["at_most"], at_most=True)
    return Judged("", verdict, speed=ratio, note=f"target RMSE {rmse.iloc[0]:g}")


def _fit_at_equal_ranking(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    mine, theirs = target["mine"], target["theirs"]
    fit = _ratio(runs, mine, theirs, "fit_s", "fit time")
    ndcg = _ratio(runs, mine, theirs, "ndcg_at_10", "NDCG@10")
    if fit is None or ndcg is None:
        return None
    verdict = _both(
        state(fit.low, fit.high, target["fit_at_most"], at_most=True),
        state(ndcg.low, ndcg.high, target["ndcg_at_least"], at_most=False),
    )
    note = f"factors {_factors(runs, mine)} and {_factors(runs, theirs)}"
    return Judged("", verdict, speed=fit, accuracy=ndcg, note=note)


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
    ratio = paired_ratio(
        times.dropna(),
        fits,
        target["mine"],
        target["theirs"],
        "fit time to reach its final NDCG@10",
    )
    if ratio is None:
        return None
    verdict = "missed" if never else state(ratio.low, ratio.high, target["at_most"], at_most=True)
    note = f"{target['theirs']}'s final NDCG@10 {theirs['ndcg_at_10'].median():.4f}" + (
        f"; never reached in {never} of {len(times)} runs" if never else ""
    )
    return Judged("", verdict, speed=ratio, runs=len(times), note=note)


def _throughput_at_equal_k(target: Target, results: pd.DataFrame, curves: pd.DataFrame) -> Found:
    runs = _ok(results, target["dataset"])
    mine, theirs = target["mine"], target["theirs"]
    if runs.empty or _factors(runs, mine) != _factors(runs, theirs):
        return None
    ratio = _ratio(runs, mine, theirs, PER_RATING, PER_RATING)
    if ratio is None:
        return None
    bound = 1 / target["at_least"]  # throughput ≥ at_least× theirs: time ≤ 1/at_least×
    verdict = state(ratio.low, ratio.high, bound, at_most=True)
    return Judged("", verdict, speed=ratio, note=f"k = {_factors(runs, theirs)}")


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
    difference = paired_difference(rmse, threshold, test_fraction(runs))
    low, high = (
        (bound + difference.low, bound + difference.high) if difference else (math.nan, math.nan)
    )
    fit = float(mine["fit_s"].median())
    verdict = _both(state(low, high, bound, at_most=True), "met" if fit <= budget else "missed")
    return Judged("", verdict, score=(float(rmse.mean()), low, high), fit_s=fit, runs=len(rmse))


def _factors(runs: pd.DataFrame, label: str) -> str:
    """The factors ``label`` ran with (as the records' settings say), or ``?``."""
    return ", ".join(str(k) for k in factors_of(runs, label)) or "?"


#: Every kind of target: the sentence a report shows (filled from the target's fields, which
#: are exactly the sentence's), and its check.
KINDS: dict[str, tuple[str, Callable[[Target, pd.DataFrame, pd.DataFrame], Found]]] = {
    "time_to_rating_target": (
        "Time to the RMSE target on {dataset}: {mine} ≤ {at_most}× {theirs}'s",
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
        "On {dataset} {mine} takes at most 1/{at_least} of {theirs}'s time per rating at "
        "equal k (a throughput ≥ {at_least}× its)",
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
        judged.append(Judged(text, "not measured") if found is None else _with_target(found, text))
    return judged


def _with_target(found: Judged, text: str) -> Judged:
    return dataclasses.replace(found, target=text)
