"""What the numbers say: each contest's standings by paired tests, and sentences from them.

Every sentence here is generated from a summary (``report.summarize``) and the runs behind it;
nothing is written by hand. A contender is "best" only together with every contender the
paired test (``suite.stats``) cannot tell from it, it "beats the floor" only when
significantly better than the contest's strongest trivial reference (``Model.floor``), and a
contest where no contender beats its floor has no winner. Speed ratios are stated only
between runs doing comparable work: the same model (``Model.same_model_as``) at the same
number of factors.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from suite import metrics, models, stats
from suite.metrics import Metric
from suite.models.base import Contest

CONTEST_TITLES = {Contest.RATING: "Rating prediction", Contest.RANKING: "Top-N ranking"}


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
    vs_best: stats.Difference | None = None  # this − best; None for the best, or untestable
    tied_with_best: bool = False  # the best itself, or not significantly worse (tested)
    vs_floor: stats.Difference | None = None  # this − the contest's strongest floor
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
        makes (implicit-lmf on ML-100K, NDCG@10 0.21 ± 0.10 against the best's 0.38) is no
        claim to the top."""
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


def time_to_target_text(row: Mapping[str, Any], unit: str = "") -> str:
    """A row's time to the target RMSE: ``"0.53 s"``, ``"never"``, or ``"not timed (no curve)"``."""
    if not math.isnan(row["time_to_rating_target_s"]):
        return f"{row['time_to_rating_target_s']:.2f}{unit}"
    return "never" if models.has_curve(row["model"]) else "not timed (no curve)"


# -- standings ----------------------------------------------------------------------------------


def entrants_of(rows: pd.DataFrame, contest: Contest) -> pd.DataFrame:
    """The summary rows that enter ``contest`` and have its primary metric."""
    mean = f"{metrics.primary(contest).column}_mean"
    if rows.empty or mean not in rows:
        return rows.iloc[0:0]
    entering = rows["model"].map(lambda model: models.enters(model, contest)).astype(bool)
    return rows[rows[mean].notna() & entering]


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

    def versus(entrant: Entrant, other: Entrant | None) -> stats.Difference | None:
        if other is None:
            return None
        mine, theirs = values[entrant.label, entrant.backend], values[other.label, other.backend]
        return stats.paired_difference(mine, theirs, fraction)

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


def run_values(runs: pd.DataFrame, label: str, backend: str, column: str) -> pd.Series:
    """``column`` of the ok runs of one contender setting, indexed by ``(fold, seed)``."""
    mine = runs[(runs["label"] == label) & (runs["backend"] == backend) & (runs["status"] == "ok")]
    return mine.set_index(["fold", "seed"])[column]


def test_fraction(runs: pd.DataFrame) -> float:
    """Median ``n_test / n_train`` of the runs (the variance correction of the paired test);
    NaN when the sizes were not recorded."""
    if "n_test" not in runs or "n_train" not in runs:
        return math.nan
    return float((runs["n_test"] / runs["n_train"]).median())


def _better(difference: stats.Difference, metric: Metric) -> bool:
    """Whether ``difference`` (this − other) is a significant improvement on ``metric``."""
    improves = difference.mean > 0 if metric.higher_is_better else difference.mean < 0
    return bool(improves and difference.significant)


# -- sentences ----------------------------------------------------------------------------------


def winner_sentence(table: Standings) -> str | None:
    """Who is best, with whom it is tied, or why there is no winner."""
    metric, best, floor = table.metric, table.best, table.floor
    if best is None:
        if floor is None:
            return None
        names = ", ".join(entrant.name for entrant in table.entrants)
        return f"Only floors ran in this contest ({names}): nothing to rank."
    if not table.tested:
        return (
            f"Best: **{best.name}**, {metric.title} {best.mean:.4f} in {_runs(best.runs)}: too "
            "few runs for a paired test, so neither ties nor the margin over the floor are "
            "tested."
        )
    if table.no_winner:
        return (
            f"**No winner**: no contender is significantly better than the floor "
            f"**{floor.name}** ({metric.title} {floor.mean:.4f}); the best of them, "
            f"{best.name} ({best.mean:.4f}), differs from it by {best.vs_floor.interval()}."
        )
    tied = [entrant for entrant in table.winners if entrant is not best]
    ties = (
        "; tied with it: "
        + ", ".join(f"**{e.name}** ({e.mean:.4f}, {e.vs_best.interval()})" for e in tied)
        if tied
        else "; every other contender"
        + (" that beats the floor" if table.too_noisy_to_place else "")
        + " is significantly worse"
    )
    return f"Best: **{best.name}**, {metric.title} {best.mean:.4f} over {_runs(best.runs)}{ties}."


