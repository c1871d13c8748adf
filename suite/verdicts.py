"""What the numbers say, in sentences: a data set's verdict and each contest's findings.

Every sentence is rendered from the analysis layer's objects (``suite.analysis``: standings,
speed ratios, the race to the target); nothing here computes a figure. Sentences are
``suite.wording.Sentence`` fragments, so that REPORT.md, the README and the site render the
same words (in Markdown or HTML).
"""

from __future__ import annotations

import math

from suite import metrics, models
from suite.analysis.folder import DatasetAnalysis
from suite.analysis.paired import ALPHA, TEST_NAME, Reading
from suite.analysis.speed import Budget, OnCuda, TargetRace, Twins
from suite.analysis.standings import Standings
from suite.models.base import Contest
from suite.wording import (
    Sentence,
    Strong,
    difference,
    interval,
    joined,
    own_speed,
    reading,
    sentence,
    si,
    speed,
    times,
)

CONTEST_TITLES = {Contest.RATING: "Rating prediction", Contest.RANKING: "Top-N ranking"}

#: What a cost grid's report says instead of its contest verdicts (``Grid.cost_only``).
NOT_JUDGED = (
    "Accuracy: not judged — a cost grid, where each contender runs a fixed, small budget; "
    "the scores in the tables are where that budget ended, not what the contender can reach."
)


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _names(entrants: list, separator: str = ", ") -> Sentence:
    return joined(((Strong(e.name),) for e in entrants), separator)


# -- a contest's standings ----------------------------------------------------------------------


def winner_sentence(table: Standings) -> Sentence | None:
    """Who is best, with whom it is tied, or why there is no winner."""
    metric, best, floor = table.metric, table.best, table.floor
    if best is None:
        if floor is None:
            return None
        names = ", ".join(entrant.name for entrant in table.entrants)
        return sentence(f"Only floors ran in this contest ({names}): nothing to rank.")
    if not table.tested:
        return sentence(
            "Best: ",
            Strong(best.name),
            f", {metric.title} {best.mean:.4f} in {_runs(best.runs)}: too few runs for a "
            "paired test, so neither ties nor the margin over the floor are tested.",
        )
    if table.no_winner:
        return sentence(
            Strong("No winner"),
            ": no contender is significantly better than the floor ",
            Strong(floor.name),
            f" ({metric.title} {floor.mean:.4f}); the best of them, {best.name} "
            f"({best.mean:.4f}), differs from it by {difference(best.vs_floor)}.",
        )
    tied = [entrant for entrant in table.winners if entrant is not best]
    if tied:
        ties = sentence(
            "; tied with it: ",
            joined(
                sentence(Strong(e.name), f" ({e.mean:.4f}, {difference(e.vs_best)})") for e in tied
            ),
        )
    else:
        ties = sentence(
            "; every other contender"
            + (" that beats the floor" if table.too_noisy_to_place else "")
            + " is significantly worse"
        )
    return sentence(
        "Best: ",
        Strong(best.name),
        f", {metric.title} {best.mean:.4f} over {_runs(best.runs)}",
        ties,
        ".",
    )


def floor_sentence(table: Standings) -> Sentence | None:
    """Which contenders learned nothing beyond the floor (or that there was none to test)."""
    if table.best is None:
        return None
    if table.floor is None:
        return sentence(
            "No floor ran on this data set, so whether the contenders learned anything is not "
            "tested."
        )
    if not table.tested or table.no_winner:
        return None
    floor = sentence(
        "the floor ", Strong(table.floor.name), f" ({table.metric.title} {table.floor.mean:.4f})"
    )
    nothing, unproven = table.learned_nothing, table.unproven
    if not nothing and not unproven:
        untested = [e.name for e in table.contenders if e.beats_floor is None]
        rest = f" ({', '.join(untested)}: too few runs to test)" if untested else ""
        return sentence("Every contender beats ", floor, f"{rest}.")
    said: list[Sentence] = []
    if nothing:
        listed = joined(sentence(Strong(e.name), f" ({e.mean:.4f})") for e in nothing)
        said.append(sentence("Learned nothing beyond ", floor, ": ", listed, "."))
    if unproven:
        listed = joined(
            sentence(Strong(e.name), f" ({e.mean:.4f}, {difference(e.vs_floor)})") for e in unproven
        )
        said.append(
            sentence(
                "Ahead of ", floor, " on average but not significantly (too noisy): ", listed, "."
            )
        )
    return joined(said, " ")


