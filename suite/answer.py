"""The post's claims as a reader gets them: each piece of evidence as a sentence, the claims
table (README, REPORT.md) and ``summary.json``, all rendered from the judged claims
(``suite.analysis.claims``)."""

from __future__ import annotations

import math
from typing import Any

from suite.analysis.claims import CODE_LINES, DECIDING, MISSED, Claim, Evidence, family_size
from suite.analysis.folder import RootAnalysis
from suite.analysis.provenance import Folder
from suite.wording import bounds, reading, speed, times


def evidence_sentence(evidence: Evidence) -> str | None:
    """One comparison in words: its figure, interval, n, adjusted p and outcome, with the
    end-to-end figure beside a time to target; or why it gave none."""
    ratio, compared = evidence.ratio, evidence.comparison
    pair = f"{compared.a} against {compared.b}" if compared is not None else evidence.name
    if evidence.role == CODE_LINES:
        return f"{evidence.lead}{evidence.note} (context)"
    if ratio is None:
        return f"{evidence.lead}{pair}: {evidence.note}"
    said = f"{evidence.lead}{speed(ratio)}"
    if ratio.corrected:
        said += ", Nadeau–Bengio-corrected"
    if evidence.role == MISSED:
        return f"{said}: decides nothing ({evidence.note})"
    if evidence.role != DECIDING:
        return f"{said} (context): {reading(ratio)}"
    said += f", Holm-adjusted p {_p(evidence.p_adjusted)}: {evidence.outcome or 'not decided'}"
    if evidence.end_to_end is not None:
        e2e = evidence.end_to_end
        said += f"; end to end {times(e2e.value)}{bounds(e2e.low, e2e.high)}"
    return said


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return "< 0.0001" if value < 0.0001 else f"{value:.2g}"


def sentences(claim: Claim) -> list[str]:
    """The sentences behind a claim's verdict, deciding comparisons first."""
    ordered = sorted(claim.evidence, key=lambda e: e.role != DECIDING)
    return [said for e in ordered if (said := evidence_sentence(e)) is not None]


def headline_figure(claim: Claim) -> str:
    """The one deciding figure a claim's line shows: ``"3.4× [2.9, 4.0], n = 5"``."""
    found = claim.headline
    if found is None:
        return "–"
    if found.ratio is None or found.role == MISSED:
        compared = found.comparison
        pair = f"{compared.a} / {compared.b}: " if compared is not None else ""
        return f"{pair}not decided ({found.note})"
    ratio = found.ratio
    return (
        f"{ratio.a} / {ratio.b}: {times(ratio.value)}{bounds(ratio.low, ratio.high)}, "
        f"n = {ratio.runs} ({ratio.quantity})"
    )


def where(claim: Claim, hardware: dict[str, str]) -> str:
    """Where a claim's deciding comparisons were measured: data sets and hardware."""
    places = dict.fromkeys(
        f"{e.dataset} ({hardware.get(e.folder, '?')})"
        for e in claim.evidence
        if e.role == DECIDING and e.ratio is not None
    )
    return "; ".join(places) or "–"


def markdown(
    judged: list[Claim], link_root: str = "", hardware: dict[str, str] | None = None
) -> str:
    """The claims table: one line per claim — the post's words, the verdict, one deciding
    figure with its interval and n, where it was measured, and a link to the section of the
    folder report that shows every comparison of it."""
    rows = [
        "| the 2017 post said | verdict | deciding figure (95% interval) | measured on | details |",
        "|---|---|---|---|---|",
    ]
    for claim in judged:
        folder = claim.headline.folder if claim.headline is not None else ""
        details = (
            f"[{claim.id}]({link_root}{folder}/REPORT.md#claim-{claim.id})"
            if folder.startswith("results")
            else f"[{claim.id}]({link_root}docs/claims.md)"
        )
        rows.append(
            f"| “{_escape(claim.quote)}” | **{_escape(claim.verdict)}** | "
            f"{_escape(headline_figure(claim))} | {_escape(where(claim, hardware or {}))} | "
            f"{details} |"
        )
    return "\n".join(rows)


