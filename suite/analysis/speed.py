"""The speed figures of one data set: every ratio a paired ratio (``suite.analysis.paired``),
read as time (``a`` takes ``value``× ``b``'s time), plus times to target and budgets.

Speed ratios are formed only between runs doing comparable work: the same model trained two
ways (``Model.same_model_as``) at the same number of factors, a contender on CUDA against
itself on the CPU, a contender against its contest's reference at the same factors. Time per
rating (``1 / ratings_per_s``) stands for throughput, so that every ratio reads one way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from suite import models
from suite import results as results_io
from suite.analysis.paired import Ratio, paired_ratio
from suite.analysis.summary import entrants_of
from suite.models.base import Contest

#: What a ratio of ``1 / ratings_per_s`` divides.
PER_RATING = "time per rating"


def side_values(runs: pd.DataFrame, label: str, column: str, backend: str = "cpu") -> pd.Series:
    """``column`` of ``label``'s ok runs on ``backend``, indexed by ``(fold, seed)``; for
    ``PER_RATING``, ``1 / ratings_per_s``."""
    mine = results_io.ok_runs(runs)
    mine = mine[(mine["label"] == label) & (mine["backend"] == backend)]
    if column == PER_RATING:
        return (1.0 / mine.set_index(["fold", "seed"])["ratings_per_s"]).astype(float)
    return mine.set_index(["fold", "seed"])[column].astype(float)


def ratio_of(
    runs: pd.DataFrame,
    a: str,
    b: str,
    column: str,
    quantity: str = "time to target",
    backends: tuple[str, str] = ("cpu", "cpu"),
    names: tuple[str, str] | None = None,
) -> Ratio | None:
    """``a``'s ``column`` over ``b``'s (labels, on ``backends``), paired by ``(fold, seed)``;
    None where no pair has both. ``names`` are how the ratio names the sides (the labels)."""
    if column != PER_RATING and column not in runs:
        return None
    shown = names or (a, b)
    return paired_ratio(
        side_values(runs, a, column, backends[0]),
        side_values(runs, b, column, backends[1]),
        *shown,
        quantity=quantity,
        seconds=column != PER_RATING,
    )


# -- the same model, trained two ways -----------------------------------------------------------


@dataclass(frozen=True)
class Twins:
    """A contender and its twin (``same_model_as``) on the CPU at one number of factors."""

    model: str
    twin: str
    factors: float  # NaN: the two ran with different factors (see ``factors_pair``)
    mine: pd.Series  # the summary row (the fastest setting of ``model`` at this k)
    theirs: pd.Series
    ratio: Ratio | None  # mine's time per rating over theirs; None: no paired run
    factors_pair: tuple[Any, Any] = (None, None)


def twins(rows: pd.DataFrame, runs: pd.DataFrame) -> list[Twins]:
    """Every (contender, twin) pair that ran on the CPU here, matched by k.

    Where several settings of a contender ran at one k (a sweep), the fastest of each side
    is compared. A pair that shares no number of factors is returned once with ``factors``
    NaN and no ratio.
    """
    cpu = rows[(rows["backend"] == "cpu") & rows["ratings_per_s"].notna()]
    found = []
    for model in dict.fromkeys(cpu["model"]):
        other = models.twin(model)
        if other is None or other not in set(cpu["model"]):
            continue
        mine, theirs = cpu[cpu["model"] == model], cpu[cpu["model"] == other]
        shared = sorted(set(mine["factors"].dropna()) & set(theirs["factors"].dropna()))
        if not shared:
            pair = (_ks(mine), _ks(theirs))
            found.append(
                Twins(model, other, math.nan, _fastest(mine), _fastest(theirs), None, pair)
            )
        for k in shared:
            one = _fastest(mine[mine["factors"] == k])
            two = _fastest(theirs[theirs["factors"] == k])
            ratio = ratio_of(runs, one["label"], two["label"], PER_RATING, PER_RATING)
            found.append(Twins(model, other, k, one, two, ratio, (k, k)))
    return found


def _fastest(frame: pd.DataFrame) -> pd.Series:
    return frame.loc[frame["ratings_per_s"].idxmax()]


def _ks(frame: pd.DataFrame) -> str:
    ks = sorted(frame["factors"].dropna().unique())
    return "/".join(f"{k:g}" for k in ks) or "?"


# -- CUDA against the CPU, and against the contest's reference ----------------------------------


@dataclass(frozen=True)
class OnCuda:
    """A contender on CUDA against itself on the CPU, paired by ``(fold, seed)``."""

    label: str
    cuda: pd.Series  # its summary rows
    cpu: pd.Series
    ratio: Ratio | None  # CUDA's time per rating over the CPU's


def on_cuda(rows: pd.DataFrame, runs: pd.DataFrame) -> list[OnCuda]:
    """Every contender setting with ok runs on CUDA and on the CPU here."""
    if rows.empty:
        return []
    cpu = rows[rows["backend"] == "cpu"].set_index("label")
    found = []
    for row in rows[rows["backend"] == "cuda"].to_dict("records"):
        label = row["label"]
        if label not in cpu.index:
            continue
        ratio = ratio_of(
            runs,
            label,
            label,
            PER_RATING,
            PER_RATING,
            ("cuda", "cpu"),
            (f"{label} on CUDA", f"{label} on the CPU"),
        )
        found.append(OnCuda(label, pd.Series(row), cpu.loc[label], ratio))
    return found


def speed_reference(contest: Contest, override: str | None) -> str | None:
    """The contender whose time per rating ``contest``'s ratios divide by: ``override`` where
    it enters the contest, else the contest's registered ``speedup_baseline``."""
    if override is not None and models.enters(override, contest):
        return override
    return models.speedup_baseline(contest)