def test_sentence() -> Sentence:
    return sentence(
        f"Ties and floors: {TEST_NAME}, α = {ALPHA:g}; a difference is this contender minus "
        f"the best (or the floor), with its {1 - ALPHA:.0%} confidence interval."
    )


def rating_models_rank(found: DatasetAnalysis) -> Sentence | None:
    """The best NDCG of the rating-only contenders: a finding, not an entry."""
    best = found.best_rating_model_rank
    if best is None:
        return None
    title = found.standings[Contest.RANKING].metric.title
    column = f"{found.standings[Contest.RANKING].metric.column}_mean"
    return sentence(
        "Rating models rank too, as a finding: the best, ",
        Strong(best["label"]),
        f", reaches {title} {best[column]:.4f}. Trained to predict every rating (RMSE), they "
        "spend their capacity on the ratings' values, not on which items a user picks.",
    )


def no_ranking(found: DatasetAnalysis) -> Sentence | None:
    """Why there is no ranking result at all, where the ranking metrics are undefined."""
    if not found.ranking_undefined:
        return None
    return sentence(
        "No ranking result: the ranking metrics are undefined here (no test rating reaches "
        "the relevance threshold)."
    )


def time_to_target_text(row: dict, unit: str = "") -> str:
    """A row's time to the target RMSE: ``"0.53 s"``, ``"never"``, or ``"not timed (no curve)"``."""
    if not math.isnan(row["time_to_rating_target_s"]):
        return f"{row['time_to_rating_target_s']:.2f}{unit}"
    return "never" if models.has_curve(row["model"]) else "not timed (no curve)"


def time_to_target(race: TargetRace | None, title: str) -> Sentence | None:
    """Who reached the rating contest's target first, and who never did."""
    if race is None:
        return None
    if race.first is None:
        return sentence(f"No contender reached the target {title} {race.target:g}.")
    first = race.first
    return sentence(
        f"Fastest to {title} ≤ {race.target:g}: ",
        Strong(first["label"]),
        f" ({first['backend']}) after {first['time_to_rating_target_s']:.2f} s of training"
        + (f"; never reached by {', '.join(race.missed)}" if race.missed else "")
        + (f"; not timed (no per-epoch curve): {', '.join(race.untimed)}" if race.untimed else "")
        + ".",
    )


def highest_throughput(found: DatasetAnalysis, contest: Contest) -> Sentence | None:
    """The highest training throughput among ``contest``'s trained contenders, with its k."""
    fastest = found.fastest.get(contest)
    if fastest is None:
        return None
    return sentence(
        "Highest training throughput: ",
        Strong(fastest["label"]),
        f" ({fastest['backend']}{_factors(fastest['factors'], ', ')}), "
        f"{si(fastest['ratings_per_s'])} ratings/s (examples visited per second of fit; the "
        "work per example grows with the factors).",
    )


