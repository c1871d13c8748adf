"""The regression gate's comparison: a run of a config against its reference, row by row.

Like is compared with like (``suite.regress`` runs the gate and renders ``CHECK.md``):

- accuracy per (data set, model, seed): the primary metric of each contest
  (``suite.metrics``). Runs are deterministic per seed, so a row fails when it is worse than
  the reference by more than ``max(accuracy_floor, spread_factor × std over the reference's
  seeds)``;
- speed per (data set, model): ``fit_norm`` (each fit time divided by a calibration workload
  timed around it in the same process, ``suite.timed_run``) now over the reference's, as a
  paired ratio over the same runs (split, fold, seed; ``suite.analysis.paired``), rounded to
  two decimals as CHECK.md shows it, fails beyond ``speed_factor`` or the contender's own
  ``Model.speed_tolerance``. It is compared only over the same runs, every one of them ok
  and timed now, and where the reference's fits last ``min_fit_s`` or more; otherwise the row
  says "unchecked" and why;
- membership: every (data set, contender) of the reference must still run ("gone"), and a
  contender with no ok run in the reference is "new".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from suite import metrics, models, results
from suite.analysis.paired import paired_ratio
from suite.errors import InputError

NAN = float("nan")
KEY = ["dataset", "label", "backend"]
SPEED_CHECK = "fit_norm (paired)"  # the check column of a speed row
NO_CLASS = "no speed reference for this machine class"

#: The columns of the comparison table.
COLUMNS = [
    "check",
    "dataset",
    "model",
    "backend",
    "seed",
    "reference",
    "now",
    "change",
    "allowed",
    "verdict",
]


@dataclass
class Tolerances:
    """How much worse a row may get before the gate fails."""

    accuracy_floor: float = 0.002  # absolute RMSE / NDCG@10
    spread_factor: float = 0.5  # × std over the reference's seeds
    speed_factor: float = 1.3  # now / reference of the normalised fit time
    min_fit_s: float = 0.25  # shorter fits are too noisy to time; their speed is not compared

    def __post_init__(self) -> None:
        lowest = {"speed_factor": 1.0}  # below 1, an unchanged contender would fail
        for name, value in asdict(self).items():
            low = lowest.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"tolerance {name} = {value!r}: must be a number >= {low:g}")
            if not math.isfinite(value) or value < low:  # NaN would pass every comparison
                raise InputError(f"tolerance {name} = {value!r}: must be a number >= {low:g}")

    def speed_limit(self, model: str) -> float:
        """The allowed growth of ``model``'s normalised fit time: ``speed_factor``, or the
        contender's own ``speed_tolerance`` where that is looser."""
        contender = models.lookup(model)
        own = contender.speed_tolerance if contender is not None else None
        return max(own or 0.0, self.speed_factor)


@dataclass
class SpeedReference:
    """Reference runs whose ``fit_norm`` is comparable with this machine's, or why none is."""

    runs: pd.DataFrame | None  # None: nothing comparable
    machine: str  # this machine's class
    known: list[str]  # the classes the reference has speed figures for


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    tol: Tolerances,
    speed: SpeedReference | None = None,
) -> pd.DataFrame:
    """One row per comparison: what, reference, now, change, allowed, verdict.

    ``change`` is ``now - reference`` for accuracy rows and ``now / reference`` for speed
    rows (rounded as compared); ``allowed`` states the bound on it. ``speed``: where this
    machine's speed figures come from (default: ``reference``, i.e. the same machine class).
    """
    reference, current = (_labelled(frame) for frame in (reference, current))
    speed = speed or SpeedReference(reference, "", [])
    rows = _accuracy_rows(reference, current, tol) + _speed_rows(speed, current, tol)
    rows += _membership_rows(reference, current)
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(
    check: str,
    key: tuple,
    seed: float = NAN,
    before: float = NAN,
    after: float = NAN,
    allowed: str = "",
    verdict: str = "ok",
    change: float | None = None,
) -> list:
    """One line of the comparison table (``key`` is data set, label, backend).

    ``change`` defaults to ``after - before``.
    """
    dataset, label, backend = key
    change = after - before if change is None else change
    return [check, dataset, label, backend, seed, before, after, change, allowed, verdict]