def floor_sentence(table: Standings) -> str | None:
    """Which contenders learned nothing beyond the floor (or that there was none to test)."""
    if table.best is None:
        return None
    if table.floor is None:
        return (
            "No floor ran on this data set, so whether the contenders learned anything is not "
            "tested."
        )
    if not table.tested or table.no_winner:
        return None
    floor = f"the floor **{table.floor.name}** ({table.metric.title} {table.floor.mean:.4f})"
    nothing, unproven = table.learned_nothing, table.unproven
    if not nothing and not unproven:
        untested = [e.name for e in table.contenders if e.beats_floor is None]
        rest = f" ({', '.join(untested)}: too few runs to test)" if untested else ""
        return f"Every contender beats {floor}{rest}."
    said = []
    if nothing:
        listed = ", ".join(f"**{e.name}** ({e.mean:.4f})" for e in nothing)
        said.append(f"Learned nothing beyond {floor}: {listed}.")
    if unproven:
        listed = ", ".join(
            f"**{e.name}** ({e.mean:.4f}, {e.vs_floor.interval()})" for e in unproven
        )
        said.append(f"Ahead of {floor} on average but not significantly (too noisy): {listed}.")
    return " ".join(said)


def test_sentence() -> str:
    return (
        f"Ties and floors: {stats.TEST_NAME}, α = {stats.ALPHA:g}; a difference is this "
        f"contender minus the best (or the floor), with its {1 - stats.ALPHA:.0%} confidence "
        "interval."
    )


def rating_models_rank(rows: pd.DataFrame) -> str | None:
    """The best NDCG of the rating-only contenders: a finding, not an entry."""
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
    best = rating_only.loc[rating_only[mean].idxmax()]
    return (
        f"Rating models rank too, as a finding: the best, **{best['label']}**, reaches "
        f"{ranking.title} {best[mean]:.4f}. Trained to predict every rating (RMSE), they spend "
        "their capacity on the ratings' values, not on which items a user picks."
    )


def no_ranking(rows: pd.DataFrame) -> str | None:
    """Why there is no ranking result at all, where the ranking metrics are undefined."""
    if rows.empty or rows[f"{metrics.primary(Contest.RANKING).column}_mean"].notna().any():
        return None
    return (
        "No ranking result: the ranking metrics are undefined here (no test rating reaches "
        "the relevance threshold)."
    )


def time_to_target(rows: pd.DataFrame) -> str | None:
    """Who reached the rating contest's target RMSE first, and who never did."""
    rated = entrants_of(rows, Contest.RATING)
    if rated.empty or "rating_target" not in rated or math.isnan(rated["rating_target"].iloc[0]):
        return None
    target, title = rated["rating_target"].iloc[0], metrics.primary(Contest.RATING).title
    reached = rated[rated["time_to_rating_target_s"].notna()]
    if reached.empty:
        return f"No contender reached the target {title} {target:g}."
    first = reached.loc[reached["time_to_rating_target_s"].idxmin()]
    others = rated[~rated["label"].isin(set(reached["label"]))]
    missed = list(dict.fromkeys(others.loc[others["model"].map(models.has_curve), "label"]))
    untimed = list(dict.fromkeys(others.loc[~others["model"].map(models.has_curve), "label"]))
    return (
        f"Fastest to {title} ≤ {target:g}: **{first['label']}** ({first['backend']}) after "
        f"{first['time_to_rating_target_s']:.2f} s of training"
        + (f"; never reached by {', '.join(missed)}" if missed else "")
        + (f"; not timed (no per-epoch curve): {', '.join(untimed)}" if untimed else "")
        + "."
    )


def highest_throughput(rows: pd.DataFrame, contest: Contest) -> str | None:
    """The highest training throughput among ``contest``'s trained contenders, with its k."""
    trained = entrants_of(rows, contest)
    trained = trained[
        trained["model"].map(models.trains).astype(bool)
        & ~trained["model"].map(models.is_floor).astype(bool)
        & trained["ratings_per_s"].notna()
    ]
    if trained.empty:
        return None
    fastest = trained.loc[trained["ratings_per_s"].idxmax()]
    return (
        f"Highest training throughput: **{fastest['label']}** ({fastest['backend']}"
        f"{_factors(fastest['factors'], ', ')}), {si(fastest['ratings_per_s'])} ratings/s "
        "(examples visited per second of fit; the work per example grows with the factors)."
    )