@dataclass(frozen=True)
class AgainstReference:
    """A contender setting's time per rating over the reference's at the same factors."""

    label: str
    backend: str
    ratio: Ratio | None
    why_not: str = ""  # why there is no ratio: a floor, does not train, k differs


def against_reference(
    rows: pd.DataFrame, runs: pd.DataFrame, reference: str | None
) -> dict[tuple[str, str], AgainstReference]:
    """Each summary row's ratio to ``reference`` (its fastest CPU setting at the same k); empty
    where the reference did not run here on the CPU."""
    named = (rows["model"] == reference) | (rows["label"] == reference)
    cpu = rows[named & (rows["backend"] == "cpu")]
    if reference is None or cpu.empty:
        return {}
    found = {}
    for row in rows.to_dict("records"):
        key, why = (row["label"], row["backend"]), ""
        if models.is_floor(row["model"]):
            why = "floor"
        elif not models.trains(row["model"]):
            why = "does not train"
        same_k = cpu[cpu["factors"] == row["factors"]]
        if not why and same_k.empty:
            why = "k differs"
        ratio = None
        if not why:
            fastest = _fastest(same_k)
            ratio = ratio_of(
                runs,
                row["label"],
                fastest["label"],
                PER_RATING,
                PER_RATING,
                (row["backend"], "cpu"),
                (_shown(row["label"], row["backend"]), fastest["label"]),
            )
        found[key] = AgainstReference(row["label"], row["backend"], ratio, why)
    return found


def _shown(label: str, backend: str) -> str:
    return label if backend == "cpu" else f"{label} ({backend})"


# -- time to target, throughput, budgets --------------------------------------------------------


@dataclass(frozen=True)
class TargetRace:
    """Who reached the rating contest's target first (lowest median time), and who did not."""

    target: float
    first: pd.Series | None  # the summary row; None: nobody reached it
    missed: list[str]  # labels with a curve that never reached it
    untimed: list[str]  # labels without a per-epoch curve


def target_race(rows: pd.DataFrame) -> TargetRace | None:
    """The rating contest's race to its target RMSE, where the data set sets one."""
    rated = entrants_of(rows, Contest.RATING)
    if rated.empty or "rating_target" not in rated or math.isnan(rated["rating_target"].iloc[0]):
        return None
    target = float(rated["rating_target"].iloc[0])
    reached = rated[rated["time_to_rating_target_s"].notna()]
    if reached.empty:
        return TargetRace(target, None, [], [])
    first = reached.loc[reached["time_to_rating_target_s"].idxmin()]
    others = rated[~rated["label"].isin(set(reached["label"]))]
    missed = list(dict.fromkeys(others.loc[others["model"].map(models.has_curve), "label"]))
    untimed = list(dict.fromkeys(others.loc[~others["model"].map(models.has_curve), "label"]))
    return TargetRace(target, first, missed, untimed)


def highest_throughput(rows: pd.DataFrame, contest: Contest) -> pd.Series | None:
    """The summary row of the highest throughput among ``contest``'s trained contenders."""
    trained = entrants_of(rows, contest)
    trained = trained[
        trained["model"].map(models.trains).astype(bool)
        & ~trained["model"].map(models.is_floor).astype(bool)
        & trained["ratings_per_s"].notna()
    ]
    if trained.empty:
        return None
    return trained.loc[trained["ratings_per_s"].idxmax()]


@dataclass(frozen=True)
class Budget:
    """How much of its budget a contender setting used: a capped epoch, an early stop."""

    capped_share: float | None = None  # the share of each epoch visited, where capped
    epochs: float | None = None  # the epochs run, where stopped early
    epochs_requested: float | None = None
    best_epoch: float | None = None  # the epoch kept, where stopped early

    @property
    def full(self) -> bool:
        return self.capped_share is None and self.epochs is None


def budget(row: pd.Series) -> Budget:
    """A summary row's budget: ``capped_share`` for a contender whose epochs visit part of
    the data (``Model.caps_epochs``), ``epochs`` of ``epochs_requested`` where training
    stopped early."""
    capped = None
    epochs, visited, n_train = row["epochs"], row["ratings_processed"], row["n_train"]
    if (
        models.caps_epochs(row["model"])
        and all(np.isfinite([epochs, visited, n_train]))
        and visited < epochs * n_train
    ):
        capped = float(visited / (epochs * n_train))
    asked = row.get("epochs_requested", math.nan)
    if np.isfinite(asked) and np.isfinite(epochs) and epochs < asked:
        best = row.get("best_epoch", math.nan)
        kept = float(best) if best is not None and np.isfinite(best) else None
        return Budget(capped, float(epochs), float(asked), kept)
    return Budget(capped)


#: The column of the records' time to each contest's target, and the grid's setting of it.
TARGET_COLUMN = {
    Contest.RATING: "time_to_rating_target_s",
    Contest.RANKING: "time_to_ranking_target_s",
}
TARGET_SETTING = {Contest.RATING: "rating_target", Contest.RANKING: "ranking_target"}


def target_of(runs: pd.DataFrame, contest: Contest) -> float | None:
    """The target ``runs`` were timed to in ``contest`` (one per data set), None if none."""
    setting = TARGET_SETTING[contest]
    if setting not in runs or runs[setting].isna().all():
        return None
    return float(runs[setting].dropna().iloc[0])
