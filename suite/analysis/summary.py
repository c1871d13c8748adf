"""One row per contender setting of a results folder: means and spreads of every metric,
medians of its costs, and the runs behind them, paired by ``(fold, seed)``."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from suite import metrics, models
from suite import results as results_io
from suite.models.base import Contest


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, label, backend) over its ok runs: means, spreads, medians.

    Every metric's column ``c`` becomes ``c_mean`` and ``c_std`` (over seeds and folds);
    ``factors`` and ``epochs_requested`` are read from the runs' hyperparameters.
    """
    ok = results_io.ok_runs(results)
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(
        label=results_io.labels(ok),
        factors=ok["params"].map(lambda p: as_float(results_io.param(p, "factors"))),
        epochs_requested=ok["params"].map(lambda p: as_float(results_io.param(p, "epochs"))),
        # Runs with several timed fits (or pytest-benchmark rounds) carry their own min and max.
        fit_low=ok["fit_s_min"].fillna(ok["fit_s"]) if "fit_s_min" in ok else ok["fit_s"],
        fit_high=ok["fit_s_max"].fillna(ok["fit_s"]) if "fit_s_max" in ok else ok["fit_s"],
    )
    grouped = ok.groupby(["dataset", "label", "backend"], sort=False)
    accuracy = {
        f"{column}_{how}": (column, how) for column in metrics.columns() for how in ("mean", "std")
    }
    summary = grouped.agg(
        model=("model", "first"),
        runs=("run_id", "count"),
        **accuracy,
        fit_median=("fit_s", "median"),
        fit_min=("fit_low", "min"),
        fit_max=("fit_high", "max"),
        epoch_s_median=("epoch_s_median", "median"),
        ratings_per_s=("ratings_per_s", "median"),
        peak_rss_mb=("peak_rss_mb", "median"),
        peak_jvm_mb=("peak_jvm_mb", "median"),
        peak_gpu_mb=("peak_gpu_mb", "median"),
        time_to_rating_target_s=("time_to_rating_target_s", "median"),
        reached_target=("time_to_rating_target_s", lambda s: int(s.notna().sum())),
        rating_target=("rating_target", "first"),
        rating_noise_floor=("rating_noise_floor", "first"),
        epochs=("epochs", "median"),
        epochs_requested=("epochs_requested", "median"),
        best_epoch=("best_epoch", "median"),
        factors=("factors", "first"),
        ratings_processed=("ratings_processed", "median"),
        n_threads=("n_threads", "first"),
        n_train=("n_train", "median"),
        fit_rss_growth_mb=("fit_rss_growth_mb", "median"),
    )
    return summary.reset_index()


def as_float(value: Any) -> float:
    """A setting read from a record as a float (NaN where it is absent or no number)."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    )


def entrants_of(rows: pd.DataFrame, contest: Contest) -> pd.DataFrame:
    """The summary rows that enter ``contest`` and have its primary metric."""
    mean = f"{metrics.primary(contest).column}_mean"
    if rows.empty or mean not in rows:
        return rows.iloc[0:0]
    entering = rows["model"].map(lambda model: models.enters(model, contest)).astype(bool)
    return rows[rows[mean].notna() & entering]


def run_values(runs: pd.DataFrame, label: str, backend: str, column: str) -> pd.Series:
    """``column`` of the ok runs of one contender setting, indexed by ``(fold, seed)``."""
    mine = results_io.ok_runs(runs)
    mine = mine[(mine["label"] == label) & (mine["backend"] == backend)]
    return mine.set_index(["fold", "seed"])[column]


def test_fraction(runs: pd.DataFrame) -> float:
    """Median ``n_test / n_train`` of the runs (the variance correction of the paired test);
    NaN when the sizes were not recorded."""
    if "n_test" not in runs or "n_train" not in runs:
        return math.nan
    return float((runs["n_test"] / runs["n_train"]).median())


def factors_of(runs: pd.DataFrame, label: str) -> list[Any]:
    """The numbers of factors ``label``'s runs recorded, sorted (numbers first)."""
    found = {results_io.param(p, "factors") for p in runs[runs["label"] == label]["params"]}
    numbers = all(isinstance(k, int | float) for k in found)
    return sorted(found, key=None if numbers else str)
