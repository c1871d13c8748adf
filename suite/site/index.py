"""The site's index: the claims table (``summary.json``, or one sentence on why there is
none), then one row per folder linking its page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from suite.site import claims, layout
from suite.site.html import Cell, Table, element, escape, text
from suite.site.markdown import inline
from suite.site.pages import Links, Page
from suite.site.sources import Source


def index_page(
    sources: Sequence[Source],
    summary: dict[str, Any] | None,
    page_of: Callable[[str], str | None],
    links: Links,
) -> Page:
    """The claims table (or why there is none), then one row per folder with its page."""
    parts = [
        element("h1", "mfbench results"),
        layout.paragraph(
            "Is matrix factorization written in PyTorch as fast and as accurate as bespoke "
            "recommenders? Every number here is generated from the committed result folders.",
            "lead",
        ),
    ]
    if summary is None:
        claims_html = layout.paragraph(inline(claims.NO_CLAIMS), "note no-claims")
    else:
        claims_html = layout.table(claims.claims_table(summary, page_of), "table-claims")
        folders = claims.folders_table(summary, page_of)
        if folders:
            claims_html += layout.table(folders, "table-evidence")
    parts.append(layout.section("claims", "The claims", claims_html))
    parts.append(
        layout.section(
            "folders", "Result folders", layout.table(_folders(sources, summary), "table-folders")
        )
    )
    html = layout.page("mfbench results", "".join(parts), links, "index.html")
    return Page("index.html", html)


def _folders(sources: Sequence[Source], summary: dict[str, Any] | None) -> Table:
    status = {
        str(entry.get("folder")): str(entry.get("status") or "")
        for entry in (summary or {}).get("folders", [])
        if isinstance(entry, dict)
    }
    rows = []
    for source in sources:
        link = Cell(
            element("a", escape(source.title), href=f"{source.name}.html"), source.title, True
        )
        if source.kind == "runs":
            results = source.results
            configs = ", ".join(map(str, results["config"].dropna().unique()))
            what = f"runs ({configs})" if configs else "runs"
            datasets = ", ".join(dict.fromkeys(results["dataset"]))
            counts = results["status"].value_counts()
            runs = ", ".join(f"{n} {s}" for s, n in counts.items())
        elif source.kind == "tuning":
            what, runs = "tuning", f"{len(source.trials)} trials"
            datasets = source.facts.get("data set", "")
        else:
            what, datasets, runs = "empty", "", "none"
        commit = str(source.env.get("git_commit") or source.facts.get("commit") or "")
        rows.append(
            [
                link,
                text(what),
                text(datasets),
                text(runs),
                text(commit[:10] or None, title=commit or None),
                text(str(source.env.get("captured_at") or "")[:10] or None),
                text(status.get(source.title) or None),
            ]
        )
    return Table(
        ["folder", "what", "data sets", "runs", "commit", "measured", "status"],
        rows,
        "One page per folder: verdict, tables, interactive figures, environment and provenance.",
        "folders",
    )
