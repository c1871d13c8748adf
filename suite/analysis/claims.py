"""The 2017 post's claims, decided by the protocol written before the runs (``suite/claims.toml``).

Each claim of Rosenthal's "Matrix Factorization in PyTorch" is decided only by the
comparisons its protocol fixed in advance (``suite.protocol``): contender A against contender
B — the same model written two ways wherever the claim allows — at a named place, in a named
folder, on a named measure, to a named target. Nothing here picks a pair after seeing the
runs. For each comparison:

- the folder must hold runs measured under *this* protocol (each record carries the digest of
  the protocol file it ran under), to the protocol's target, and be current; otherwise it
  decides nothing and the evidence says why;
- the figure is a paired ratio (``suite.analysis.paired.paired_ratio``: the geometric mean of
  the per-run ratios, its t-interval), with the Nadeau–Bengio correction wherever the runs'
  training sets overlap (k folds or random splits of one data set; none on fresh data per
  seed), and its p-value of "no difference";
- it decides only with ``Rules.min_runs`` paired runs, no disturbed run, every run of both
  sides at the target (read on validation, confirmed on test: ``suite.timed_run``), and the
  slower side's median time at least ``Rules.min_fit_s`` (a sub-second race decides nothing);
- Holm's correction spans every deciding comparison judged; a side is faster only where the
  adjusted p is below ``Rules.alpha`` *and* the whole interval lies beyond ``Rules.par``;
  "much" faster needs the estimate at ``Rules.much`` or beyond; "on par" needs the whole
  interval within ``Rules.par`` either way.

The claim's verdict gathers its pairs' outcomes ("holds", "faster, not much", "on par",
"reversed", "not resolved", "not decided"); context comparisons are shown, never counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from suite import models
from suite import protocol as protocols
from suite import results as results_io
from suite.analysis.paired import Ratio, holm, paired_ratio
from suite.analysis.provenance import Folder
from suite.analysis.speed import TARGET_COLUMN, TARGET_SETTING
from suite.analysis.summary import test_fraction
from suite.models.base import Contest
from suite.protocol import ClaimProtocol, Comparison, Protocol, Rules

#: What each piece of evidence is to its claim.
DECIDING = "deciding"  # a comparison of the protocol the verdict rests on
CONTEXT = "context"  # a comparison of the protocol shown beside the verdict, not part of it
MISSED = "missed"  # a deciding or context comparison that gave no figure: why is its note
CODE_LINES = "code lines"  # a count of lines (context)

#: A pair's outcome, as the claim reads it, in the order a verdict lists them.
OUTCOMES = HOLDS, NOT_MUCH, ON_PAR, REVERSED, NOT_RESOLVED, NOT_DECIDED = (
    "holds",
    "faster, not much",
    "on par",
    "reversed",
    "not resolved",
    "not decided",
)


@dataclass(frozen=True)
class Evidence:
    """One comparison of the protocol, measured (a ratio, a count) or not (``note`` says why).

    ``lead`` says where (``"synthetic-1m: "``); ``outcome`` is what a deciding comparison
    says about its claim (``HOLDS`` …), ``p_adjusted`` its Holm-adjusted p-value;
    ``end_to_end`` the same pair's end-to-end ratio, shown beside a time to target.
    """

    name: str
    role: str
    dataset: str
    folder: str
    lead: str = ""
    ratio: Ratio | None = None
    value: float = math.nan  # a count (``CODE_LINES``)
    unit: str = ""
    note: str = ""
    comparison: Comparison | None = None
    outcome: str = ""
    p_adjusted: float = math.nan
    end_to_end: Ratio | None = None
    commit: str = ""
    contest: str = ""  # the contest its sides race in ("rating", "ranking")


@dataclass
class Claim:
    """One claim of the post, judged by its protocol."""

    id: str
    quote: str
    question: str = ""
    verdict: str = "not measured"
    short: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    headline: Evidence | None = None  # the deciding figure a one-line answer shows

    def add(self, evidence: Evidence) -> None:
        self.evidence.append(evidence)
        if evidence.dataset and evidence.dataset not in self.datasets:
            self.datasets.append(evidence.dataset)
        if evidence.folder and evidence.folder not in self.folders:
            self.folders.append(evidence.folder)

    @property
    def ratios(self) -> list[Ratio]:
        """The deciding ratios (``a``: the protocol's A side)."""
        return [e.ratio for e in self.evidence if e.role == DECIDING and e.ratio is not None]

    def only(self, folder: str) -> Claim:
        """This claim with the evidence measured in ``folder`` only (a folder's own page)."""
        shown = Claim(
            self.id, self.quote, self.question, self.verdict, self.short, headline=self.headline
        )
        for evidence in self.evidence:
            compared = evidence.comparison
            paired = compared is not None and compared.threads_folder == Path(folder).name
            if evidence.folder == folder or paired:
                shown.add(evidence)
        return shown


# -- one comparison -----------------------------------------------------------------------------


def _folder_of(folders: list[Folder], name: str) -> Folder | None:
    return next(
        (f for f in folders if f.name in (name, f"results/{name}") or f.path.name == name), None
    )


def _refusal(folder: Folder | None, comparison: Comparison, digest: str) -> str:
    """Why ``folder`` cannot decide ``comparison`` ("" if it can)."""
    if folder is None:
        return f"not measured: no folder results/{comparison.folder}"
    if folder.status != "current":
        return f"results/{comparison.folder} is {folder.status}: measured on older code"
    runs = folder.results
    recorded = set(runs["protocol"].dropna().astype(str)) if "protocol" in runs else set()
    if recorded != {digest}:
        under = ", ".join(sorted(recorded)) or "none recorded"
        return (
            f"results/{comparison.folder} was measured under another protocol ({under}; this "
            f"one is {digest}): it decides nothing until measured again"
        )
    return ""


def _side(runs: pd.DataFrame, label: str, backend: str) -> pd.DataFrame:
    return runs[(runs["label"] == label) & (runs["backend"] == backend)]


def _column(runs: pd.DataFrame, comparison: Comparison) -> tuple[str, Contest]:
    """The record column ``comparison`` divides, and the contest its A side races in."""
    model = runs.loc[runs["label"] == comparison.a, "model"]
    contest = models.get(str(model.iloc[0])).contests[0] if len(model) else Contest.RATING
    if comparison.measure == "end_to_end":
        return "end_to_end_s", contest
    return TARGET_COLUMN[contest], contest


def _overlap(runs: pd.DataFrame) -> float:
    """``n_test / n_train`` where the runs' training sets overlap (one data set split several
    ways: its content digest repeats), 0 on fresh data per run (the Nadeau–Bengio term)."""
    splits = len(runs[["fold", "seed"]].drop_duplicates())
    if "data_digest" in runs and runs["data_digest"].nunique() >= splits:
        return 0.0
    found = test_fraction(runs)
    return found if math.isfinite(found) else 0.0


def _measured(
    comparison: Comparison, folders: list[Folder], rules: Rules, digest: str, role: str
) -> Evidence:
    """``comparison`` measured in its folder: a ratio, or why none decides."""
    lead = f"{comparison.place}: "
    name = f"{comparison.id}: {comparison.a} / {comparison.b}"
    base = Evidence(name, MISSED, comparison.place, comparison.folder, lead, comparison=comparison)
    if comparison.measure == "code_lines":
        return _code_lines(comparison, base)
    folder = _folder_of(folders, comparison.folder)
    why = _refusal(folder, comparison, digest)
    if why or folder is None:
        return replace(base, note=why)
    base = replace(base, folder=folder.name, commit=folder.commits[0] if folder.commits else "")
    runs = results_io.ok_runs(folder.results)
    runs = runs[runs["dataset"] == comparison.place]
    if comparison.measure == "thread_gain":
        return _thread_gain(comparison, folders, runs, rules, digest, role, base)
    sides = [
        _side(runs, comparison.a, comparison.a_backend),
        _side(runs, comparison.b, comparison.b_backend),
    ]
    if any(side.empty for side in sides):
        return replace(base, note=f"not measured: {comparison.folder} has no ok runs of both")
    column, contest = _column(runs, comparison)
    why = _unfit(sides, comparison, contest, column, rules)
    overlap = _overlap(pd.concat(sides))
    ratio = _ratio(sides, column, comparison, overlap)
    end_to_end = _ratio(sides, "end_to_end_s", comparison, overlap, "end-to-end time to target")
    if ratio is None:
        return replace(base, note=why or "no paired runs")
    return replace(
        base,
        contest=contest.value,
        role=role if not why else MISSED,
        ratio=ratio,
        unit=f"× {ratio.quantity}",
        note=why,
        end_to_end=end_to_end if comparison.measure == "time_to_target" else None,
    )


def _ratio(
    sides: list[pd.DataFrame],
    column: str,
    comparison: Comparison,
    overlap: float,
    quantity: str | None = None,
) -> Ratio | None:
    if column not in sides[0] or column not in sides[1]:
        return None
    a, b = (side.set_index(["fold", "seed"])[column].astype(float) for side in sides)
    return paired_ratio(
        a, b, comparison.a, comparison.b, quantity or comparison.figure, test_fraction=overlap
    )


def _unfit(
    sides: list[pd.DataFrame], comparison: Comparison, contest: Contest, column: str, rules: Rules
) -> str:
    """Why these runs cannot decide (""): another target, a missed target, a disturbed run,
    too few runs, fits too short to time."""
    setting = TARGET_SETTING[contest]
    for side, label in zip(sides, (comparison.a, comparison.b), strict=True):
        targets = set(side[setting].dropna().round(6)) if setting in side else set()
        if comparison.target is not None and targets != {round(comparison.target, 6)}:
            shown = ", ".join(f"{t:g}" for t in sorted(targets)) or "none"
            return f"{label} ran to target {shown}, not the protocol's {comparison.target:g}"
        missed = side[side[column].isna()]
        if len(missed):
            reasons = "; ".join(dict.fromkeys(r for r in missed["reason"] if r)) or "no time"
            return f"{label} missed the target in {len(missed)} of {len(side)} runs ({reasons})"
        disturbed = side["disturbed"].eq(True) if "disturbed" in side else None
        if disturbed is not None and disturbed.any():
            return f"{label}: {int(disturbed.sum())} disturbed run(s), to be measured again"
    runs = min(len(side) for side in sides)
    if runs < rules.min_runs:
        return f"{runs} paired runs, fewer than the protocol's {rules.min_runs}"
    slower = max(float(side[column].median()) for side in sides)
    if slower < rules.min_fit_s:
        return (
            f"the slower side's median is {slower:.2g} s, under the protocol's "
            f"{rules.min_fit_s:g} s: too short a race to decide speed"
        )
    return ""


def _thread_gain(
    comparison: Comparison,
    folders: list[Folder],
    runs: pd.DataFrame,
    rules: Rules,
    digest: str,
    role: str,
    base: Evidence,
) -> Evidence:
    """A's fit time on all threads over its own on one, over B's: paired by run id across
    the two folders (``comparison.folder``: all threads; ``threads_folder``: one)."""
    one = _folder_of(folders, str(comparison.threads_folder))
    why = _refusal(one, replace(comparison, folder=str(comparison.threads_folder)), digest)
    if why or one is None:
        return replace(base, note=why)
    single = results_io.ok_runs(one.results)
    gains, medians = {}, {}
    for label in (comparison.a, comparison.b):
        many = runs[runs["label"] == label].set_index("run_id")
        solo = single[single["label"] == label].set_index("run_id")
        shared = many.index.intersection(solo.index)
        if len(shared) < rules.min_runs:
            return replace(base, note=f"{label}: {len(shared)} runs on both thread counts")
        if (many.loc[shared, "n_threads"] <= solo.loc[shared, "n_threads"]).any():
            return replace(base, note=f"{label}: no more threads in {comparison.folder}")
        index = pd.MultiIndex.from_frame(many.loc[shared, ["fold", "seed"]])
        gain = many.loc[shared, "fit_s"].to_numpy() / solo.loc[shared, "fit_s"].to_numpy()
        gains[label] = pd.Series(gain, index=index)
        medians[label] = float(solo.loc[shared, "fit_s"].median())  # on one thread
    slower = max(medians.values())
    if slower < rules.min_fit_s:
        return replace(
            base,
            note=f"the slower side's median fit on one thread is {slower:.2g} s, under the "
            f"protocol's {rules.min_fit_s:g} s: too short to time a gain",
        )
    ratio = paired_ratio(
        gains[comparison.a],
        gains[comparison.b],
        comparison.a,
        comparison.b,
        comparison.figure,
        seconds=False,
    )
    if ratio is None:
        return replace(base, note="no paired runs")
    return replace(base, role=role, ratio=ratio, unit=f"× {ratio.quantity}")


def _code_lines(comparison: Comparison, base: Evidence) -> Evidence:
    """Lines of model and training code of each side (``models.code_lines``), as a count
    ratio (context: no interval)."""
    counts = [models.code_lines(name) for name in (comparison.a, comparison.b)]
    if not all(counts):
        return replace(base, note="lines not counted")
    a, b = (float(count or 0) for count in counts)
    return replace(
        base,
        role=CODE_LINES,
        value=a,
        unit="lines",
        note=f"{comparison.a} {a:.0f} lines of model and training code, {comparison.b} {b:.0f}",
    )


# -- verdicts -------------------------------------------------------------------------------------


def outcome(ratio: Ratio, p_adjusted: float, claim: ClaimProtocol, rules: Rules) -> str:
    """What one deciding ratio (A's time over B's) says about its claim."""
    if not ratio.resolved:
        return NOT_RESOLVED
    significant = math.isfinite(p_adjusted) and p_adjusted < rules.alpha
    if significant and (ratio.high < 1 / rules.par or ratio.low > rules.par):
        winner = "a" if ratio.high < 1 / rules.par else "b"
        much = ratio.value <= 1 / rules.much if winner == "a" else ratio.value >= rules.much
        if winner != claim.asserted:
            return REVERSED
        return NOT_MUCH if claim.much and not much else HOLDS
    if ratio.low >= 1 / rules.par and ratio.high <= rules.par:
        return HOLDS if claim.on_par_holds else ON_PAR
    return NOT_RESOLVED


def _verdict(claim: Claim, protocol_claim: ClaimProtocol) -> str:
    """The claim's verdict from its deciding comparisons' outcomes."""
    deciding = [e for e in claim.evidence if e.comparison in protocol_claim.deciding]
    if not deciding or all(e.note.startswith("not measured") for e in deciding):
        why = protocol_claim.not_measured_here
        return "not measured" + (f": {why}" if why else "")
    said = [e.outcome or NOT_DECIDED for e in deciding]
    counts = {word: said.count(word) for word in OUTCOMES if word in said}
    if len(counts) == 1:
        word = said[0]
        return word if len(said) == 1 else f"{word} (all {len(said)} comparisons)"
    return "; ".join(f"{word} for {n} of {len(said)}" for word, n in counts.items())


def judge(folders: list[Folder], protocol: Protocol | None = None) -> list[Claim]:
    """Every claim of ``protocol`` (``suite/claims.toml``), decided from ``folders``."""
    protocol = protocol or protocols.load()
    rules, digest = protocol.rules, protocol.digest
    judged = []
    for protocol_claim in protocol.claims:
        claim = Claim(
            protocol_claim.id,
            protocol_claim.quote,
            protocol_claim.question,
            short=protocol_claim.short,
        )
        roles = ((DECIDING, protocol_claim.deciding), (CONTEXT, protocol_claim.context))
        for role, comparisons in roles:
            for comparison in comparisons:
                claim.add(_measured(comparison, folders, rules, digest, role))
        judged.append(claim)
    _adjust(judged, protocol)
    for claim, protocol_claim in zip(judged, protocol.claims, strict=True):
        claim.verdict = _verdict(claim, protocol_claim)
        claim.headline = next(
            (
                e
                for e in claim.evidence
                if e.comparison is not None and e.comparison.id == protocol_claim.headline
            ),
            None,
        )
    return judged


def _adjust(judged: list[Claim], protocol: Protocol) -> None:
    """Holm's adjustment across every deciding comparison with a p-value, then each one's
    outcome for its claim."""
    family = [
        (claim, i)
        for claim in judged
        for i, e in enumerate(claim.evidence)
        if e.role == DECIDING and e.ratio is not None and math.isfinite(e.ratio.p)
    ]
    adjusted = holm([claim.evidence[i].ratio.p for claim, i in family])  # type: ignore[union-attr]
    for (claim, i), p in zip(family, adjusted, strict=True):
        evidence = claim.evidence[i]
        said = outcome(evidence.ratio, p, protocol.claim(claim.id), protocol.rules)  # type: ignore[arg-type]
        claim.evidence[i] = replace(evidence, p_adjusted=p, outcome=said)


def family_size(judged: list[Claim]) -> int:
    """How many deciding comparisons Holm's adjustment spanned."""
    return sum(math.isfinite(e.p_adjusted) for claim in judged for e in claim.evidence)
