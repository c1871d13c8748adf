"""Where a folder's numbers come from: the machine and libraries (``env.json``), the load of
each session that ran it (``env.json``'s ``load``), the commit of every run and the content
digest of every data set."""

from __future__ import annotations

from typing import Any

import pandas as pd

from suite import environment
from suite.site.html import Cell, Table, number, text


def environment_table(env: dict[str, Any]) -> Table:
    """The machine, Python, torch, libraries, BLAS and thread settings, and the commit."""
    versions = env.get("versions") or {}
    gpu = env.get("gpu") or {}
    pools = sorted(
        {
            f"{pool.get('internal_api')} {pool.get('version') or ''}".strip()
            for pool in env.get("threadpools") or []
            if isinstance(pool, dict)
        }
    )
    threads = env.get("thread_settings") or {}
    commit = env.get("git_commit") or "?"
    rows = [
        (
            "CPU",
            f"{env.get('cpu', '?')} ({env.get('cores', '?')} cores, "
            f"{env.get('usable_cores', env.get('cores', '?'))} usable)",
        ),
        ("memory", f"{env.get('ram_gb', '?')} GB"),
        (
            "GPU",
            f"{gpu.get('name', 'none')}"
            + (f" (driver {gpu['driver']})" if gpu.get("driver") else ""),
        ),
        ("operating system", env.get("os", "?")),
        (
            "Python / torch / CUDA",
            f"{env.get('python', '?')} / {versions.get('torch', '?')} / "
            f"{env.get('torch_cuda') or 'none'}",
        ),
        ("libraries", ", ".join(f"{name} {v}" for name, v in versions.items() if v)),
        ("BLAS / OpenMP", ", ".join(pools) or "?"),
        ("thread settings", ", ".join(f"{k}={v}" for k, v in threads.items() if v is not None)),
        ("commit", commit + (" (uncommitted changes)" if env.get("git_dirty") else "")),
        ("captured", env.get("captured_at", "?")),
    ]
    return Table(["", "environment"], [[text(a), text(b)] for a, b in rows], sortable=False)


def sessions(env: dict[str, Any]) -> list[dict[str, Any]]:
    """The sessions that ran the folder (``env.json``'s ``load``), in order."""
    return [session for session in env.get("load") or [] if isinstance(session, dict)]


def load_table(env: dict[str, Any]) -> Table | None:
    """One row per session: when, how long, on which commit, and the machine's load before
    and after (1-minute load average, busy and stolen CPU %). None without sessions."""
    found = sessions(env)
    if not found:
        return None
    rows = []
    for number_, session in enumerate(found, 1):
        before, after = session.get("before") or {}, session.get("after") or {}
        commit = session.get("git_commit") or ""
        rows.append(
            [
                number(number_, 0),
                text("resumed" if session.get("resumed") else "new"),
                text(_moment(session.get("started_at"))),
                text(_moment(after.get("ended_at"))),
                text(after.get("ended")),
                number(after.get("run_s"), 0),
                text(commit[:10] + (" (dirty)" if session.get("git_dirty") else ""), commit),
                number(session.get("threads_per_run"), 0),
                _pair(before.get("loadavg_1m"), after.get("loadavg_1m"), 2),
                _pair(before.get("busy_pct"), after.get("busy_pct"), 1),
                _pair(before.get("steal_pct"), after.get("steal_pct"), 1),
            ]
        )
    return Table(
        [
            "session",
            "kind",
            "started",
            "ended",
            "how",
            "run s",
            "commit",
            "threads/run",
            "load 1 min, before → after",
            "busy %, before → after",
            "steal %, before → after",
        ],
        rows,
        "The machine's load around each session that ran this folder (env.json).",
        "sessions",
    )


def _moment(stamp: Any) -> str | None:
    """A UTC time stamp as ``2026-11-28 15:20:25``."""
    return stamp.replace("T", " ").rstrip("Z") if isinstance(stamp, str) else None


def _pair(before: Any, after: Any, digits: int) -> Cell:
    shown = [number(value, digits).text or "?" for value in (before, after)]
    return Cell(" → ".join(shown), number(after, digits).sort)


def caveats(env: dict[str, Any]) -> list[str]:
    """What a reader must know about how the numbers were measured (``suite.environment``)."""
    return environment.caveats(env)


def run_commits(results: pd.DataFrame, env: dict[str, Any]) -> pd.Series:
    """Each run's commit: its record's ``git_commit``, else that of the session in whose time
    it started (older records), else the folder's; "" when nothing says."""
    windows = [
        (
            s.get("started_at") or "",
            (s.get("after") or {}).get("ended_at") or "~",
            s.get("git_commit"),
        )
        for s in sessions(env)
    ]
    fallback = env.get("git_commit") or ""

    def commit(row: pd.Series) -> str:
        own = row.get("git_commit")
        if isinstance(own, str) and own:
            return own
        started = row.get("started_at")
        if isinstance(started, str) and started:
            inside = [c for start, end, c in windows if start <= started <= end and c]
            begun = [c for start, _, c in windows if start <= started and c]
            if inside or begun:
                return (inside or begun)[-1]
        return fallback

    return results.apply(commit, axis=1) if not results.empty else pd.Series(dtype=object)


def data_table(results: pd.DataFrame) -> Table:
    """One row per data set: its shape, split, folds × seeds, the runs, and the content
    digest(s) of the data its runs were measured on (where the records have one)."""
    rows = []
    for dataset, runs in results.groupby("dataset", sort=False):
        first = runs.iloc[0]
        digests = sorted({d for d in runs.get("data_digest", pd.Series()).dropna() if d})
        counts = runs["status"].value_counts()
        rows.append(
            [
                text(dataset),
                number(first.get("n_users"), style=","),
                number(first.get("n_items"), style=","),
                number(runs["n_train"].median(), style=","),
                number(runs["n_test"].median(), style=","),
                text(first.get("split")),
                text(f"{runs['fold'].nunique()} × {runs['seed'].nunique()}"),
                text(", ".join(f"{n} {status}" for status, n in counts.items())),
                text(
                    ", ".join(d[:12] for d in digests) or "not recorded", ", ".join(digests) or None
                ),
            ]
        )
    return Table(
        [
            "data set",
            "users",
            "items",
            "train ratings",
            "test ratings",
            "split",
            "folds × seeds",
            "runs",
            "data digest",
        ],
        rows,
        "The data sets of this folder; the digest is a SHA-256 of the loaded ratings.",
        "data sets",
    )
