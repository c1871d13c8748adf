"""The post's claims as a reader gets them: each piece of evidence as a sentence, the claims
table (README, REPORT.md) and ``summary.json``, all rendered from the judged claims
(``suite.analysis.claims``)."""

from __future__ import annotations

import math
from typing import Any

from suite.analysis.claims import CODE_LINES, MISSED, ON_CUDA, SPEED_UP, Claim, Evidence
from suite.analysis.folder import RootAnalysis
from suite.analysis.provenance import Folder
from suite.wording import own_speed, reading, speed


def evidence_sentence(evidence: Evidence) -> str | None:
    """One piece of evidence in words (None for a bare count, shown as a figure only)."""
    ratio = evidence.ratio
    if evidence.role == CODE_LINES:
        return None
    if evidence.role == MISSED or ratio is None:
        return f"{evidence.lead}{evidence.note}"
    if evidence.role == SPEED_UP:
        return f"{evidence.lead}{own_speed(ratio, 'on 1 thread')}: {reading(ratio)}"
    if evidence.role == ON_CUDA:
        return f"{evidence.lead}{own_speed(ratio, 'on the CPU')}"
    return f"{evidence.lead}{speed(ratio)}: {reading(ratio)}"


def sentences(claim: Claim) -> list[str]:
    """The sentences behind a claim's verdict, in order."""
    return [said for e in claim.evidence if (said := evidence_sentence(e)) is not None]


def markdown(judged: list[Claim], link_root: str = "") -> str:
    """The claims table: the post's words, the verdict, the deciding figures, the evidence."""
    rows = [
        "| the 2017 post said | verdict today | deciding figures (95% interval) | evidence |",
        "|---|---|---|---|",
    ]
    for claim in judged:
        figures = "<br>".join(_escape(said) for said in sentences(claim)) or "–"
        evidence = (
            ", ".join(f"[{name}]({link_root}{name}/REPORT.md)" for name in claim.folders) or "–"
        )
        rows.append(
            f"| “{_escape(claim.quote)}” | **{_escape(claim.verdict)}** | {figures} | {evidence} |"
        )
    return "\n".join(rows)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def provenance_table(folders: list[Folder]) -> str:
    """The provenance table of ``folders``: commit(s), when measured, current or stale."""
    lines = ["| folder | measured on commit(s) | measured | status |", "|---|---|---|---|"]
    for folder in folders:
        commits = ", ".join(f"`{commit[:10]}`" for commit in folder.commits) or "unknown"
        lines.append(
            f"| [{folder.name}]({folder.name}/REPORT.md) | {commits} | {folder.measured_at[:10]} "
            f"| {status_text(folder)} |"
        )
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


def figure(evidence: Evidence) -> dict[str, Any]:
    """One piece of evidence as ``summary.json`` holds it: the figure, its interval where it
    has one, how many paired runs it is the geometric mean of, and where it comes from."""
    ratio = evidence.ratio
    value = evidence.value if ratio is None else ratio.value
    resolved = ratio is not None and ratio.resolved
    return {
        "name": evidence.name,
        "value": _number(value),
        "low": _number(ratio.low) if resolved else None,
        "high": _number(ratio.high) if resolved else None,
        "runs": ratio.runs if ratio is not None else None,
        "unit": evidence.unit if ratio is not None or math.isfinite(value) else "",
        "role": evidence.role,
        "dataset": evidence.dataset,
        "folder": evidence.folder,
    }


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def summary(found: RootAnalysis) -> dict[str, Any]:
    """``summary.json``: the claims and their figures, machine-readable, with each folder's
    provenance (rendered from the same objects as the markdown)."""
    return {
        "claims": [
            {
                "id": claim.id,
                "quote": claim.quote,
                "verdict": claim.verdict,
                "said": sentences(claim),
                "figures": [figure(evidence) for evidence in claim.evidence],
                "datasets": claim.datasets,
                "folder": claim.folders[0] if claim.folders else None,
                "folders": claim.folders,
                "commit": found.commit_of(claim),
                "link": f"{claim.folders[0]}/REPORT.md" if claim.folders else None,
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
