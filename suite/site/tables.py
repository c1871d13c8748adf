"""The tables of a run folder's page: the summary of each data set (one row per contender
setting and backend) and every run, with its provenance.

Cells carry sort keys (``suite.site.html.Cell``); the browser sorts and filters them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from suite import metrics
from suite import results as results_io
from suite.site.html import Cell, Table, finite, number, text


def _pm(mean: Any, std: Any) -> Cell:
    """``mean ± std`` (4 decimals), sorted by the mean; the std left out when unknown."""
    mean, std = finite(mean), finite(std)
    if mean is None:
        return Cell("", None)
    shown = f"{mean:.4f} ± {std:.4f}" if std is not None else f"{mean:.4f}"
    return Cell(shown, mean)


def _fit(row: pd.Series) -> Cell:
    median = finite(row["fit_median"])
    if median is None:
        return Cell("", None)
    low, high = finite(row["fit_min"]), finite(row["fit_max"])
    spread = f" [{low:.3g}–{high:.3g}]" if low is not None and high is not None else ""
    return Cell(f"{median:.3g}{spread}", median)


def _memory(row: pd.Series) -> Cell:
    rss, jvm = finite(row.get("peak_rss_mb")), finite(row.get("peak_jvm_mb"))
    if rss is None:
        return Cell("", None)
    shown = f"{rss:,.0f}" + (f" + {jvm:,.0f} JVM" if jvm is not None else "")
    return Cell(shown, rss + (jvm or 0.0))


def _rate(value: Any) -> Cell:
    value = finite(value)
    if value is None:
        return Cell("", None)
    return Cell(_si(value), value)


def _si(value: float) -> str:
    for power, suffix in ((9, "G"), (6, "M"), (3, "k")):
        if abs(value) >= 10**power:
            return f"{value / 10**power:.3g}{suffix}"
    return f"{value:.3g}"


def summary_table(dataset: str, rows: pd.DataFrame) -> Table:
    """One data set's summary: contender, backend, runs, k, epochs, the primary metrics with
    their std over runs, fit time (median [min–max]), ratings/s and peak memory."""
    primaries = metrics.primaries()
    headers = [
        "contender",
        "backend",
        "runs",
        "factors",
        "epochs",
        *(f"{metric.title} ± std" for metric in primaries),
        "fit s [min–max]",
        "ratings/s",
        "peak MB",
    ]
    cells = []
    for _, row in rows.iterrows():
        cells.append(
            [
                text(row["label"]),
                text(row["backend"]),
                number(row["runs"], 0),
                number(row["factors"], 0),
                number(row["epochs"], 0),
                *(_pm(row[f"{m.column}_mean"], row[f"{m.column}_std"]) for m in primaries),
                _fit(row),
                _rate(row["ratings_per_s"]),
                _memory(row),
            ]
        )
    return Table(
        headers,
        cells,
        f"{dataset}: means over each contender's ok runs (± their standard deviation).",
        "contenders",
    )


def params_text(params: Any) -> str:
    """A run's settings as ``name=value, …`` (sorted; unset ones left out)."""
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in sorted(results_io.params_of(params).items())
        if value is not None
    )


def runs_table(results: pd.DataFrame, commits: pd.Series) -> Table:
    """Every run of the folder: what ran (data set, contender, backend, split, fold, seed,
    settings), how it ended, its primary metrics and costs, and its provenance (the commit
    that ran it, the data's content digest where the record has one).

    ``commits`` holds each run's commit (``suite.site.provenance.run_commits``).
    """
    primaries = metrics.primaries()
    headers = [
        "run",
        "data set",
        "contender",
        "backend",
        "split",
        "fold",
        "seed",
        "status",
        "settings",
        "epochs",
        *(metric.title for metric in primaries),
        "fit s",
        "ratings/s",
        "peak MB",
        "threads",
        "commit",
        "data digest",
    ]
    cells = []
    for index, row in results.iterrows():
        reason = row.get("reason") or ""
        status = text(row["status"], title=reason or None)
        if reason:
            status = Cell(f"{row['status']}: {reason}", row["status"], title=reason)
        digest = row.get("data_digest")
        digest = digest if isinstance(digest, str) and digest else None
        commit = commits.get(index)
        cells.append(
            [
                text(row["run_id"]),
                text(row["dataset"]),
                text(row["label"]),
                text(row["backend"]),
                text(row["split"]),
                number(row["fold"], 0),
                number(row["seed"], 0),
                status,
                text(params_text(row["params"])),
                number(row["epochs"], 0),
                *(number(row[m.column], 4) for m in primaries),
                number(row["fit_s"], 3, style="g"),
                _rate(row["ratings_per_s"]),
                number(row["peak_rss_mb"], 0),
                number(row["n_threads"], 0),
                text(commit[:10] if commit else None, title=commit),
                text(digest[:12] if digest else None, title=digest),
            ]
        )
    return Table(headers, cells, "Every run in this folder, as recorded.", "runs")
