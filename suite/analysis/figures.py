"""Each figure's numbers, computed once: the report's PNGs (``suite.plots``) and the site's
interactive figures (``suite.site.figures``) draw the same objects (benchopt's pattern: a plot
is data first, rendered twice).

- ``pareto``: a contest's primary metric against fit time, one point per contender setting,
  the floors as levels, the frontier, and the y window;
- ``convergence``: a contest's primary metric on the test set against training time, the
  median over runs at each epoch with its min–max band, the target and noise floor, the
  window;
- ``epoch_times``: seconds per 10⁶ ratings visited of each training contender, fastest first;
- ``claim_points``: the "custom solutions are faster" ratios, each at its data set's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite import metrics, models
from suite import results as results_io
from suite.analysis.claims import Claim
from suite.analysis.summary import entrants_of
from suite.analysis.window import Window, y_window
from suite.models.base import Contest


def shown_name(label: str, backend: str) -> str:
    """How figures and tables name a label on a backend: CPU plain, others "(cuda)" after."""
    return label if backend == "cpu" else f"{label} ({backend})"


@dataclass(frozen=True)
class Setting:
    """Which contender setting a mark of a figure stands for."""

    label: str
    backend: str
    model: str

    @property
    def name(self) -> str:
        return shown_name(self.label, self.backend)


# -- Pareto -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParetoPoint:
    """One contender setting at (median fit time, mean metric), with its spreads and runs."""

    setting: Setting
    fit_s: float
    fit_min: float
    fit_max: float
    score: float
    score_std: float  # 0 where unknown (one run)
    runs: int
    settings: dict[str, str]  # the hyperparameters its runs share ("varies" where they differ)
    folds: list[int]
    seeds: list[int]


@dataclass(frozen=True)
class Level:
    """A horizontal reference: a floor's mean, the RMSE target, the noise floor."""

    name: str
    value: float
    setting: Setting | None = None  # the floor's contender, where it is one


@dataclass(frozen=True)
class Pareto:
    """``metric`` against fit time on ``dataset``: points, floors, frontier and window."""

    dataset: str
    metric: metrics.Metric
    points: list[ParetoPoint]
    floors: list[Level]
    frontier: list[ParetoPoint]  # fastest first: the best score reached within each time
    window: Window


def frontier(rows: pd.DataFrame, metric: metrics.Metric) -> list:
    """Index labels of the rows on the Pareto frontier of fit time and ``metric``, fastest first.

    A row is on it when no other row is at least as fast and at least as accurate, and
    strictly better in one of the two (``metric.higher_is_better`` says which way is
    better). Floors, and rows without a positive ``fit_median`` or a ``<metric>_mean``, are
    not candidates. Two rows equal in both are both on it.
    """
    points = _candidates(rows, metric)
    sign = 1.0 if metric.higher_is_better else -1.0
    score = sign * points[f"{metric.column}_mean"]
    order = pd.DataFrame({"fit": points["fit_median"], "score": score}).sort_values(
        ["fit", "score"], ascending=[True, False], kind="stable"
    )
    chosen: list = []
    best, best_fit = -math.inf, math.nan
    for index, fit, value in zip(order.index, order["fit"], order["score"], strict=True):
        if value > best or (value == best and fit == best_fit):
            chosen.append(index)
            best, best_fit = value, fit
    return chosen


def _candidates(rows: pd.DataFrame, metric: metrics.Metric) -> pd.DataFrame:
    """Rows that are points: not a floor, with a positive fit time and a metric value."""
    score = rows[f"{metric.column}_mean"]
    fit = rows["fit_median"]
    keep = ~rows["model"].map(models.is_floor).astype(bool) & np.isfinite(score) & (fit > 0)
    return rows[keep]


