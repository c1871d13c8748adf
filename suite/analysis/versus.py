"""Two run folders, contender by contender: accuracy differences and time ratios, B against A.

The analysis behind ``mfbench compare`` (rendered by ``suite.compare``). Contenders are
matched by (data set, label, backend) over their ok runs. Each primary metric gets ``B − A``
over the runs both folders made on the same split (split, fold, seed), with the corrected
resampled paired t-test (``suite.analysis.paired``); time gets B's fit time over A's as a
paired ratio, judged against a factor either way as asv does, and never judged when the two
sides did different work (other epochs, other numbers of ratings).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from suite import metrics, results
from suite.analysis.paired import PAR, Difference, paired_difference, paired_ratio
from suite.analysis.summary import test_fraction
from suite.errors import InputError

#: A ratio of fit times within this factor either way reads "same": the on-par factor.
DEFAULT_TIME_FACTOR = PAR

#: Medians of ``ratings_processed`` or ``epochs`` further apart than this (relative) mean the
#: two sides did different work, whose times are not comparable.
WORK_TOLERANCE = 0.01

#: What matches a contender across the two folders.
KEYS = ["dataset", "label", "backend"]

#: What pairs two runs of one contender: the same split of the same data with the same seed.
PAIRING = ["split", "fold", "seed"]

#: The verdict of a comparison that found no change.
SAME = "same"

#: The columns of the time comparison (after the keys, run counts and metric columns).
TIME_COLUMNS = [
    "fit_s_a",
    "fit_s_b",
    "fit_ratio",
    "fit_low",
    "fit_high",
    "fit_pairs",
    "ratings_per_s_a",
    "ratings_per_s_b",
    "time_verdict",
]


# -- the comparison -----------------------------------------------------------------------------


def compare_runs(
    a_results: pd.DataFrame,
    b_results: pd.DataFrame,
    time_factor: float = DEFAULT_TIME_FACTOR,
) -> pd.DataFrame:
    """One row per contender with ok runs in both frames on the same data (``different_data``
    leaves the others out): accuracy and time, B against A.

    Parameters
    ----------
    a_results, b_results : DataFrame
        Runs (one row each, the columns of ``suite.results``); only ok runs count.
    time_factor : float
        A ratio of fit times beyond this either way is "slower" or "faster".

    Returns
    -------
    DataFrame
        ``dataset``, ``label``, ``backend``, ``runs_a``, ``runs_b``; for each primary metric
        ``<column>_a`` and ``_b`` (means over the splits both ran, or over all runs where
        none pair), ``_diff``, ``_low``, ``_high`` (B − A and its
        ``1 − ALPHA`` interval; NaN where untested), ``_p``, ``_pairs`` and ``_verdict``
        ("better", "worse", "same", "untested (n pairs)", or "" where the contender has no
        such metric); then ``TIME_COLUMNS``: B's fit time over A's as a paired ratio
        (``fit_ratio``, its interval ``fit_low``/``fit_high``, ``fit_pairs``) and
        ``time_verdict``: "slower", "faster", "same", "different settings", "different work",
        "different threads", "no paired runs" or "untimed". "slower" and "faster" need the
        ratio beyond ``time_factor`` and its interval wholly on that side of 1; with too few
        pairs for an interval they say so ("one run: noise unknown"). Rows follow A's order.
    """
    if not (math.isfinite(time_factor) and time_factor > 1):
        raise InputError(f"--time-factor {time_factor:g}: must be a finite number above 1")
    ok_a, ok_b = _ok(a_results), _ok(b_results)
    groups_b = dict(list(ok_b.groupby(KEYS, sort=False)))
    other_data = different_data(a_results, b_results)
    rows = []
    for key, runs_a in ok_a.groupby(KEYS, sort=False):
        if key in groups_b and key[0] not in other_data:
            runs_b = groups_b[key]
            row: dict[str, Any] = dict(zip(KEYS, key, strict=True))
            row.update(runs_a=len(runs_a), runs_b=len(runs_b))
            fraction = test_fraction(pd.concat([runs_a, runs_b]))
            for metric in metrics.primaries():
                row.update(_accuracy(metric, runs_a, runs_b, fraction))
            row.update(_time(runs_a, runs_b, time_factor))
            rows.append(row)
    return pd.DataFrame(rows, columns=_columns())


def different_data(a_results: pd.DataFrame, b_results: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Data set names whose runs in A and B were measured on different data (content digests
    that differ), with the two digests: their runs are never paired. Records without a digest
    (older ones) are taken at their word."""
    digests = []
    for frame in (a_results, b_results):
        column = results.data_digests(frame)
        known = frame.assign(data_digest=column)[column != ""]
        digests.append(known.groupby("dataset")["data_digest"].first().to_dict())
    return {
        dataset: (digest, digests[1][dataset])
        for dataset, digest in digests[0].items()
        if dataset in digests[1] and digests[1][dataset] != digest
    }


def _columns() -> list[str]:
    accuracy = [
        f"{metric.column}_{part}"
        for metric in metrics.primaries()
        for part in ("a", "b", "diff", "low", "high", "p", "pairs", "verdict")
    ]
    return [*KEYS, "runs_a", "runs_b", *accuracy, *TIME_COLUMNS]


def _ok(frame: pd.DataFrame) -> pd.DataFrame:
    """The ok runs, each with its label (the model name where it has none)."""
    frame = frame.assign(label=results.labels(frame))
    return frame[frame["status"] == results.OK]


