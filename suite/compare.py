"""``mfbench compare``: two run folders contender by contender, rendered as Markdown: accuracy
tested, time as paired ratios (the analysis is ``suite.analysis.versus``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from suite import metrics, results, safe_io
from suite.analysis.paired import ALPHA, TEST_NAME, Difference
from suite.analysis.versus import (
    DEFAULT_TIME_FACTOR,
    SAME,
    WORK_TOLERANCE,
    changed,
    compare_runs,
    different_data,
    not_ok,
    only_in,
)
from suite.errors import InputError
from suite.wording import CONVENTION, bounds, difference, si, times


@dataclass(frozen=True)
class Side:
    """One of the two run folders: how the output names it, its runs and its machine.

    Parameters
    ----------
    name : str
        ``"A"`` or ``"B"`` (what error messages and the header call it).
    folder : Path
        The run folder.
    results : DataFrame
        Its runs, as ``suite.results.load`` returns them.
    env : dict or None
        Its ``env.json``; None when it has none.
    """

    name: str
    folder: Path
    results: pd.DataFrame
    env: dict[str, Any] | None


def load_side(name: str, folder: Path) -> Side:
    """The run folder ``folder`` as side ``name``; ``InputError`` naming both if it is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{name} {folder}: no such folder")
    try:
        frame, _ = results.load(folder)
        results.refuse_mixed_data(frame, str(folder))
    except InputError as exc:
        raise InputError(f"{name} {exc}") from exc
    if not (frame["status"] == results.OK).any():
        counts = frame["status"].value_counts()
        found = ", ".join(f"{count} {status}" for status, count in counts.items()) or "no runs"
        raise InputError(f"{name} {folder}: no ok runs to compare ({found})")
    env_file = folder / "env.json"
    env = safe_io.read_json(env_file, "env.json") if env_file.exists() else None
    if env is not None and not isinstance(env, dict):
        raise InputError(f"{name} {env_file}: not env.json (not a JSON object)")
    return Side(name, folder, frame, env)


# -- the markdown -------------------------------------------------------------------------------


def compare_folders(
    a: Side, b: Side, time_factor: float = DEFAULT_TIME_FACTOR, only_changed: bool = False
) -> str:
    """The markdown comparison of two run folders; ``InputError`` if they share no contender."""
    table = compare_runs(a.results, b.results, time_factor)
    if table.empty:
        other = different_data(a.results, b.results)
        reason = (
            f"; the data sets they share were different data: {_digests_text(other)}"
            if other
            else ""
        )
        raise InputError(
            f"A {a.folder} and B {b.folder} have no contender in common "
            f"(the same data set, contender and backend, with ok runs){reason}"
        )
    return render(a, b, table, time_factor=time_factor, only_changed=only_changed)


def render(
    a: Side,
    b: Side,
    table: pd.DataFrame,
    *,
    time_factor: float = DEFAULT_TIME_FACTOR,
    only_changed: bool = False,
) -> str:
    """``compare_runs``'s table as markdown, with both folders' machines and what is unmatched."""
    parts = [f"# mfbench compare: {a.folder} → {b.folder}", _header(a, b), _method(time_factor)]
    shown = table[changed(table)] if only_changed else table
    if shown.empty:
        parts.append(
            f"No change: all {len(table)} contenders in common read {SAME!r} "
            f"(α = {ALPHA:g}, time factor {time_factor:g})."
        )
    else:
        if only_changed:
            parts.append(f"{len(shown)} of {len(table)} contenders in common changed:")
        parts.append(_table(shown))
    other = different_data(a.results, b.results)
    if other:
        parts.append(f"Not compared, the same name on different data: {_digests_text(other)}.")
    parts.append(_membership(a, b))
    return "\n\n".join(parts) + "\n"


def _digests_text(other: dict[str, tuple[str, str]]) -> str:
    return "; ".join(
        f"{dataset} (A's content digest {one[:12]}, B's {two[:12]})"
        for dataset, (one, two) in other.items()
    )


def _header(a: Side, b: Side) -> str:
    lines = [f"- **{side.name}** `{side.folder}`: {_describe(side.env)}" for side in (a, b)]
    versions = _version_changes(a.env, b.env)
    if versions:
        lines.append(f"- Versions that differ (A → B): {versions}")
    machine_a, machine_b = _machine(a.env), _machine(b.env)
    if machine_a is None or machine_b is None:
        missing = " and ".join(s.name for s in (a, b) if s.env is None)
        lines.append(
            f"\n> **Warning:** no env.json in {missing}: "
            "time ratios may compare different machines."
        )
    elif machine_a != machine_b:
        lines.append(
            "\n> **Warning:** A and B ran on different machines: time ratios compare the "
            "machines as well as the code."
        )
    return "\n".join(lines)


def _describe(env: dict[str, Any] | None) -> str:
    """``"AMD EPYC, 2 cores, no GPU; commit f0c6689f90 (dirty); 2026-11-28T09:19:49Z"``."""
    if env is None:
        return "machine, commit and date unknown (no env.json)"
    machine = _machine(env)
    commit = env.get("git_commit")
    commit_text = f"commit {str(commit)[:10]}" if commit else "commit unknown"
    if env.get("git_dirty"):
        commit_text += " (dirty)"
    return f"{', '.join(machine)}; {commit_text}; {env.get('captured_at') or 'date unknown'}"


