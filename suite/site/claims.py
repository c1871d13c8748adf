"""The claims tables of the site: the post's claims, each judged by the analysis layer
(``suite.analysis.claims``) from the folders being published (on the index) or from one
folder alone (on its page), and the folders they were judged from."""

from __future__ import annotations

from collections.abc import Callable

from suite.analysis.claims import Claim
from suite.analysis.provenance import Folder
from suite.answer import evidence_sentence, status_text
from suite.site.html import Cell, Table, element, escape, text


def claims_table(
    judged: list[Claim],
    page_of: Callable[[str], str | None],
    commit_of: Callable[[Claim], str | None],
) -> Table:
    """One row per claim: the claim (its quote), the verdict, the deciding figures with their
    95% intervals, the data sets, and the evidence: a link to the folder's page where the
    site has one (``page_of`` maps a folder's name to it), and the commit."""
    rows = []
    for claim in judged:
        said = [s for e in claim.evidence if (s := evidence_sentence(e)) is not None]
        folder = claim.folders[0] if claim.folders else ""
        page = page_of(folder) if folder else None
        evidence = (
            Cell(element("a", escape(folder), href=page), folder, html=True)
            if page
            else text(folder or None)
        )
        commit = commit_of(claim) or ""
        rows.append(
            [
                Cell(
                    f'<span class="claim-id">{escape(claim.id)}</span> “{escape(claim.quote)}”',
                    claim.id,
                    html=True,
                ),
                Cell(element("strong", escape(claim.verdict)), claim.verdict, html=True),
                Cell("<br>".join(escape(one) for one in said), "; ".join(said), html=True),
                text(", ".join(claim.datasets)),
                evidence,
                text(commit[:10] or None, title=commit or None),
            ]
        )
    return Table(
        ["claim", "verdict", "deciding figures, 95% CI", "data sets", "evidence", "commit"],
        rows,
        "The post's claims, each judged from the result folders shown here.",
        "claims",
    )


def folders_table(folders: list[Folder], page_of: Callable[[str], str | None]) -> Table | None:
    """The folders the claims were judged from: their commits, date and whether they are
    current; None when there are none."""
    rows = []
    for folder in folders:
        page = page_of(folder.name)
        shown = (
            Cell(element("a", escape(folder.name), href=page), folder.name, html=True)
            if page
            else text(folder.name)
        )
        rows.append(
            [
                shown,
                text(", ".join(str(c)[:10] for c in folder.commits)),
                text(folder.measured_at[:10] or None),
                Cell(escape(status_text(folder)), folder.status),
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
