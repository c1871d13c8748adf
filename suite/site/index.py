"""The site's index: the post's claims judged across the published run folders (by the
analysis layer, as the README judges them), then one row per folder linking its page."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from suite.analysis.folder import RootAnalysis
from suite.site import claims, layout
from suite.site.html import Cell, Table, element, escape, text
from suite.site.pages import Links, Page
from suite.site.sources import PublishedFolder

#: What the index says when no run folder is published (so no claim can be judged).
NO_CLAIMS = (
    "No claims were judged: none of the published folders holds runs. Publish a results "
    "folder (mfbench publish results) to judge them."
)


def index_page(
    sources: Sequence[PublishedFolder],
    judged: RootAnalysis | None,
    page_of: Callable[[str], str | None],
    links: Links,
) -> Page:
    """The claims table (or why there is none), then one row per folder with its page."""
    parts = [
        element("h1", "mfbench results"),
        layout.paragraph(
            "Is matrix factorization written in PyTorch as fast and as accurate as bespoke "
            "recommenders? Every number here is computed from the published result folders.",
            "lead",
        ),
    ]
    if judged is None:
        claims_html = layout.paragraph(escape(NO_CLAIMS), "note no-claims")
    else:
        table = claims.claims_table(judged.claims, page_of, judged.commit_of)
        claims_html = layout.table(table, "table-claims")
        folders = claims.folders_table(judged.folders, page_of)
        if folders:
            claims_html += layout.table(folders, "table-evidence")
    parts.append(layout.section("claims", "The claims", claims_html))
    parts.append(
        layout.section(
            "folders", "Result folders", layout.table(_folders(sources, judged), "table-folders")
        )
    )
    html = layout.page("mfbench results", "".join(parts), links, "index.html")
    return Page("index.html", html)


def _folders(sources: Sequence[PublishedFolder], judged: RootAnalysis | None) -> Table:
    status = {folder.name: folder.status for folder in (judged.folders if judged else [])}
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