def _machine(env: dict[str, Any] | None) -> tuple[str, str, str] | None:
    """``(cpu, cores, gpu)`` as the header prints them: what time ratios depend on."""
    if env is None:
        return None
    gpu = env.get("gpu")
    if isinstance(gpu, dict):
        gpu = f"{gpu.get('count') or 1}× {gpu.get('name', 'GPU')}"
    cores = env.get("cores")
    return (
        str(env.get("cpu") or "CPU unknown"),
        f"{cores} cores" if cores else "cores unknown",
        str(gpu) if gpu else "no GPU",
    )


def _version_changes(env_a: dict[str, Any] | None, env_b: dict[str, Any] | None) -> str:
    if env_a is None or env_b is None:
        return ""
    versions_a = {"python": env_a.get("python"), **(env_a.get("versions") or {})}
    versions_b = {"python": env_b.get("python"), **(env_b.get("versions") or {})}
    return ", ".join(
        f"{name} {versions_a.get(name)} → {versions_b.get(name)}"
        for name in dict.fromkeys([*versions_a, *versions_b])
        if versions_a.get(name) != versions_b.get(name)
    )


def _method(time_factor: float) -> str:
    confidence = f"{1 - ALPHA:.0%}"
    return (
        f"Accuracy: mean in A → B and the difference B − A with its {confidence} confidence "
        f"interval, over the runs both made on the same split (split, fold, seed), and "
        f"better/worse where the {TEST_NAME} finds it significant at "
        f"α = {ALPHA:g}. Time: median fit_s and ratings/s, and B's fit time over A's as a "
        f"paired ratio over the same splits; slower/faster where it lies beyond ×{time_factor:g} "
        'either way and its interval wholly on that side of 1; "different work" where the '
        f"median epochs or ratings processed differ by more than {WORK_TOLERANCE:.0%} (their "
        f"times are not comparable). {CONVENTION}"
    )


def _table(table: pd.DataFrame) -> str:
    headers = ["dataset", "contender", "backend", "runs A", "runs B"]
    rows = []
    for _, row in table.iterrows():
        cells = [row["dataset"], row["label"], row["backend"], row["runs_a"], row["runs_b"]]
        for metric in metrics.primaries():
            cells.extend(_metric_cells(row, metric.column))
        cells.extend(
            [
                f"{_shown(row['fit_s_a'])} → {_shown(row['fit_s_b'])}",
                _fit_ratio(row),
                f"{si(row['ratings_per_s_a'])} → {si(row['ratings_per_s_b'])}",
                row["time_verdict"],
            ]
        )
        rows.append([str(cell) for cell in cells])
    confidence = f"{1 - ALPHA:.0%}"
    for metric in metrics.primaries():
        title = metric.title
        headers += [f"{title} A → B", f"{title} B − A [{confidence} CI]", f"{title} verdict"]
    headers += [
        "fit_s A → B",
        "B takes N× A's fit time",
        "ratings/s A → B",
        "time verdict",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _metric_cells(row: pd.Series, column: str) -> list[str]:
    if not row[f"{column}_verdict"]:
        return ["", "", ""]
    a, b = row[f"{column}_a"], row[f"{column}_b"]
    means = f"{_shown(a, '.4f')} → {_shown(b, '.4f')}"
    if math.isnan(row[f"{column}_diff"]):
        shown = f"{b - a:+.4f}" if math.isfinite(b - a) else ""
    else:
        shown = difference(
            Difference(
                row[f"{column}_diff"],
                row[f"{column}_low"],
                row[f"{column}_high"],
                row[f"{column}_p"],
                row[f"{column}_pairs"],
            )
        )
    return [means, shown, row[f"{column}_verdict"]]


def _membership(a: Side, b: Side) -> str:
    lines = []
    for one, other in ((a, b), (b, a)):
        keys = only_in(one.results, other.results)
        named = ", ".join(f"{dataset} {label} ({backend})" for dataset, label, backend in keys)
        lines.append(f"Only in {one.name} ({len(keys)}): {named or 'none'}.")
    failures = not_ok(a.results, b.results)
    if failures.empty:
        lines.append("Runs not ok: none.")
    else:
        lines.append(f"Runs not ok ({int(failures['runs'].sum())}):\n")
        lines.append(
            tabulate(
                failures.astype(str).values.tolist(),
                headers=["side", "dataset", "contender", "backend", "status", "runs", "reason"],
                tablefmt="github",
                disable_numparse=True,
            )
        )
    return "\n".join(lines)


def _shown(value: float, spec: str = ".3g") -> str:
    """A figure of the comparison as text ("n/a" where it is missing)."""
    return "n/a" if pd.isna(value) else format(value, spec)


def _fit_ratio(row: pd.Series) -> str:
    """``"1.17× [0.83, 1.65], 5 pairs"``: B's fit time over A's, what it is the mean of."""
    if pd.isna(row["fit_ratio"]):
        return "n/a"
    pairs = int(row["fit_pairs"])
    shown = f"{times(row['fit_ratio'])}{bounds(row['fit_low'], row['fit_high'])}"
    return f"{shown}, {'one run' if pairs == 1 else f'{pairs} pairs'}"