def pareto(dataset: str, rows: pd.DataFrame, runs: pd.DataFrame, contest: Contest) -> Pareto | None:
    """The contest's Pareto figure on one data set (``rows``: its summary, ``runs``: its
    records); None when no contender setting has a point."""
    metric = metrics.primary(contest)
    column = f"{metric.column}_mean"
    entrants = entrants_of(rows, contest)
    candidates = _candidates(entrants, metric)
    if candidates.empty:
        return None
    by_index = {}
    for index, row in candidates.iterrows():
        setting = Setting(row["label"], row["backend"], row["model"])
        own = _own_runs(runs, row["label"], row["backend"])
        std = row.get(f"{metric.column}_std")
        by_index[index] = ParetoPoint(
            setting,
            float(row["fit_median"]),
            float(row["fit_min"]),
            float(row["fit_max"]),
            float(row[column]),
            float(std) if pd.notna(std) else 0.0,
            int(row["runs"]),
            shared_settings(own),
            _known(own["fold"]),
            _known(own["seed"]),
        )
    floors = [
        Level(
            f"{shown_name(row['label'], row['backend'])} (floor)",
            float(row[column]),
            Setting(row["label"], row["backend"], row["model"]),
        )
        for row in entrants.to_dict("records")
        if models.is_floor(row["model"]) and np.isfinite(row[column])
    ]
    points = list(by_index.values())
    spans = {
        p.setting.name: [p.score - p.score_std, p.score, p.score + p.score_std] for p in points
    }
    spans |= {level.name: [level.value] for level in floors}
    finals = {p.setting.name: p.score for p in points} | {lv.name: lv.value for lv in floors}
    window = y_window(spans, finals, higher_is_better=metric.higher_is_better)
    on = [by_index[index] for index in frontier(entrants, metric)]
    return Pareto(dataset, metric, points, floors, on, window)


def _own_runs(runs: pd.DataFrame, label: str, backend: str) -> pd.DataFrame:
    ok = results_io.ok_runs(runs)
    return ok[(ok["label"] == label) & (ok["backend"] == backend)]


def _known(values: pd.Series) -> list[int]:
    return sorted({int(v) for v in values.dropna()})


def shared_settings(runs: pd.DataFrame) -> dict[str, str]:
    """The settings (hyperparameters) a contender's runs share, as text; a value that
    differs between them reads "varies". Seed, threads and backend are left out (they are
    the repeats and the execution, shown on their own)."""
    found: dict[str, set[str]] = {}
    for text in runs["params"].dropna():
        for name, value in results_io.params_of(text).items():
            if name not in ("seed", "n_threads", "backend") and value is not None:
                found.setdefault(name, set()).add(_value(value))
    return {
        name: next(iter(values)) if len(values) == 1 else "varies"
        for name, values in sorted(found.items())
    }


def _value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# -- convergence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One contender setting's test metric against training time: per epoch, the median over
    its runs and their min–max, at the median elapsed time."""

    setting: Setting
    epochs: list[int]
    elapsed_s: list[float]
    median: list[float]
    low: list[float]
    high: list[float]
    runs: int


@dataclass(frozen=True)
class Convergence:
    """``metric`` on the test set against training time on ``dataset``."""

    dataset: str
    metric: metrics.Metric
    curves: list[Curve]
    guides: list[Level]  # the target and noise floor (rating contest)
    window: Window


#: The rating contest's guides: name, and the record column that holds it.
GUIDES = (("target", "rating_target"), ("noise floor", "rating_noise_floor"))


def convergence(
    dataset: str, runs: pd.DataFrame, curves: pd.DataFrame, metric: metrics.Metric
) -> Convergence | None:
    """``metric``'s convergence curves of the contenders that enter its contest, on one data
    set (``runs``: its records); None when none of them has a curve of it."""
    column = f"test_{metric.column}"
    ok = results_io.ok_runs(runs)
    joined = curves.merge(ok[["run_id", "model", "label", "backend"]], on="run_id")
    if joined.empty or column not in joined:
        return None
    entering = joined["model"].map(lambda m: models.enters(m, metric.contest)).astype(bool)
    drawn = []
    for (model, label, backend), rows in joined[entering].groupby(
        ["model", "label", "backend"], sort=False
    ):
        by_epoch = rows.groupby("epoch")
        median = by_epoch[column].median()
        keep = median.notna()
        if not keep.any():
            continue
        drawn.append(
            Curve(
                Setting(label, backend, model),
                [int(epoch) for epoch in median.index[keep]],
                [float(v) for v in by_epoch["elapsed_s"].median()[keep]],
                [float(v) for v in median[keep]],
                [float(v) for v in by_epoch[column].min()[keep]],
                [float(v) for v in by_epoch[column].max()[keep]],
                int(rows["run_id"].nunique()),
            )
        )
    if not drawn:
        return None
    guides = []
    if metric.contest == Contest.RATING:
        for name, source in GUIDES:
            known = ok[source].dropna() if source in ok else pd.Series(dtype=float)
            if not known.empty:
                guides.append(Level(name, float(known.iloc[0])))
    spans = {c.setting.name: [*c.median, *c.low, *c.high] for c in drawn}
    finals = {c.setting.name: c.median[-1] for c in drawn}
    window = y_window(spans, finals, [g.value for g in guides], metric.higher_is_better)
    return Convergence(dataset, metric, drawn, guides, window)


# -- time per epoch -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A training contender setting's median epoch, per 10⁶ ratings visited."""

    setting: Setting
    seconds_per_million: float
    epoch_s: float
    ratings_per_epoch: float
    factors: float


