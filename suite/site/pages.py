"""The site's folder pages, each generated from one folder's data: a run folder's (verdict,
tables and figures per data set, cost growth, every run, environment and provenance), a
tuning folder's (winners, trials plot, every trial) and an empty folder's. The index is
``suite.site.index``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from suite import metrics, report, verdicts
from suite import results as results_io
from suite.models.base import Contest
from suite.models.facts import recorded
from suite.site import figures, growth, layout, provenance, tables, trials
from suite.site.figures import Figure
from suite.site.html import element, escape
from suite.site.markdown import inline, section, to_html
from suite.site.sources import Source


@dataclass
class Page:
    """A page's file name, HTML, and the figures it draws (to count them)."""

    file: str
    html: str
    figures: list[Figure] = field(default_factory=list)
    note: str = ""  # one line on what happened, for the command's output
    drawn: int | None = None  # how many figures, where ``figures`` was left out (None: count it)

    @property
    def figure_count(self) -> int:
        return len(self.figures) if self.drawn is None else self.drawn


Links = Sequence[tuple[str, str]]


def source_page(source: Source, links: Links) -> Page:
    """The page of one folder, by what it holds."""
    if source.kind == "runs":
        with recorded(results_io.recorded_facts(source.results)):
            return run_page(source, links)
    if source.kind == "tuning":
        return tuning_page(source, links)
    return empty_page(source, links)


def _files(source: Source) -> str:
    if not source.files:
        return ""
    shown = " · ".join(
        element("a", escape(path.name), href=f"data/{source.name}/{path.name}")
        for path in source.files
    )
    return layout.paragraph(f"This folder's data: {shown}.", "files")


# -- a run folder -------------------------------------------------------------------------------


def run_page(source: Source, links: Links) -> Page:
    """A run folder's page: the verdict, each data set's table and figures, cost growth
    where there are planted sizes, every run, and the environment and provenance."""
    results, curves, env = source.results, source.curves, source.env
    summary = report.summarize(results)
    datasets = list(dict.fromkeys(results["dataset"]))
    counts = results["status"].value_counts()
    configs = ", ".join(map(str, results["config"].dropna().unique())) or "?"
    lead = (
        f"Config <strong>{escape(configs)}</strong>: {len(results)} runs "
        f"({escape(', '.join(f'{n} {s}' for s, n in counts.items()))}) on "
        f"{len(datasets)} data set(s)."
    )
    parts = [element("h1", escape(source.title)), layout.paragraph(lead, "lead")]
    entries = [("verdict", "Verdict")]
    body = [layout.section("verdict", "Verdict", _verdict(source, summary, datasets))]
    drawn: list[Figure] = []
    for number, dataset in enumerate(datasets, 1):
        anchor = f"data-{number}"
        rows = summary[summary["dataset"] == dataset] if not summary.empty else summary
        runs = results[results["dataset"] == dataset]
        content, found = _dataset(anchor, dataset, rows, runs, curves)
        drawn += found
        entries.append((anchor, dataset))
        body.append(layout.section(anchor, dataset, content))
    found_groups = growth.groups(summary)
    if found_groups:
        content, found = _growth(found_groups)
        drawn += found
        entries.append(("growth", "Cost growth"))
        body.append(layout.section("growth", "Cost growth", content))
    commits = provenance.run_commits(results, env)
    entries.append(("runs", "Every run"))
    body.append(
        layout.section(
            "runs", "Every run", layout.table(tables.runs_table(results, commits), "table-runs")
        )
    )
    entries.append(("provenance", "Environment and provenance"))
    body.append(layout.section("provenance", "Environment and provenance", _provenance(source)))
    html = layout.page(
        f"mfbench: {source.title}",
        "".join(parts) + layout.contents(entries) + "".join(body),
        links,
        f"{source.name}.html",
        drawn,
        source.title,
    )
    return Page(f"{source.name}.html", html, drawn, _run_note(source, summary, drawn))


def _growth(found: list[pd.DataFrame]) -> tuple[str, list[Figure]]:
    """Cost growth over the planted sizes: the slopes' table and the two log-log figures."""
    drawn = growth.figures("growth", found)
    content = (
        layout.paragraph(
            "Time per epoch (or ALS iteration) and the memory a fit adds, against training "
            "ratings, on the planted data sets; slopes of the log-log fit (1 = linear)."
        )
        + layout.table(growth.table(found), "table-growth")
        + layout.figures(drawn)
    )
    return content, drawn


def _run_note(source: Source, summary: pd.DataFrame, drawn: list[Figure]) -> str:
    counts = source.results["status"].value_counts()
    ok = int(counts.get("ok", 0))
    said = ", ".join(f"{n} {status}" for status, n in counts.items())
    where = f"{source.title} -> {source.name}.html"
    if ok == 0:
        return f"{where}: no successful run ({said}); the page lists the runs and why"
    if ok == 1:
        return f"{where}: a single successful run ({said}); no spread or test to show"
    return f"{where}: {said}, {summary['dataset'].nunique()} data set(s), {len(drawn)} figure(s)"