def plain_answer(judged: list[Claim]) -> str:
    """The README's opening: one line per measured claim — the claim in a few words, its
    verdict and its headline figure — and one for the claims not measured here."""
    lines = [
        f"- {claim.short}: **{claim.verdict}** ({headline_figure(claim)})"
        for claim in judged
        if not claim.verdict.startswith("not measured")
    ]
    unmeasured = [claim for claim in judged if claim.verdict.startswith("not measured")]
    if unmeasured:
        lines.append(
            "- Not measured here: "
            + "; ".join(f"{claim.short} ({claim.verdict})" for claim in unmeasured)
        )
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def provenance_table(folders: list[Folder], judged: list[Claim] | None = None) -> str:
    """The provenance table of ``folders``: commit(s), when measured, current or stale, and
    which claims' deciding comparisons each holds (``judged``; "none" for the others)."""
    decides: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}  # folders a claim's comparisons name, decided or not
    for claim in judged or []:
        for e in claim.evidence:
            if e.role in (DECIDING, MISSED) and claim.id not in named.get(e.folder, []):
                named.setdefault(e.folder, []).append(claim.id)
            if (
                e.role == DECIDING
                and e.ratio is not None
                and claim.id not in decides.get(e.folder, [])
            ):
                decides.setdefault(e.folder, []).append(claim.id)
            compared = e.comparison
            if e.role == DECIDING and e.ratio is not None and compared and compared.threads_folder:
                partner = f"results/{compared.threads_folder}"
                if claim.id not in decides.get(partner, []):
                    decides.setdefault(partner, []).append(claim.id)
    header = "| folder | measured on commit(s) | measured | status |"
    rule = "|---|---|---|---|"
    if judged is not None:
        header, rule = header + " decides |", rule + "---|"
    lines = [header, rule]
    for folder in folders:
        commits = ", ".join(f"`{commit[:10]}`" for commit in folder.commits) or "unknown"
        row = (
            f"| [{folder.name}]({folder.name}/REPORT.md) | {commits} | {folder.measured_at[:10]} "
            f"| {status_text(folder)} |"
        )
        if judged is not None:
            decided = ", ".join(decides.get(folder.name, []))
            undecided = ", ".join(named.get(folder.name, []))
            if not decided and undecided:
                decided = f"no claim (named for {undecided}: not decided)"
            row += f" {decided or 'no claim'} |"
        lines.append(row)
    return "\n".join(lines)


def status_text(folder: Folder) -> str:
    """A folder's status in words: current (and what was declared neutral since), or stale
    and why."""
    if folder.status == "current" and folder.neutral:
        commits = dict.fromkeys(change.rpartition("@")[2] for change in folder.neutral)
        return (
            f"current (changes declared measurement-neutral since: {len(folder.neutral)} "
            f"file change(s) in commit(s) {', '.join(commits)}, listed in "
            "suite/analysis/provenance.py's NEUTRAL)"
        )
    if folder.status == "stale" and folder.changed:
        shown = ", ".join(folder.changed[:3]) + (" ..." if len(folder.changed) > 3 else "")
        return f"stale (changed since: {shown})"
    if folder.status == "stale" and folder.dirty:
        return "stale (measured on a tree with uncommitted changes)"
    return folder.status


def comparison_record(evidence: Evidence) -> dict[str, Any]:
    """One comparison as ``summary.json`` holds it: protocol id, pair, place, n, estimate,
    interval, p (raw and Holm-adjusted), outcome, end to end, folder and commit."""
    ratio, compared = evidence.ratio, evidence.comparison
    resolved = ratio is not None and ratio.resolved
    e2e = evidence.end_to_end
    return {
        "id": compared.id if compared is not None else evidence.name,
        "role": evidence.role,
        "a": compared.a if compared is not None else None,
        "b": compared.b if compared is not None else None,
        "place": evidence.dataset,
        "measure": compared.measure if compared is not None else None,
        "target": compared.target if compared is not None else None,
        "n": ratio.runs if ratio is not None else None,
        "estimate": _number(ratio.value if ratio is not None else evidence.value),
        "low": _number(ratio.low) if resolved else None,
        "high": _number(ratio.high) if resolved else None,
        "nadeau_bengio": ratio.corrected if ratio is not None else None,
        "p": _number(ratio.p) if ratio is not None else None,
        "p_adjusted": _number(evidence.p_adjusted),
        "outcome": evidence.outcome or None,
        "end_to_end": None
        if e2e is None
        else {"estimate": _number(e2e.value), "low": _number(e2e.low), "high": _number(e2e.high)},
        "unit": evidence.unit,
        "note": evidence.note or None,
        "folder": evidence.folder or None,
        "commit": evidence.commit or None,
    }


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def summary(found: RootAnalysis) -> dict[str, Any]:
    """``summary.json``: the protocol's digest, every claim with its verdict and every
    comparison (deciding and context), and each folder's provenance."""
    return {
        "protocol": found.protocol_digest,
        "holm_family": family_size(found.claims),
        "claims": [
            {
                "id": claim.id,
                "quote": claim.quote,
                "question": claim.question,
                "verdict": claim.verdict,
                "headline": claim.headline.comparison.id
                if claim.headline is not None and claim.headline.comparison is not None
                else None,
                "said": sentences(claim),
                "comparisons": [comparison_record(e) for e in claim.evidence],
                "datasets": claim.datasets,
                "folders": claim.folders,
            }
            for claim in found.claims
        ],
        "folders": [
            {
                "folder": folder.name,
                "commits": folder.commits,
                "date": folder.measured_at,
                "status": folder.status,
                "changed_since": folder.changed,
            }
            for folder in found.folders
        ],
    }