# -- the same model, trained two ways -----------------------------------------------------------


@dataclass(frozen=True)
class Pairing:
    """A contender and its twin (``same_model_as``) on the CPU at one k: throughput ratio."""

    model: str
    twin: str
    factors: float  # NaN: the two ran with different factors (see ``factors_pair``)
    mine: pd.Series  # the summary row (the fastest setting of ``model`` at this k)
    theirs: pd.Series
    ratio: float  # mine / theirs ratings/s
    on_par: bool  # the ratio's 95% interval lies within ±10% (``PAR``)
    tested: bool  # the two had the two or more paired runs an interval needs
    factors_pair: tuple[Any, Any] = (None, None)
    interval: tuple[float, float] | None = None  # the ratio's 95% interval
    resolved: bool = False  # the interval lies beyond ±10% (or within: on par)

    def interval_text(self) -> str:
        return f" [{self.interval[0]:.2f}, {self.interval[1]:.2f}]" if self.interval else ""


#: A throughput ratio is "on par" only when its 95% interval lies within this factor of 1.
PAR = 1.1


def pairings(rows: pd.DataFrame, runs: pd.DataFrame) -> list[Pairing]:
    """Every (contender, twin) pair that ran on the CPU here, matched by k.

    Where several settings of a contender ran at one k (a sweep), the fastest of each side
    is compared. A pair that shares no number of factors is returned once with ``factors`` NaN
    and no ratio.
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
            found.append(
                Pairing(
                    model,
                    other,
                    math.nan,
                    _fastest(mine),
                    _fastest(theirs),
                    math.nan,
                    False,
                    False,
                    (_ks(mine), _ks(theirs)),
                )
            )
        for k in shared:
            one, two = (
                _fastest(mine[mine["factors"] == k]),
                _fastest(theirs[theirs["factors"] == k]),
            )
            log_one = np.log(run_values(runs, one["label"], "cpu", "ratings_per_s"))
            log_two = np.log(run_values(runs, two["label"], "cpu", "ratings_per_s"))
            difference = stats.paired_difference(log_one, log_two, 0.0)
            ratio = one["ratings_per_s"] / two["ratings_per_s"]
            tested = difference is not None
            interval = (math.exp(difference.low), math.exp(difference.high)) if difference else None
            on_par = interval is not None and interval[0] >= 1 / PAR and interval[1] <= PAR
            resolved = interval is not None and (
                on_par or interval[0] > PAR or interval[1] < 1 / PAR
            )
            found.append(
                Pairing(
                    model, other, k, one, two, ratio, on_par, tested, (k, k), interval, resolved
                )
            )
    return found


def pairing_sentence(pair: Pairing, rows: pd.DataFrame) -> str:
    """The throughput of the same model trained two ways, and their time to the target."""
    one, two = pair.mine, pair.theirs
    target = _to_target(rows, one, two)
    if math.isnan(pair.factors):
        return (
            f"Same model, trained two ways: **{one['label']}** ({pair.factors_pair[0]} factors) "
            f"and **{two['label']}** ({pair.factors_pair[1]} factors) ran with different factors, "
            "so their "
            f"throughput per rating is not compared{target}."
        )
    ratio = pair.ratio if pair.ratio >= 1 else 1 / pair.ratio
    faster = one["label"] if pair.ratio >= 1 else two["label"]
    if pair.on_par:
        verdict = f"on par (its 95% interval{pair.interval_text()} within ±10%)"
    elif not pair.tested:
        verdict = f"{faster} {ratio:.{1 if ratio < 10 else 0}f}× (one run: noise not measured)"
    elif not pair.resolved:
        verdict = (
            f"not resolved: {one['label']} / {two['label']} {pair.ratio:.2f}×{pair.interval_text()}"
        )
    else:
        verdict = (
            f"{faster} {ratio:.{1 if ratio < 10 else 0}f}× the throughput "
            f"({one['label']} / {two['label']}{pair.interval_text()})"
        )
    return (
        f"Same model, trained two ways, at {pair.factors:g} factors: **{one['label']}** "
        f"{si(one['ratings_per_s'])} ratings/s{_budget_note(one)}, **{two['label']}** "
        f"{si(two['ratings_per_s'])} ratings/s{_budget_note(two)} — {verdict}{target}."
    )


def _to_target(rows: pd.DataFrame, *sides: pd.Series) -> str:
    """``"; to RMSE ≤ 0.93: a 0.53 s, b not reached"`` where the data set has a target."""
    target = sides[0].get("rating_target", math.nan)
    if target is None or math.isnan(target) or any(math.isnan(s[f"{_RMSE}_mean"]) for s in sides):
        return ""
    times = ", ".join(f"{s['label']} {time_to_target_text(s, ' s')}" for s in sides)
    return f"; to {metrics.primary(Contest.RATING).title} ≤ {target:g}: {times}"


_RMSE = metrics.primary(Contest.RATING).column


def budget(row: pd.Series) -> str:
    """``"full"``, ``"capped: 12% of each epoch"`` or ``"stopped early: 12 of 40 epochs"``."""
    notes = []
    epochs, visited, n_train = row["epochs"], row["ratings_processed"], row["n_train"]
    if (
        models.caps_epochs(row["model"])
        and all(np.isfinite([epochs, visited, n_train]))
        and visited < epochs * n_train
    ):
        notes.append(f"capped: {visited / (epochs * n_train):.0%} of each epoch")
    asked = row.get("epochs_requested", math.nan)
    if np.isfinite(asked) and np.isfinite(epochs) and epochs < asked:
        best = row.get("best_epoch", math.nan)
        kept = f", best {best:g} kept" if best is not None and np.isfinite(best) else ""
        notes.append(f"stopped early: {epochs:g} of {asked:g} epochs{kept}")
    return "; ".join(notes) or "full"


def _budget_note(row: pd.Series) -> str:
    note = budget(row)
    return "" if note == "full" else f" ({note})"


def _fastest(frame: pd.DataFrame) -> pd.Series:
    return frame.loc[frame["ratings_per_s"].idxmax()]


def _ks(frame: pd.DataFrame) -> str:
    ks = sorted(frame["factors"].dropna().unique())
    return "/".join(f"{k:g}" for k in ks) or "?"


def _factors(factors: Any, prefix: str = "") -> str:
    return f"{prefix}{factors:g} factors" if factors is not None and np.isfinite(factors) else ""


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def si(value: float) -> str:
    """``1.55M``: a count or rate with an SI suffix (``n/a`` for NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


# -- the verdict: three to five sentences per data set ------------------------------------------


#: What a cost grid's report says instead of its contest verdicts (``Grid.cost_only``).
NOT_JUDGED = (
    "Accuracy: not judged — a cost grid, where each contender runs a fixed, small budget; "
    "the scores in the tables are where that budget ended, not what the contender can reach."
)


def verdict(
    rows: pd.DataFrame, runs: pd.DataFrame, gpu_name: str | None = None, cost_only: bool = False
) -> list[str]:
    """The suite's question answered for one data set: accuracy (not on a cost grid),
    ranking, CPU speed, GPU."""
    said = (
        [NOT_JUDGED]
        if cost_only
        else [
            contest_verdict(standings(rows, runs, contest))
            for contest in (Contest.RATING, Contest.RANKING)
        ]
    )
    said.append(no_ranking(rows))
    said += [speed_verdict(pairings(rows, runs)), gpu_verdict(rows, runs, gpu_name)]
    return [sentence for sentence in said if sentence]


def contest_verdict(table: Standings) -> str | None:
    """One sentence: the contest's winners (ties named), or no winner, and the floor."""
    title, metric = f"{CONTEST_TITLES[table.contest]} ({table.metric.title})", table.metric
    if table.best is None:
        return f"{title}: only floors ran." if table.floor is not None else None
    if not table.tested:
        return (
            f"{title}: **{table.best.name}** has the best {metric.title} "
            f"({table.best.mean:.4f}) in a single run, so no tie or floor is tested."
        )
    if table.no_winner:
        return (
            f"{title}: **no winner** — no contender is significantly better than the floor "
            f"{table.floor.name} ({table.floor.mean:.4f})."
        )
    winners = table.winners
    names = " and ".join(
        [", ".join(f"**{e.name}**" for e in winners[:-1]), f"**{winners[-1].name}**"]
        if len(winners) > 1
        else [f"**{winners[0].name}**"]
    )
    values = ", ".join(f"{e.mean:.4f}" for e in winners)
    untested = any(e.vs_best is None for e in table.contenders if e is not table.best)
    lead = (
        f"{names} are tied for best ({values})"
        if len(winners) > 1
        else f"{names} is best ({values}), significantly ahead of every other contender"
        + (" that beats the floor" if table.too_noisy_to_place else "")
        + (" tested against it" if untested else "")
    )
    if table.floor is None:
        return f"{title}: {lead}; no floor ran."
    floor = f"the floor {table.floor.name} ({table.floor.mean:.4f})"
    nothing, unproven = table.learned_nothing, table.unproven
    tails = []
    if nothing:
        tails.append(f"{', '.join(e.name for e in nothing)} learned nothing beyond {floor}")
    if unproven:
        tails.append(
            f"{', '.join(e.name for e in unproven)} "
            f"{'is' if len(unproven) == 1 else 'are'} not shown to beat {floor} (too noisy)"
        )
    if table.capped:
        tails.append(
            f"{', '.join(e.name for e in table.capped)}: capped budget, accuracy not judged"
        )
    if not nothing and not unproven:
        tested = all(e.beats_floor is not None for e in table.contenders if e not in table.capped)
        rest = " else" if table.capped else ""
        tails.insert(0, f"every contender{rest}{'' if tested else ' tested'} beats {floor}")
    return f"{title}: {lead}; " + "; ".join(tails) + "."


def speed_verdict(found: list[Pairing]) -> str:
    """CPU throughput of each PyTorch contender against its compiled twin, at equal factors."""
    pairs = [p for p in found if models.is_pytorch(p.model) and not models.is_pytorch(p.twin)]
    if not pairs:
        return "CPU speed: no PyTorch contender ran beside its compiled counterpart here."
    parts = []
    for pair in pairs:
        if math.isnan(pair.factors):
            parts.append(
                f"{pair.model} ({pair.factors_pair[0]} factors) and {pair.twin} "
                f"({pair.factors_pair[1]} factors) ran with different factors, not compared"
            )
        elif pair.on_par:
            parts.append(f"{pair.model} on par with {pair.twin} ({pair.factors:g} factors)")
        elif pair.tested and not pair.resolved:
            parts.append(
                f"{pair.model} {ratio(pair.ratio)} {pair.twin}, not resolved "
                f"({pair.factors:g} factors, 95% interval{pair.interval_text()})"
            )
        else:
            once = "" if pair.tested else ", one run: noise not measured"
            parts.append(
                f"{pair.model} {ratio(pair.ratio)} {pair.twin} ({pair.factors:g} factors{once})"
            )
    return (
        "CPU speed per rating, PyTorch against its compiled counterpart at equal factors: "
        + "; ".join(parts)
        + "."
    )


def gpu_verdict(rows: pd.DataFrame, runs: pd.DataFrame, gpu_name: str | None) -> str:
    """What CUDA measured here, or why it measured nothing."""
    gpu = rows[rows["backend"] == "cuda"] if not rows.empty else rows
    cpu = rows[rows["backend"] == "cpu"].set_index("label") if not rows.empty else rows
    if not gpu.empty:
        parts = [
            f"{row['label']} {ratio(row['ratings_per_s'] / cpu.at[row['label'], 'ratings_per_s'])}"
            " its CPU throughput"
            for row in gpu.to_dict("records")
            if row["label"] in cpu.index
        ]
        where = f" ({gpu_name})" if gpu_name else ""
        return (
            f"GPU{where}: "
            + ("; ".join(parts) if parts else "measured, no CPU run to compare")
            + "."
        )
    tried = runs[runs["backend"] == "cuda"]
    if tried.empty:
        return "GPU: not measured on this run (this config runs nothing on CUDA)."
    reasons = tried["reason"].dropna().astype(str)
    reason = reasons[reasons != ""].iloc[0] if (reasons != "").any() else "no CUDA run succeeded"
    return f"GPU: not measured on this run — {reason}."


def ratio(value: float) -> str:
    """``0.24×``, ``1.3×``, ``12×``: a ratio with the digits its size deserves."""
    if not np.isfinite(value):
        return "n/a"
    if value < 1:
        return f"{value:.2g}×" if value < 0.1 else f"{value:.2f}×"  # 0.0014×, 0.41×
    return f"{value:.1f}×" if value < 10 else f"{value:.0f}×"
