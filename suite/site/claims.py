"""The claims table that opens the site: the post's claims, each judged from the committed
folders, read from ``summary.json`` (written by ``mfbench report``).

The file's schema::

    {"claims": [{"id", "quote", "verdict", "figures": [{"name", "value", "low", "high",
                 "unit"}], "datasets": [...], "folder", "commit", "link"}],
     "folders": [{"folder", "commits": [...], "date", "status": "current" | "stale"}],
     "headline": {...}}

Without the file the index says, in one sentence, that no claims were computed yet and how.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from suite import safe_io
from suite.errors import InputError
from suite.site.html import Cell, Table, escape, finite, text
from suite.site.markdown import inline

#: What the index says when there is no summary.json.
NO_CLAIMS = (
    "No claims were computed yet: run `mfbench report results --readme README.md` to judge "
    "them from the committed folders (it writes results/summary.json), then publish again."
)


def read(path: Path) -> dict[str, Any]:
    """``summary.json`` checked for the shape the site reads; ``InputError`` naming the file
    and what is wrong."""
    summary = safe_io.read_json(path, "summary.json")
    if not isinstance(summary, dict) or not isinstance(summary.get("claims", []), list):
        raise InputError(f"{path}: not a claims summary (no 'claims' list)")
    for number, claim in enumerate(summary.get("claims", []), 1):
        if not isinstance(claim, dict):
            raise InputError(f"{path}: claim {number} is not an object")
        if not isinstance(claim.get("figures", []), list):
            raise InputError(f"{path}: claim {number}'s 'figures' is not a list")
    if not isinstance(summary.get("folders", []), list):
        raise InputError(f"{path}: 'folders' is not a list")
    return summary


def figure_text(figure: dict[str, Any]) -> str:
    """A deciding figure: ``name value [low, high] unit`` (the interval where known)."""
    value, low, high = (finite(figure.get(key)) for key in ("value", "low", "high"))
    unit = f" {figure['unit']}" if figure.get("unit") else ""
    shown = f"{value:.4g}" if value is not None else "?"
    if low is not None and high is not None:
        shown += f" [{low:.4g}, {high:.4g}]"
    return f"{figure.get('name', '')} {shown}{unit}".strip()


def claims_table(summary: dict[str, Any], page_of: Callable[[str], str | None]) -> Table:
    """One row per claim: the claim (its quote), the verdict, the deciding figures with their
    95% intervals, the data sets, and the evidence: a link to the folder's page where the
    site has one (``page_of`` maps a claim's folder to it), and the commit."""
    rows = []
    for claim in summary.get("claims", []):
        quote = escape(claim.get("quote", ""))
        ident = claim.get("id", "")
        figures = [figure_text(f) for f in claim.get("figures", []) if isinstance(f, dict)]
        folder = str(claim.get("folder") or "")
        page = page_of(folder) if folder else None
        link = str(claim.get("link") or "")
        if page:
            evidence = Cell(f'<a href="{escape(page)}">{escape(folder)}</a>', folder, html=True)
        elif link.startswith(("http://", "https://")):
            evidence = Cell(f'<a href="{escape(link)}">{escape(folder or link)}</a>', folder, True)
        else:
            evidence = text(folder or link)
        commit = str(claim.get("commit") or "")
        rows.append(
            [
                Cell(f'<span class="claim-id">{escape(ident)}</span> “{quote}”', ident, html=True),
                Cell(inline(str(claim.get("verdict", ""))), str(claim.get("verdict", "")), True),
                Cell("<br>".join(escape(f) for f in figures), "; ".join(figures), html=True),
                text(", ".join(map(str, claim.get("datasets", [])))),
                evidence,
                text(commit[:10] or None, title=commit or None),
            ]
        )
    return Table(
        ["claim", "verdict", "deciding figures, 95% CI", "data sets", "evidence", "commit"],
        rows,
        "The post's claims, each judged from the committed result folders (summary.json).",
        "claims",
    )


def folders_table(summary: dict[str, Any], page_of: Callable[[str], str | None]) -> Table | None:
    """The folders the claims were judged from: their commits, date and whether they are
    current; None when the summary lists none."""
    rows = []
    for entry in summary.get("folders", []):
        if not isinstance(entry, dict):
            continue
        folder = str(entry.get("folder") or "")
        page = page_of(folder)
        shown = (
            Cell(f'<a href="{escape(page)}">{escape(folder)}</a>', folder, html=True)
            if page
            else text(folder)
        )
        status = str(entry.get("status") or "")
        rows.append(
            [
                shown,
                text(", ".join(str(c)[:10] for c in entry.get("commits", []))),
                text(entry.get("date")),
                Cell(escape(status), status, title=None),
            ]
        )
    if not rows:
        return None
    return Table(
        ["folder", "commits", "date", "status"],
        rows,
        "The evidence folders: stale ones were measured on older code than the claims need.",
        "folders",
    )