@dataclass(frozen=True)
class EpochTimes:
    """Time per epoch on ``dataset``, fastest first, and who has no bar and why."""

    dataset: str
    bars: list[Bar]
    idle: list[str]  # names of contenders that do not train
    unknown: list[str]  # names of training contenders without an epoch time or example count


def seconds_per_million(rows: pd.DataFrame) -> pd.Series:
    """Median epoch time per 10⁶ training examples visited, per summary row (NaN if unknown).

    ``epoch_s_median / (ratings_processed / epochs) × 10⁶``: an epoch's time scaled by how
    many examples one epoch visits, so contenders with different epoch sizes compare.
    """
    unknown = pd.Series(np.nan, index=rows.index)
    per_epoch = rows.get("ratings_processed", unknown) / rows.get("epochs", unknown)
    seconds = rows["epoch_s_median"] / per_epoch * 1e6
    return seconds.where(np.isfinite(seconds) & (per_epoch > 0) & (seconds > 0))


def epoch_times(dataset: str, rows: pd.DataFrame) -> EpochTimes | None:
    """The time-per-epoch bars of one data set's summary rows; None when none has one."""
    trains = rows["model"].map(models.trains).astype(bool)
    seconds = seconds_per_million(rows)
    shown = rows.assign(seconds=seconds.where(trains))
    shown = shown[shown["seconds"].notna()].sort_values("seconds")
    if shown.empty:
        return None
    factors = shown["factors"] if "factors" in shown else pd.Series(np.nan, index=shown.index)
    bars = [
        Bar(
            Setting(row["label"], row["backend"], row["model"]),
            float(row["seconds"]),
            float(row["epoch_s_median"]),
            float(row["ratings_processed"] / max(row["epochs"], 1)),
            float(k),
        )
        for (_, row), k in zip(shown.iterrows(), factors, strict=True)
    ]
    names = [shown_name(a, b) for a, b in zip(rows["label"], rows["backend"], strict=True)]
    idle = [n for n, t in zip(names, trains, strict=True) if not t]
    unknown = [n for n, t, s in zip(names, trains, seconds, strict=True) if t and pd.isna(s)]
    return EpochTimes(dataset, bars, idle, unknown)


# -- the claims figure ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimPoint:
    """One deciding ratio of a claim: at ``n_train`` training ratings, in ``contest``."""

    n_train: float
    ratio: float
    low: float | None
    high: float | None
    contest: str
    label: str  # "torch-als / libmf-sgd, ml-100k"


def claim_points(
    judged: list[Claim], sizes: dict[tuple[str, str], float], claim_id: str = "custom-faster"
) -> list[ClaimPoint]:
    """The deciding ratios of claim ``claim_id``, each at its data set's median training size
    (``sizes``: (folder, data set) -> ratings); each names its folder where they come from
    several (folders may be measured on other machines)."""
    evidence = [
        e
        for claim in judged
        if claim.id == claim_id
        for e in claim.evidence
        if e.ratio is not None and e.role == "deciding"
    ]
    several = len({e.folder for e in evidence}) > 1
    points = []
    for e in evidence:
        contest, pair = e.contest, e.name.partition(": ")[2]
        label = f"{pair}, {e.dataset}"
        ratio = e.ratio
        points.append(
            ClaimPoint(
                sizes.get((e.folder, e.dataset), math.nan),
                ratio.value,
                ratio.low if ratio.resolved else None,
                ratio.high if ratio.resolved else None,
                contest,
                f"{label} ({e.folder})" if several else label,
            )
        )
    return [point for point in points if np.isfinite(point.n_train)]