def _accuracy_rows(ref: pd.DataFrame, now: pd.DataFrame, tol: Tolerances) -> list[list]:
    """Each primary metric per (data set, contender, seed) that ran ok in the reference;
    a failing row for each of those that did not run ok now."""
    ok_ref = results.ok_runs(ref)
    on = [*KEY, "split", "fold", "seed"]
    scores = [metric.column for metric in metrics.primaries()]
    merged = _side(ok_ref, on, scores, "_ref").merge(
        _side(now, on, ["status", "reason", *scores], "_now"), on=on, how="left"
    )
    ran = merged["status_now"] == results.OK
    rows = [
        _not_ok_row((row.dataset, row.label, row.backend), row.seed, row.status_now, row.reason_now)
        for row in merged[~ran].itertuples()
    ]
    for metric in metrics.primaries():
        column, higher_is_better = metric.column, metric.higher_is_better
        spread = ok_ref.groupby(KEY)[column].std().rename("spread")
        for row in merged[ran].join(spread, on=KEY).itertuples():
            before, after = getattr(row, f"{column}_ref"), getattr(row, f"{column}_now")
            if pd.isna(before) and pd.isna(after):
                continue
            allowed = max(tol.accuracy_floor, tol.spread_factor * _zero_if_nan(row.spread))
            worse = (before - after) if higher_is_better else (after - before)
            verdict = "FAIL" if pd.isna(after) or worse > allowed else "ok"
            # The bound on the change (now - reference) that the row is judged by.
            bound = f"≥ {-allowed:+.4f}" if higher_is_better else f"≤ {allowed:+.4f}"
            key = (row.dataset, row.label, row.backend)
            rows.append(_row(column, key, row.seed, before, after, bound, verdict))
    return rows


def _side(frame: pd.DataFrame, on: list[str], columns: list[str], suffix: str) -> pd.DataFrame:
    """``frame``'s key columns and ``columns`` (NaN where absent), the latter suffixed."""
    picked = frame.reindex(columns=[*on, *columns])
    return picked.rename(columns={column: f"{column}{suffix}" for column in columns})


def _not_ok_row(key: tuple, seed: int, status: Any, reason: Any) -> list:
    now = "not run" if pd.isna(status) else str(status)
    why = "" if pd.isna(reason) or not str(reason) else f": {str(reason)[:100]}"
    return _row("ran ok", key, seed, allowed=f"ok in the reference; now {now}{why}", verdict="FAIL")


def _speed_rows(speed: SpeedReference, now: pd.DataFrame, tol: Tolerances) -> list[list]:
    """``fit_norm`` per (data set, contender) of this run over the reference's, paired by run
    (the row shows both medians and the paired ratio): compared, or "unchecked" and why.
    Every contender in ``now`` gets its row, whatever became of its runs."""
    timed_ref = None
    if speed.runs is not None:
        runs = _labelled(speed.runs)
        timed_ref = runs[(runs["status"] == results.OK) & runs["fit_norm"].notna()]
    no_class = (
        f"{NO_CLASS} ({speed.machine}); the reference has {'; '.join(speed.known)}; "
        "add one with `mfbench check --update-speed` here"
    )
    rows = []
    for key, timed in now.groupby(KEY, sort=True, dropna=False):
        why = _untimed(timed)
        if why is not None:  # no "now" figure: a median of some of its runs would mislead
            rows.append(_unchecked(key, NAN, why))
            continue
        after = timed["fit_norm"].median()
        if timed_ref is None:
            rows.append(_unchecked(key, after, no_class))
            continue
        ref = timed_ref[(timed_ref[KEY] == pd.Series(key, index=KEY)).all(axis=1)]
        fit_s = ref["fit_s"].median()
        if ref.empty:
            rows.append(_unchecked(key, after, "no speed figure for it on this machine class"))
        elif _instances(ref) != _instances(timed):
            rows.append(_unchecked(key, after, _other_runs(_instances(timed), _instances(ref))))
        elif fit_s < tol.min_fit_s:
            why = f"reference fit {fit_s:.3f} s is under {tol.min_fit_s:g} s: too short to time"
            rows.append(_unchecked(key, after, why))
        else:
            before = ref["fit_norm"].median()
            limit = tol.speed_limit(str(timed["model"].iloc[0]))
            paired = paired_ratio(_by_run(timed), _by_run(ref), "now", "reference", "fit_norm")
            ratio = round(paired.value, 2)  # as shown: the row is judged by what it shows
            verdict = "FAIL" if ratio > limit else "ok"
            rows.append(_row(SPEED_CHECK, key, NAN, before, after, f"≤ {limit:g}×", verdict, ratio))
    return rows


