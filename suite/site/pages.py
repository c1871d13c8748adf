"""The site's folder pages, each generated from one folder's data: a run folder's (verdict,
tables and figures per data set, cost growth, every run, environment and provenance), a
tuning folder's (winners, trials plot, every trial) and an empty folder's. The index is
``suite.site.index``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from suite import results as results_io
from suite import verdicts
from suite.analysis.folder import DatasetAnalysis, FolderAnalysis
from suite.analysis.growth import Growth
from suite.analysis.targets import Judged
from suite.models.base import Contest
from suite.models.facts import recorded
from suite.report import target_figure
from suite.site import claims, figures, growth, layout, provenance, tables, trials
from suite.site.figures import Figure
from suite.site.html import Cell, Table, bullets, element, escape, sentence, text
from suite.site.sources import PublishedFolder


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


def source_page(
    source: PublishedFolder, links: Links, page_of: Callable[[str], str | None] = lambda _: None
) -> Page:
    """The page of one folder, by what it holds (``page_of``: a folder's page, for links)."""
    if source.kind == "runs" and source.analysis is not None:
        with recorded(source.analysis.facts):
            return run_page(source, source.analysis, links, page_of)
    if source.kind == "tuning":
        return tuning_page(source, links)
    return empty_page(source, links)


def _files(source: PublishedFolder) -> str:
    if not source.files:
        return ""
    shown = " · ".join(
        element("a", escape(path.name), href=f"data/{source.name}/{path.name}")
        for path in source.files
    )
    return layout.paragraph(f"This folder's data: {shown}.", "files")


# -- a run folder -------------------------------------------------------------------------------


def run_page(
    source: PublishedFolder,
    found: FolderAnalysis,
    links: Links,
    page_of: Callable[[str], str | None] = lambda _: None,
) -> Page:
    """A run folder's page: the verdict, the claims and targets as this folder alone judges
    them, each data set's findings, table and figures, cost growth where there are planted
    sizes, every run, and the environment and provenance."""
    results = found.results
    counts = results["status"].value_counts()
    configs = ", ".join(map(str, results["config"].dropna().unique())) or "?"
    lead = (
        f"Config <strong>{escape(configs)}</strong>: {len(results)} runs "
        f"({escape(', '.join(f'{n} {s}' for s, n in counts.items()))}) on "
        f"{len(found.datasets)} data set(s)."
    )
    parts = [element("h1", escape(source.title)), layout.paragraph(lead, "lead")]
    entries = [("verdict", "Verdict")]
    body = [layout.section("verdict", "Verdict", _verdict(found))]
    own = [claim.only(found.measured.name) for claim in found.claims]
    measured = [claim for claim in own if claim.evidence]
    if measured:
        entries.append(("claims", "Claims"))
        table = claims.claims_table(measured, page_of, lambda _: None)
        note = layout.paragraph(
            "The comparisons of the claims protocol (suite/claims.toml) this folder measures, "
            "judged from it alone (Holm's adjustment across them only); the index judges "
            "every claim across every folder.",
            "note",
        )
        body.append(layout.section("claims", "Claims", note + layout.table(table, "table-claims")))
    if found.targets and any(j.state != "not measured" for j in found.targets):
        entries.append(("targets", "Targets"))
        body.append(
            layout.section(
                "targets",
                "Targets: PyTorch at its best on CPU",
                layout.table(_targets_table(found.targets), "table-targets"),
            )
        )
    drawn: list[Figure] = []
    for number, data in enumerate(found.datasets, 1):
        anchor = f"data-{number}"
        content, shown = _dataset(anchor, data, not found.cost_only)
        drawn += shown
        entries.append((anchor, data.dataset))
        body.append(layout.section(anchor, data.dataset, content))
    if found.growth:
        content, shown = _growth(found.growth)
        drawn += shown
        entries.append(("growth", "Cost growth"))
        body.append(layout.section("growth", "Cost growth", content))
    commits = provenance.run_commits(results, found.env)
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
    return Page(f"{source.name}.html", html, drawn, _run_note(source, found, drawn))


def _targets_table(judged: list[Judged]) -> Table:
    rows = [
        [text(one.target), text(target_figure(one)), Cell(escape(one.state), one.state)]
        for one in judged
    ]
    return Table(
        ["target", "figure, 95% interval", "state"],
        rows,
        "Each target's figure with its 95% interval over paired runs: met when the whole "
        "interval lies on the target's side, missed when it lies wholly on the other, not "
        "resolved when it straddles the threshold.",
        "targets",
    )


def _growth(found: list[Growth]) -> tuple[str, list[Figure]]:
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


def _run_note(source: PublishedFolder, found: FolderAnalysis, drawn: list[Figure]) -> str:
    counts = found.results["status"].value_counts()
    ok = int(counts.get(results_io.OK, 0))
    said = ", ".join(f"{n} {status}" for status, n in counts.items())
    where = f"{source.title} -> {source.name}.html"
    if ok == 0:
        return f"{where}: no successful run ({said}); the page lists the runs and why"
    if ok == 1:
        return f"{where}: a single successful run ({said}); no spread or test to show"
    datasets = sum(data.ok for data in found.datasets)
    return f"{where}: {said}, {datasets} data set(s), {len(drawn)} figure(s)"


def _verdict(found: FolderAnalysis) -> str:
    """Each data set's verdict (``suite.verdicts``, as REPORT.md words it), then the
    environment's caveats."""
    said = []
    for data in found.datasets:
        sentences = verdicts.verdict(data, found.gpu_name, found.cost_only) if data.ok else []
        lead = element("strong", escape(f"{data.dataset}."))
        shown = " ".join(map(sentence, sentences)) or "No successful runs."
        said.append(element("p", f"{lead} {shown}"))
    caveats = "".join(
        element("p", "<strong>Caveat:</strong> " + escape(c), class_="caveat")
        for c in provenance.caveats(found.env)
    )
    return "".join(said) + caveats


def _dataset(anchor: str, data: DatasetAnalysis, judged: bool) -> tuple[str, list[Figure]]:
    """One data set: its shape, each contest's findings, the summary table, and its figures."""
    runs, rows = data.runs, data.rows
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
    if not data.ok:
        parts.append(layout.paragraph("No successful runs: see every run below.", "note"))
        return "".join(parts), []
    for contest in Contest:
        if data.standings[contest].entrants:
            found = verdicts.findings(data, contest, judged)
            if found:
                parts.append(element("h3", escape(verdicts.CONTEST_TITLES[contest])))
                parts.append(bullets(found))
    parts.append(layout.table(tables.summary_table(data.dataset, rows), f"table-{anchor}"))
    drawn: list[Figure] = []
    for contest in Contest:
        chart = data.pareto.get(contest)
        if chart is not None:
            drawn.append(figures.pareto(f"{anchor}-pareto-{contest.value}", chart))
    for chart in data.convergence:
        drawn.append(figures.convergence(f"{anchor}-convergence-{chart.metric.column}", chart))
    if data.epoch_times is not None:
        drawn.append(figures.epoch_time(f"{anchor}-epoch-time", data.epoch_times))
    parts.append(layout.figures(drawn))
    return "".join(parts), drawn


def _provenance(source: PublishedFolder) -> str:
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


def tuning_page(source: PublishedFolder, links: Links) -> Page:
    """A tuning folder's page: its protocol (from its settings file), the winners, the trials
    plot per contest, every trial, and its data files."""
    found = trials.figures("trials", source.trials)
    protocol = (
        layout.table(
            Table(
                ["", ""],
                [[text(name), text(value)] for name, value in source.facts.items()],
                "The search's protocol, as its settings.toml records it.",
                "facts",
            ),
            "table-protocol",
        )
        if source.facts
        else layout.paragraph("No protocol recorded (no settings.toml).")
    )
    body = [
        element("h1", escape(source.title)),
        layout.paragraph(
            f"A hyperparameter search (<code>mfbench tune</code>): {len(source.trials)} trials "
            f"of {source.trials['model'].nunique()} contender(s).",
            "lead",
        ),
        layout.section("protocol", "Protocol", protocol),
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


def empty_page(source: PublishedFolder, links: Links) -> Page:
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