def _per_split(runs: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of each run indexed by what pairs it; repeated runs of a split averaged."""
    return runs.dropna(subset=[column]).groupby(PAIRING)[column].mean()


def _accuracy(
    metric: metrics.Metric, runs_a: pd.DataFrame, runs_b: pd.DataFrame, fraction: float
) -> dict[str, Any]:
    column = metric.column
    before, after = _per_split(runs_a, column), _per_split(runs_b, column)
    paired = before.index.intersection(after.index)
    if len(paired):  # means over the same splits, as the difference is
        before, after = before[paired], after[paired]
    row: dict[str, Any] = {
        f"{column}_a": before.mean(),
        f"{column}_b": after.mean(),
        f"{column}_diff": math.nan,
        f"{column}_low": math.nan,
        f"{column}_high": math.nan,
        f"{column}_p": math.nan,
        f"{column}_pairs": len(paired),
        f"{column}_verdict": "",
    }
    if before.empty and after.empty:  # not a metric of this contender (RMSE of a ranker)
        return row
    difference = None
    if math.isfinite(fraction):
        difference = paired_difference(after, before, fraction)
    if difference is None:
        pairs = row[f"{column}_pairs"]
        why = f"{pairs} pair{'' if pairs == 1 else 's'}" if math.isfinite(fraction) else "no sizes"
        row[f"{column}_verdict"] = f"untested ({why})"
        return row
    row.update(
        {
            f"{column}_diff": difference.mean,
            f"{column}_low": difference.low,
            f"{column}_high": difference.high,
            f"{column}_p": difference.p,
            f"{column}_verdict": _accuracy_verdict(difference, metric),
        }
    )
    return row


def _accuracy_verdict(difference: Difference, metric: metrics.Metric) -> str:
    if not difference.significant:
        return SAME
    return "better" if (difference.mean > 0) == metric.higher_is_better else "worse"


def _time(runs_a: pd.DataFrame, runs_b: pd.DataFrame, time_factor: float) -> dict[str, Any]:
    fit_a, fit_b = _median(runs_a, "fit_s"), _median(runs_b, "fit_s")
    ratio = paired_ratio(
        _per_split(runs_b, "fit_s"), _per_split(runs_a, "fit_s"), "B", "A", "fit time"
    )
    if ratio is None:
        verdict = "untimed" if not (fit_a > 0 and fit_b > 0) else "no paired runs"
    elif _settings(runs_a) != _settings(runs_b):
        verdict = "different settings"  # e.g. another k: a speed-up of other work is none
    elif _different(runs_a, runs_b, ("ratings_processed", "epochs")):
        verdict = "different work"
    elif _different(runs_a, runs_b, ("n_threads",)):
        verdict = "different threads"
    elif abs(math.log(ratio.value)) <= math.log(time_factor):
        verdict = SAME
    elif not ratio.resolved:
        said = "one run" if ratio.runs == 1 else f"{ratio.runs} paired runs"
        verdict = f"{'slower' if ratio.value > 1 else 'faster'} ({said}: noise unknown)"
    elif ratio.low > 1:
        verdict = "slower"
    elif ratio.high < 1:
        verdict = "faster"
    else:
        verdict = SAME  # beyond the factor, but within run-to-run noise
    return {
        "fit_s_a": fit_a,
        "fit_s_b": fit_b,
        "fit_ratio": ratio.value if ratio else math.nan,
        "fit_low": ratio.low if ratio else math.nan,
        "fit_high": ratio.high if ratio else math.nan,
        "fit_pairs": ratio.runs if ratio else 0,
        "ratings_per_s_a": _median(runs_a, "ratings_per_s"),
        "ratings_per_s_b": _median(runs_b, "ratings_per_s"),
        "time_verdict": verdict,
    }


def _settings(runs: pd.DataFrame) -> set[str]:
    """The hyperparameters the runs used, as recorded (``params``)."""
    return set(runs["params"].map(str)) if "params" in runs else set()


def _median(runs: pd.DataFrame, column: str) -> float:
    return float(runs[column].median()) if column in runs else math.nan


def _different(runs_a: pd.DataFrame, runs_b: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether the medians of any of ``columns`` differ by more than ``WORK_TOLERANCE``.

    A column recorded on neither side says nothing; recorded on one side only, it cannot
    show that the work was the same.
    """
    for column in columns:
        a, b = _median(runs_a, column), _median(runs_b, column)
        if math.isnan(a) and math.isnan(b):
            continue
        if math.isnan(a) or math.isnan(b) or not math.isclose(a, b, rel_tol=WORK_TOLERANCE):
            return True
    return False


def changed(table: pd.DataFrame) -> pd.Series:
    """Which rows of ``compare_runs`` have a verdict other than "same" (or untested)."""
    verdicts = table[[c for c in table.columns if c.endswith("verdict")]]
    untested = verdicts.apply(lambda column: column.str.startswith("untested"))
    return ((verdicts != SAME) & (verdicts != "") & ~untested).any(axis=1)


def only_in(one: pd.DataFrame, other: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (dataset, label, backend) with ok runs in ``one`` and none in ``other``."""
    theirs = set(_ok(other)[KEYS].itertuples(index=False, name=None))
    mine = _ok(one)[KEYS].drop_duplicates().itertuples(index=False, name=None)
    return [key for key in mine if key not in theirs]


def not_ok(a_results: pd.DataFrame, b_results: pd.DataFrame) -> pd.DataFrame:
    """The runs not ok on either side: side, dataset, label, backend, status, runs, reason."""
    sides = [
        frame.assign(side=side, label=results.labels(frame))
        for side, frame in (("A", a_results), ("B", b_results))
    ]
    runs = pd.concat(sides, ignore_index=True)
    runs = runs[runs["status"] != results.OK].assign(reason=lambda f: f["reason"].fillna(""))
    columns = ["side", *KEYS, "status", "reason"]
    counted = runs.groupby(columns, sort=False).size().rename("runs").reset_index()
    return counted[["side", *KEYS, "status", "runs", "reason"]]