def twins_sentence(pair: Twins, title: str, budgets: dict[tuple[str, str], Budget]) -> Sentence:
    """The same model trained two ways: time per rating, and their time to the target
    (``budgets``: each setting's, as ``DatasetAnalysis.budgets`` holds them)."""
    one, two = pair.mine, pair.theirs
    notes = [_budget_note(budgets.get((side["label"], side["backend"]))) for side in (one, two)]
    target = _to_target(title, one, two)
    if math.isnan(pair.factors):
        return sentence(
            "Same model, trained two ways: ",
            Strong(one["label"]),
            f" ({pair.factors_pair[0]} factors) and ",
            Strong(two["label"]),
            f" ({pair.factors_pair[1]} factors) ran with different factors, so their time "
            f"per rating is not compared{target}.",
        )
    said = "no paired run" if pair.ratio is None else f"{speed(pair.ratio)}: {reading(pair.ratio)}"
    return sentence(
        f"Same model, trained two ways, at {pair.factors:g} factors: ",
        Strong(one["label"]),
        f" {si(one['ratings_per_s'])} ratings/s{notes[0]}, ",
        Strong(two["label"]),
        f" {si(two['ratings_per_s'])} ratings/s{notes[1]} — {said}{target}.",
    )


def _to_target(title: str, *sides: dict) -> str:
    """``"; to RMSE ≤ 0.93: a 0.53 s, b not reached"`` where the data set has a target."""
    target = sides[0].get("rating_target", math.nan)
    rmse = "rmse_mean"
    if target is None or math.isnan(target) or any(math.isnan(s[rmse]) for s in sides):
        return ""
    shown = ", ".join(f"{s['label']} {time_to_target_text(s, ' s')}" for s in sides)
    return f"; to {title} ≤ {target:g}: {shown}"


def budget_text(found: Budget) -> str:
    """``"full"``, ``"capped: 12% of each epoch"`` or ``"stopped early: 12 of 40 epochs"``."""
    notes = []
    if found.capped_share is not None:
        notes.append(f"capped: {found.capped_share:.0%} of each epoch")
    if found.epochs is not None:
        kept = f", best {found.best_epoch:g} kept" if found.best_epoch is not None else ""
        notes.append(f"stopped early: {found.epochs:g} of {found.epochs_requested:g} epochs{kept}")
    return "; ".join(notes) or "full"


def _budget_note(found: Budget | None) -> str:
    note = "full" if found is None else budget_text(found)
    return "" if note == "full" else f" ({note})"


def _factors(factors: object, prefix: str = "") -> str:
    is_number = isinstance(factors, int | float) and math.isfinite(factors)
    return f"{prefix}{factors:g} factors" if is_number else ""


def findings(data: DatasetAnalysis, contest: Contest, judged: bool = True) -> list[Sentence]:
    """What the numbers say of one contest on one data set: its winners and floor (not on a
    cost grid, ``judged`` False), the race to the target, the highest throughput, the same
    model trained two ways, rating models' ranking as a finding, and the test used."""
    table = data.standings[contest]
    title = metrics.primary(Contest.RATING).title
    said = [winner_sentence(table), floor_sentence(table)] if judged else [sentence(NOT_JUDGED)]
    if contest == Contest.RATING:
        said.append(time_to_target(data.race, title))
    said.append(highest_throughput(data, contest))
    said += [
        twins_sentence(pair, title, data.budgets)
        for pair in data.twins
        if models.enters(pair.model, contest) and not models.is_floor(pair.model)
    ]
    if contest == Contest.RANKING:
        said.append(rating_models_rank(data))
    if table.tested and judged:
        said.append(test_sentence())
    return [one for one in said if one]


# -- the verdict: three to five sentences per data set ------------------------------------------


def verdict(found: DatasetAnalysis, gpu_name: str | None = None, cost_only: bool = False) -> list:
    """The suite's question answered for one data set: accuracy (not on a cost grid),
    ranking, CPU speed, GPU."""
    said: list[Sentence | None] = (
        [sentence(NOT_JUDGED)]
        if cost_only
        else [contest_verdict(found.standings[contest]) for contest in CONTEST_TITLES]
    )
    said.append(no_ranking(found))
    said += [speed_verdict(found.twins), gpu_verdict(found, gpu_name)]
    return [one for one in said if one]


