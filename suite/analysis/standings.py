"""Each contest's standings on one data set: its entrants ranked by paired tests.

A contender is "best" only together with every contender the paired test
(``suite.analysis.paired``) cannot tell from it, it "beats the floor" only when significantly
better than the contest's strongest trivial reference (``Model.floor``), and a contest where no
contender beats its floor has no winner.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite import metrics, models
from suite.analysis import paired
from suite.analysis.summary import entrants_of, run_values, test_fraction
from suite.metrics import Metric
from suite.models.base import Contest


@dataclass(frozen=True)
class Entrant:
    """One contender setting (label, backend) in one contest on one data set."""

    label: str
    backend: str
    model: str
    mean: float
    std: float
    runs: int
    floor: bool
    vs_best: paired.Difference | None = None  # this − best; None for the best, or untestable
    tied_with_best: bool = False  # the best itself, or not significantly worse (tested)
    vs_floor: paired.Difference | None = None  # this − the contest's strongest floor
    beats_floor: bool | None = None  # None: no floor ran, or too few runs to test

    @property
    def name(self) -> str:
        """The label, with the backend where it is not the CPU."""
        return self.label if self.backend == "cpu" else f"{self.label} ({self.backend})"


@dataclass(frozen=True)
class Standings:
    """A contest's entrants on one data set, tested against the best and against the floor."""

    contest: Contest
    metric: Metric
    entrants: list[Entrant]  # contenders best first, then floors
    best: Entrant | None  # the best mean among the non-floor entrants
    floor: Entrant | None  # the strongest floor that ran

    @property
    def contenders(self) -> list[Entrant]:
        return [entrant for entrant in self.entrants if not entrant.floor]

    @property
    def tested(self) -> bool:
        """Whether the best has the two or more runs a paired test needs."""
        return self.best is not None and self.best.runs >= 2

    @property
    def winners(self) -> list[Entrant]:
        """The best and every contender tied with it; none where nobody beats the floor. A
        contender not shown to beat the floor is not among them: a tie that its noise alone
        makes (a spread as wide as its distance to the best) is no claim to the top."""
        if self.best is None or self.no_winner:
            return []
        return [
            e
            for e in self.contenders
            if e is self.best or (e.tied_with_best and e.beats_floor is not False)
        ]

    @property
    def too_noisy_to_place(self) -> list[Entrant]:
        """Contenders tied with the best and not shown to beat the floor: tied with both."""
        winners = self.winners
        return [e for e in self.contenders if e.tied_with_best and e not in winners]

    @property
    def no_winner(self) -> bool:
        """A floor ran, the test was possible, and no contender is significantly better."""
        return (
            self.floor is not None
            and self.tested
            and not any(entrant.beats_floor for entrant in self.contenders)
        )

    @property
    def learned_nothing(self) -> list[Entrant]:
        """Contenders tested against the floor and, on average, no better than it (a capped
        budget aside: its accuracy is not judged)."""
        return [
            e
            for e in self.contenders
            if e.beats_floor is False and not self._ahead(e) and not models.caps_epochs(e.model)
        ]

    @property
    def unproven(self) -> list[Entrant]:
        """Contenders ahead of the floor on average, but not significantly: too noisy to tell."""
        return [
            e
            for e in self.contenders
            if e.beats_floor is False and self._ahead(e) and not models.caps_epochs(e.model)
        ]

    @property
    def capped(self) -> list[Entrant]:
        """Contenders whose epochs visit only part of the data (``Model.caps_epochs``): their
        accuracy comes from a capped budget and is not judged."""
        return [e for e in self.contenders if models.caps_epochs(e.model)]

    def _ahead(self, entrant: Entrant) -> bool:
        difference = entrant.vs_floor.mean if entrant.vs_floor is not None else 0.0
        return difference > 0 if self.metric.higher_is_better else difference < 0


def standings(rows: pd.DataFrame, runs: pd.DataFrame, contest: Contest) -> Standings:
    """Rank ``contest``'s entrants in ``rows`` (one data set's summary) by paired tests.

    ``runs`` are that data set's records; runs pair up by ``(fold, seed)``. Each contender is
    compared with the best (the best mean among non-floors) and with the strongest floor.
    """
    metric = metrics.primary(contest)
    mean = f"{metric.column}_mean"
    frame = entrants_of(rows, contest)
    frame = frame.sort_values(mean, ascending=not metric.higher_is_better, kind="stable")
    plain = [
        Entrant(
            label=row["label"],
            backend=row["backend"],
            model=row["model"],
            mean=float(row[mean]),
            std=float(row[f"{metric.column}_std"]),
            runs=int(row["runs"]),
            floor=models.is_floor(row["model"]),
        )
        for row in frame.to_dict("records")
    ]
    floors = [entrant for entrant in plain if entrant.floor]
    rivals = [entrant for entrant in plain if not entrant.floor]
    floor = floors[0] if floors else None
    if not rivals:
        return Standings(contest, metric, floors, None, floor)
    best = rivals[0]
    fraction = test_fraction(runs)
    fraction = fraction if np.isfinite(fraction) else 0.0  # sizes unknown: uncorrected
    values = {
        (e.label, e.backend): run_values(runs, e.label, e.backend, metric.column) for e in plain
    }

    def versus(entrant: Entrant, other: Entrant | None) -> paired.Difference | None:
        if other is None:
            return None
        mine, theirs = values[entrant.label, entrant.backend], values[other.label, other.backend]
        return paired.paired_difference(mine, theirs, fraction)

    ranked = []
    for entrant in rivals:
        to_best = None if entrant is best else versus(entrant, best)
        to_floor = versus(entrant, floor)
        ranked.append(
            dataclasses.replace(
                entrant,
                vs_best=to_best,
                tied_with_best=entrant is best or (to_best is not None and not to_best.significant),
                vs_floor=to_floor,
                beats_floor=None if to_floor is None else _better(to_floor, metric),
            )
        )
    return Standings(contest, metric, ranked + floors, ranked[0], floor)


def _better(difference: paired.Difference, metric: Metric) -> bool:
    """Whether ``difference`` (this − other) is a significant improvement on ``metric``."""
    improves = difference.mean > 0 if metric.higher_is_better else difference.mean < 0
    return bool(improves and difference.significant)


def best_rating_model_rank(rows: pd.DataFrame) -> pd.Series | None:
    """The summary row of the best ranking score among the rating-only contenders (not
    floors): a finding, not an entry of the ranking contest."""
    ranking = metrics.primary(Contest.RANKING)
    mean = f"{ranking.column}_mean"
    if rows.empty:
        return None
    rating_only = rows[
        rows[mean].notna()
        & ~rows["model"].map(lambda m: models.enters(m, Contest.RANKING)).astype(bool)
        & ~rows["model"].map(models.is_floor).astype(bool)
    ]
    if rating_only.empty:
        return None
    return rating_only.loc[rating_only[mean].idxmax()]
