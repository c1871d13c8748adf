"""The claims protocol (``suite/claims.toml``): what decides each of the post's claims.

Written before the runs that decide it (issue 40): for each claim, the question in one
sentence, the deciding comparisons fixed in advance — contender A against contender B (run
labels), the place (data set), the folder that measures them, the backends, the measure
(time to target read on validation, end-to-end time, or the gain from threads) and the
target — the context rows, and the verdict thresholds every claim shares (``Rules``).

Every record carries the digest of the protocol file it was measured under
(``suite.timed_run.base_record``); ``suite.analysis.claims`` lets a folder decide a claim
only if its runs carry the digest of the protocol it judges by. Changing this file (even a
word) therefore retires every deciding folder until it is measured again: the point of
writing the comparison down first.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from suite.errors import InputError

PROTOCOL_FILE = "claims.toml"

#: What a comparison measures, per run: ``a``'s figure over ``b``'s.
MEASURES = {
    "time_to_target": "time to target",  # fit time to the target, read on validation
    "end_to_end": "end-to-end time to target",  # + preparation and warm-up / compile
    "thread_gain": "fit time on all threads over one",  # a's, over b's (the same runs)
    "code_lines": "lines of model and training code",  # context: counts, no interval
}


@dataclass(frozen=True)
class Rules:
    """The thresholds every verdict uses (``[rules]``)."""

    alpha: float  # family-wise error rate: Holm's correction across the deciding tests
    par: float  # "on par": the whole interval within [1/par, par]
    much: float  # "much faster": the estimate at least this, the whole interval beyond par
    min_runs: int  # paired runs a deciding comparison needs
    min_fit_s: float  # a deciding speed comparison's slower side's median fit, at least
    test_tolerance: float  # a time read on validation counts if test is within this share


@dataclass(frozen=True)
class Comparison:
    """One comparison fixed in advance: ``a`` against ``b`` (run labels) at ``place``."""

    id: str
    a: str
    b: str
    place: str  # the data set, as records name it
    folder: str  # the results folder that measures it (``results/<folder>``)
    measure: str = "time_to_target"
    a_backend: str = "cpu"
    b_backend: str = "cpu"
    target: float | None = None  # the target both sides race to (RMSE or NDCG@10)
    threads_folder: str | None = None  # thread_gain: the same runs on one thread
    note: str = ""

    @property
    def figure(self) -> str:
        """What its ratio is of (``MEASURES``)."""
        return MEASURES[self.measure]


@dataclass(frozen=True)
class ClaimProtocol:
    """One claim: the post's words, the question, who it says is faster, its comparisons."""

    id: str
    quote: str
    short: str  # the claim in a few words, as the README's answer opens
    question: str
    a_side: str  # who the ``a`` of its comparisons are ("the post's PyTorch")
    b_side: str
    asserted: str  # "a" or "b": the side the post says is faster (or gains as much)
    much: bool  # whether the post says "much" faster
    headline: str  # the deciding comparison a one-line answer shows (its id)
    on_par_holds: bool = False  # "on par" bears the claim out ("as easily", claim 2)
    deciding: tuple[Comparison, ...] = ()
    context: tuple[Comparison, ...] = ()
    not_measured_here: str = ""  # why a comparison cannot be measured on this machine


@dataclass(frozen=True)
class Protocol:
    """The whole protocol file, and its digest (what a record carries)."""

    rules: Rules
    claims: tuple[ClaimProtocol, ...]
    digest: str
    source: str = field(default=PROTOCOL_FILE, compare=False)

    def claim(self, claim_id: str) -> ClaimProtocol:
        return next(claim for claim in self.claims if claim.id == claim_id)

    def deciding(self) -> list[tuple[ClaimProtocol, Comparison]]:
        """Every deciding comparison, with its claim: the family Holm's correction spans."""
        return [(claim, comparison) for claim in self.claims for comparison in claim.deciding]


def _text(path: Path | None) -> tuple[bytes, str]:
    if path is None:
        return (resources.files("suite") / PROTOCOL_FILE).read_bytes(), f"suite/{PROTOCOL_FILE}"
    return Path(path).read_bytes(), str(path)


@functools.cache
def digest(path: Path | None = None) -> str:
    """The protocol file's content digest (12 hex digits): what each record carries."""
    content, _ = _text(path)
    return hashlib.sha256(content).hexdigest()[:12]


def load(path: Path | None = None) -> Protocol:
    """The protocol (``suite/claims.toml``, or ``path``), validated: ``InputError`` naming the
    file and the entry at fault otherwise."""
    content, label = _text(path)
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: {exc}") from exc
    rules = _build(Rules, raw.get("rules", {}), f"{label}: [rules]")
    claims = []
    for i, entry in enumerate(raw.get("claims", [])):
        where = f"{label}: [[claims]] #{i + 1}"
        parts = {
            role: tuple(
                _comparison(item, f"{where} {role} #{j + 1}")
                for j, item in enumerate(entry.get(role, []))
            )
            for role in ("deciding", "context")
        }
        claim = _build(ClaimProtocol, {**entry, **parts}, where)
        if claim.asserted not in ("a", "b"):
            raise InputError(f"{where}: asserted = {claim.asserted!r}: must be 'a' or 'b'")
        if claim.headline not in [c.id for c in claim.deciding]:
            raise InputError(f"{where}: headline {claim.headline!r} is not one of its deciding ids")
        claims.append(claim)
    ids = [c.id for claim in claims for c in (*claim.deciding, *claim.context)]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InputError(f"{label}: comparison id {twice[0]!r} is given twice")
    return Protocol(rules, tuple(claims), digest(path), label)


def _comparison(entry: dict[str, Any], where: str) -> Comparison:
    comparison = _build(Comparison, entry, where)
    if comparison.measure not in MEASURES:
        raise InputError(
            f"{where}: measure = {comparison.measure!r}; choose from {', '.join(MEASURES)}"
        )
    if comparison.measure == "thread_gain" and not comparison.threads_folder:
        raise InputError(f"{where}: measure 'thread_gain' needs threads_folder")
    return comparison


def _build(schema: type, entry: dict[str, Any], where: str) -> Any:
    """``schema(**entry)``, or one line naming the unknown or missing key."""
    names = set(schema.__dataclass_fields__) - {"digest", "source"}
    unknown = sorted(set(entry) - names)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(names))}")
    try:
        return schema(**entry)
    except TypeError as exc:
        raise InputError(f"{where}: {exc}") from exc