def _by_run(runs: pd.DataFrame) -> pd.Series:
    """``fit_norm`` of each run, indexed by its (split, fold, seed)."""
    index = pd.MultiIndex.from_arrays(list(_instance_columns(runs)))
    return pd.Series(runs["fit_norm"].to_numpy(dtype=float), index=index)


def _untimed(runs: pd.DataFrame) -> str | None:
    """Why the median ``fit_norm`` of one contender's ``runs`` cannot be compared, if it can't."""
    not_ok = runs[runs["status"] != results.OK]
    how = ", ".join(f"{n} {status}" for status, n in not_ok["status"].value_counts().items())
    if len(not_ok) == len(runs):
        return f"no run ok now ({how})"
    if len(not_ok):
        return f"{len(not_ok)} of {len(runs)} runs not ok now ({how}): no median of all"
    untimed = int(runs["fit_norm"].isna().sum())
    if untimed == len(runs):
        return "no fit_norm (the config does not calibrate)"
    if untimed:
        return f"{untimed} of {len(runs)} runs have no fit_norm: no median of all"
    return None


def _instance_columns(runs: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    fold, seed = (pd.to_numeric(runs[c], errors="coerce").fillna(-1.0) for c in ("fold", "seed"))
    return runs["split"].astype(str), fold.astype(float), seed.astype(float)


def _instances(runs: pd.DataFrame) -> set[tuple]:
    """The (split, fold, seed) of each run: which runs a ratio is taken over."""
    return set(zip(*_instance_columns(runs), strict=True))


def _other_runs(now: set[tuple], before: set[tuple]) -> str:
    """Why medians over runs ``now`` and runs ``before`` are not compared: which differ."""

    def named(runs: set[tuple]) -> str:
        names = [f"{split} f{fold:g} s{seed:g}" for split, fold, seed in sorted(runs)]
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    parts = [
        f"{when} only: {named(runs)}"
        for when, runs in (("now", now - before), ("reference", before - now))
        if runs
    ]
    return f"timed on other runs than the reference ({'; '.join(parts)})"


def _unchecked(key: tuple, value: float, why: str) -> list:
    return _row(SPEED_CHECK, key, after=value, allowed=why, verdict="unchecked")


def _membership_rows(ref: pd.DataFrame, now: pd.DataFrame) -> list[list]:
    """Contenders of the reference missing now ("gone"), and contenders with ok runs now that
    the reference has none of ("new": absent from it, or skipped or failed when it was made,
    e.g. without Java): nothing vouches for their numbers, so ``run_check`` fails on them
    unless new ones are allowed."""
    registered = set(models.names())
    model_of = dict(zip(ref["label"], ref["model"], strict=True))
    before = set(map(tuple, ref[KEY].drop_duplicates().to_numpy()))
    ok_before = _keys(results.ok_runs(ref))
    after = set(map(tuple, now[KEY].drop_duplicates().to_numpy()))
    ok_after = _keys(results.ok_runs(now))
    rows = []
    for key in sorted(before - after):
        why = "no longer registered" if model_of[key[1]] not in registered else "not in this run"
        rows.append(_row(f"present ({why})", key, verdict="gone"))
    for key in sorted(ok_after - ok_before):
        if key in before:
            statuses = "/".join(sorted(set(_runs_of(ref, key)["status"])))
            why = f"{statuses} in the reference: never compared"
        else:
            why = "not in the reference"
        rows.append(_row(f"present ({why})", key, verdict="new"))
    return rows


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, frame[KEY].drop_duplicates().to_numpy()))


def _runs_of(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    return frame[(frame[KEY] == pd.Series(key, index=KEY)).all(axis=1)]


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Results where every row has a ``label`` (older files only have ``model``)."""
    return frame.assign(label=results.labels(frame))


def _zero_if_nan(value: float) -> float:
    return 0.0 if value is None or math.isnan(value) else value