def contest_verdict(table: Standings) -> Sentence | None:
    """One sentence: the contest's winners (ties named), or no winner, and the floor."""
    title, metric = f"{CONTEST_TITLES[table.contest]} ({table.metric.title})", table.metric
    if table.best is None:
        return sentence(f"{title}: only floors ran.") if table.floor is not None else None
    if not table.tested:
        return sentence(
            f"{title}: ",
            Strong(table.best.name),
            f" has the best {metric.title} ({table.best.mean:.4f}) in a single run, so no tie "
            "or floor is tested.",
        )
    if table.no_winner:
        return sentence(
            f"{title}: ",
            Strong("no winner"),
            f" — no contender is significantly better than the floor {table.floor.name} "
            f"({table.floor.mean:.4f}).",
        )
    winners = table.winners
    if len(winners) > 1:
        names = joined([_names(winners[:-1]), (Strong(winners[-1].name),)], " and ")
    else:
        names = (Strong(winners[0].name),)
    values = ", ".join(f"{e.mean:.4f}" for e in winners)
    untested = any(e.vs_best is None for e in table.contenders if e is not table.best)
    lead = (
        sentence(names, f" are tied for best ({values})")
        if len(winners) > 1
        else sentence(
            names,
            f" is best ({values}), significantly ahead of every other contender"
            + (" that beats the floor" if table.too_noisy_to_place else "")
            + (" tested against it" if untested else ""),
        )
    )
    if table.floor is None:
        return sentence(f"{title}: ", lead, "; no floor ran.")
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
    return sentence(f"{title}: ", lead, "; " + "; ".join(tails) + ".")


def speed_verdict(found: list[Twins]) -> Sentence:
    """CPU time per rating of each PyTorch contender against its compiled twin, at equal
    factors."""
    pairs = [p for p in found if models.is_pytorch(p.model) and not models.is_pytorch(p.twin)]
    if not pairs:
        return sentence("CPU speed: no PyTorch contender ran beside its compiled counterpart here.")
    parts = []
    for pair in pairs:
        ratio = pair.ratio
        if math.isnan(pair.factors):
            parts.append(
                f"{pair.model} ({pair.factors_pair[0]} factors) and {pair.twin} "
                f"({pair.factors_pair[1]} factors) ran with different factors, not compared"
            )
        elif ratio is None:
            parts.append(f"{pair.model} and {pair.twin}: no paired run")
        elif ratio.reading is Reading.ON_PAR:
            parts.append(
                f"{pair.model} on par with {pair.twin} ({pair.factors:g} factors, {speed(ratio)})"
            )
        else:
            parts.append(f"{speed(ratio)} at {pair.factors:g} factors: {reading(ratio)}")
    return sentence(
        "CPU speed per rating, PyTorch against its compiled counterpart at equal factors: "
        + "; ".join(parts)
        + "."
    )


def gpu_verdict(found: DatasetAnalysis, gpu_name: str | None) -> Sentence:
    """What CUDA measured here, or why it measured nothing."""
    if "cuda" in set(found.rows.get("backend", [])):
        parts = [_on_cuda(one) for one in found.on_cuda]
        where = f" ({gpu_name})" if gpu_name else ""
        return sentence(
            f"GPU{where}: "
            + ("; ".join(parts) if parts else "measured, no CPU run to compare")
            + "."
        )
    if found.cuda_skipped is None:
        return sentence("GPU: not measured on this run (this config runs nothing on CUDA).")
    return sentence(f"GPU: not measured on this run — {found.cuda_skipped}.")


def _on_cuda(one: OnCuda) -> str:
    if one.ratio is None:
        return f"{one.label}: no run on CUDA paired with one on the CPU"
    return own_speed(one.ratio, "on the CPU")


def cuda_speed_up(one: OnCuda) -> str:
    """A CUDA table cell: CUDA's time per rating over the CPU's, with its interval."""
    if one.ratio is None:
        return "n/a (no paired run)"
    return f"{times(one.ratio.value)}{interval(one.ratio)}"