def _verdict(source: Source, summary: pd.DataFrame, datasets: list[str]) -> str:
    """The first "## Verdict" section of the folder's REPORT.md, else computed with
    ``suite.verdicts`` as the report does; with the environment's caveats after it."""
    written = section(source.report, "Verdict") if source.report else None
    if written is None:
        gpu = (source.env.get("gpu") or {}).get("name")
        said = []
        for dataset in datasets:
            rows = summary[summary["dataset"] == dataset] if not summary.empty else summary
            runs = source.results[source.results["dataset"] == dataset]
            sentences = verdicts.verdict(rows, runs, gpu) if not rows.empty else []
            said.append(f"**{dataset}.** " + (" ".join(sentences) or "No successful runs."))
        written = "\n\n".join(said)
        origin = "Computed from this folder's runs (it has no REPORT.md)."
    else:
        origin = "From this folder's REPORT.md, generated from its runs."
    caveats = "".join(
        element("p", "<strong>Caveat:</strong> " + inline(c), class_="caveat")
        for c in provenance.caveats(source.env)
    )
    return to_html(written, link=lambda href: None) + caveats + layout.paragraph(origin, "note")


def _dataset(
    anchor: str, dataset: str, rows: pd.DataFrame, runs: pd.DataFrame, curves: pd.DataFrame
) -> tuple[str, list[Figure]]:
    """One data set: its shape, the summary table, and its figures."""
    first = runs.iloc[0]
    parts = []
    if pd.notna(first.get("n_users")):
        parts.append(
            layout.paragraph(
                f"{int(first['n_users']):,} users × {int(first['n_items']):,} items; split "
                f"{escape(first['split'])}, {runs['fold'].nunique()} fold(s) × "
                f"{runs['seed'].nunique()} seed(s); ~{int(first['n_train']):,} train / "
                f"{int(first['n_test']):,} test ratings per run.",
                "facts",
            )
        )
    if rows.empty:
        parts.append(layout.paragraph("No successful runs: see every run below.", "note"))
        return "".join(parts), []
    parts.append(layout.table(tables.summary_table(dataset, rows), f"table-{anchor}"))
    found: list[Figure] = []
    for contest in (Contest.RATING, Contest.RANKING):
        fig = figures.pareto(f"{anchor}-pareto-{contest.value}", dataset, rows, runs, contest)
        if fig:
            found.append(fig)
    for metric in metrics.primaries():
        fig = figures.convergence(
            f"{anchor}-convergence-{metric.column}", dataset, runs, curves, metric
        )
        if fig:
            found.append(fig)
    fig = figures.epoch_time(f"{anchor}-epoch-time", dataset, rows)
    if fig:
        found.append(fig)
    parts.append(layout.figures(found))
    return "".join(parts), found


def _provenance(source: Source) -> str:
    """Data sets and their digests, the environment, each session's load, the data files."""
    parts = [layout.table(provenance.data_table(source.results), "table-data")]
    if source.env:
        parts.append(layout.table(provenance.environment_table(source.env), "table-env"))
        sessions = provenance.load_table(source.env)
        if sessions:
            parts.append(layout.table(sessions, "table-load"))
    else:
        parts.append(
            layout.paragraph("This folder has no env.json: the machine is unknown.", "note")
        )
    parts.append(_files(source))
    return "".join(parts)


# -- a tuning folder ----------------------------------------------------------------------------


def tuning_page(source: Source, links: Links) -> Page:
    """A tuning folder's page: its protocol (TUNING.md's), the winners, the trials plot per
    contest, every trial, and its data files."""
    found = trials.figures("trials", source.trials)
    protocol = ""
    if source.report:
        head = source.report.split("\n\n")
        protocol = to_html("\n\n".join(b for b in head[1:2]), link=lambda href: None)
    body = [
        element("h1", escape(source.title)),
        layout.paragraph(
            f"A hyperparameter search (<code>mfbench tune</code>): {len(source.trials)} trials "
            f"of {source.trials['model'].nunique()} contender(s).",
            "lead",
        ),
        layout.section("protocol", "Protocol", protocol or layout.paragraph("No TUNING.md.")),
        layout.section(
            "winners", "Winners", layout.table(trials.winners_table(source.trials), "table-winners")
        ),
        layout.section("plot", "Every trial: score against fit time", layout.figures(found)),
        layout.section(
            "trials",
            "Every trial",
            layout.table(trials.trials_table(source.trials), "table-trials"),
        ),
        layout.section(
            "provenance",
            "Environment and provenance",
            _files(source) or layout.paragraph("No data files."),
        ),
    ]
    html = layout.page(
        f"mfbench: {source.title}", "".join(body), links, f"{source.name}.html", found, source.title
    )
    note = f"{source.title} -> {source.name}.html: tuning, {len(source.trials)} trials"
    if source.trials.empty:
        note = f"{source.title} -> {source.name}.html: tuning folder with no trials"
    return Page(f"{source.name}.html", html, found, note)


# -- an empty folder ----------------------------------------------------------------------------


def empty_page(source: Source, links: Links) -> Page:
    """A folder with no results: its page says so."""
    body = element("h1", escape(source.title)) + layout.paragraph(
        "This folder holds no results: no results.jsonl, results.csv or trials.csv. "
        "Run <code>mfbench run --out FOLDER</code> to fill it.",
        "lead",
    )
    html = layout.page(f"mfbench: {source.title}", body, links, f"{source.name}.html")
    return Page(
        f"{source.name}.html",
        html,
        [],
        f"{source.title} -> {source.name}.html: empty folder (no results.jsonl, results.csv "
        "or trials.csv); the page says so",
    )
