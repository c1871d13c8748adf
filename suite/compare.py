"""``mfbench compare``: two run folders contender by contender, accuracy tested, time as ratios.

The asv-compare of the suite. Contenders are matched by (data set, label, backend) over their
ok runs. Each primary metric gets ``B − A`` over the runs both folders made on the same split
(split, fold, seed), with the corrected resampled paired t-test of ``suite.stats``; time gets
the ratio of median fit times, judged against a factor either way as asv does, and never
judged when the two sides did different work (other epochs, other numbers of ratings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from suite import metrics, results, safe_io, stats
from suite.errors import InputError
from suite.verdicts import si, test_fraction

#: A ratio of median fit times within this factor either way reads "same" (asv's default).
DEFAULT_TIME_FACTOR = 1.1

#: Medians of ``ratings_processed`` or ``epochs`` further apart than this (relative) mean the
#: two sides did different work, whose times are not comparable.
WORK_TOLERANCE = 0.01

#: What matches a contender across the two folders.
KEYS = ["dataset", "label", "backend"]

#: What pairs two runs of one contender: the same split of the same data with the same seed.
PAIRING = ["split", "fold", "seed"]

#: The verdict of a comparison that found no change.
SAME = "same"

#: The columns of the time comparison (after the keys, run counts and metric columns).
TIME_COLUMNS = [
    "fit_s_a",
    "fit_s_b",
    "fit_ratio",
    "ratings_per_s_a",
    "ratings_per_s_b",
    "throughput_ratio",
    "time_verdict",
]


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
    if not (frame["status"] == "ok").any():
        counts = frame["status"].value_counts()
        found = ", ".join(f"{count} {status}" for status, count in counts.items()) or "no runs"
        raise InputError(f"{name} {folder}: no ok runs to compare ({found})")
    env_file = folder / "env.json"
    env = safe_io.read_json(env_file, "env.json") if env_file.exists() else None
    if env is not None and not isinstance(env, dict):
        raise InputError(f"{name} {env_file}: not env.json (not a JSON object)")
    return Side(name, folder, frame, env)


# -- the comparison -----------------------------------------------------------------------------


def compare_runs(
    a_results: pd.DataFrame,
    b_results: pd.DataFrame,
    time_factor: float = DEFAULT_TIME_FACTOR,
) -> pd.DataFrame:
    """One row per contender with ok runs in both frames on the same data (``different_data``
    leaves the others out): accuracy and time, B against A.

    Parameters
    ----------
    a_results, b_results : DataFrame
        Runs (one row each, the columns of ``suite.results``); only ``status == "ok"`` runs
        count.
    time_factor : float
        A ratio of median fit times beyond this either way is "slower" or "faster".

    Returns
    -------
    DataFrame
        ``dataset``, ``label``, ``backend``, ``runs_a``, ``runs_b``; for each primary metric
        ``<column>_a`` and ``_b`` (means over the splits both ran, or over all runs where
        none pair), ``_diff``, ``_low``, ``_high`` (B − A and its
        ``1 − ALPHA`` interval; NaN where untested), ``_p``, ``_pairs`` and ``_verdict``
        ("better", "worse", "same", "untested (n pairs)", or "" where the contender has no
        such metric); then ``TIME_COLUMNS``, whose ``time_verdict`` is "slower", "faster",
        "same", "different settings", "different work", "different threads" or "untimed";
        "slower" and "faster" need the ratio beyond ``time_factor`` and, where two or more
        runs pair up, a significant paired difference in log fit time (from a single pair
        they say "one run: noise unknown"). Rows follow A's order.
    """
    if not (math.isfinite(time_factor) and time_factor > 1):
        raise InputError(f"--time-factor {time_factor:g}: must be a finite number above 1")
    ok_a, ok_b = _ok(a_results), _ok(b_results)
    groups_b = dict(list(ok_b.groupby(KEYS, sort=False)))
    other_data = different_data(a_results, b_results)
    rows = []
    for key, runs_a in ok_a.groupby(KEYS, sort=False):
        if key in groups_b and key[0] not in other_data:
            runs_b = groups_b[key]
            row: dict[str, Any] = dict(zip(KEYS, key, strict=True))
            row.update(runs_a=len(runs_a), runs_b=len(runs_b))
            fraction = test_fraction(pd.concat([runs_a, runs_b]))
            for metric in metrics.primaries():
                row.update(_accuracy(metric, runs_a, runs_b, fraction))
            row.update(_time(runs_a, runs_b, time_factor))
            rows.append(row)
    return pd.DataFrame(rows, columns=_columns())


def different_data(a_results: pd.DataFrame, b_results: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Data set names whose runs in A and B were measured on different data (content digests
    that differ), with the two digests: their runs are never paired. Records without a digest
    (older ones) are taken at their word."""
    digests = []
    for frame in (a_results, b_results):
        column = results.data_digests(frame)
        known = frame.assign(data_digest=column)[column != ""]
        digests.append(known.groupby("dataset")["data_digest"].first().to_dict())
    return {
        dataset: (digest, digests[1][dataset])
        for dataset, digest in digests[0].items()
        if dataset in digests[1] and digests[1][dataset] != digest
    }


def _columns() -> list[str]:
    accuracy = [
        f"{metric.column}_{part}"
        for metric in metrics.primaries()
        for part in ("a", "b", "diff", "low", "high", "p", "pairs", "verdict")
    ]
    return [*KEYS, "runs_a", "runs_b", *accuracy, *TIME_COLUMNS]


def _ok(frame: pd.DataFrame) -> pd.DataFrame:
    """The ok runs, each with its label (the model name where it has none)."""
    frame = frame.assign(label=results.labels(frame))
    return frame[frame["status"] == "ok"]


def _per_split(runs: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of each run indexed by what pairs it; repeated runs of a split averaged."""
    return runs.dropna(subset=[column]).groupby(PAIRING)[column].mean()


def _accuracy(
    metric: metrics.Metric, runs_a: pd.DataFrame, runs_b: pd.DataFrame, fraction: float
) -> dict[str, Any]:
    column = metric.column
    before, after = _per_split(runs_a, column), _per_split(runs_b, column)
    paired = before.index.intersection(after.index)
    if len(paired):  # means over the same splits, as the difference is
        before, after = before[paired], after[paired]
    row: dict[str, Any] = {
        f"{column}_a": before.mean(),
        f"{column}_b": after.mean(),
        f"{column}_diff": math.nan,
        f"{column}_low": math.nan,
        f"{column}_high": math.nan,
        f"{column}_p": math.nan,
        f"{column}_pairs": len(paired),
        f"{column}_verdict": "",
    }
    if before.empty and after.empty:  # not a metric of this contender (RMSE of a ranker)
        return row
    difference = None
    if math.isfinite(fraction):
        difference = stats.paired_difference(after, before, fraction)
    if difference is None:
        pairs = row[f"{column}_pairs"]
        why = f"{pairs} pair{'' if pairs == 1 else 's'}" if math.isfinite(fraction) else "no sizes"
        row[f"{column}_verdict"] = f"untested ({why})"
        return row
    row.update(
        {
            f"{column}_diff": difference.mean,
            f"{column}_low": difference.low,
            f"{column}_high": difference.high,
            f"{column}_p": difference.p,
            f"{column}_verdict": _accuracy_verdict(difference, metric),
        }
    )
    return row


def _accuracy_verdict(difference: stats.Difference, metric: metrics.Metric) -> str:
    if not difference.significant:
        return SAME
    return "better" if (difference.mean > 0) == metric.higher_is_better else "worse"


def _time(runs_a: pd.DataFrame, runs_b: pd.DataFrame, time_factor: float) -> dict[str, Any]:
    fit_a, fit_b = _median(runs_a, "fit_s"), _median(runs_b, "fit_s")
    speed_a, speed_b = _median(runs_a, "ratings_per_s"), _median(runs_b, "ratings_per_s")
    fit_ratio = fit_b / fit_a if fit_a > 0 else math.nan
    if not math.isfinite(fit_ratio):
        verdict = "untimed"
    elif _settings(runs_a) != _settings(runs_b):
        verdict = "different settings"  # e.g. another k: a speed-up of other work is none
    elif _different(runs_a, runs_b, ("ratings_processed", "epochs")):
        verdict = "different work"
    elif _different(runs_a, runs_b, ("n_threads",)):
        verdict = "different threads"
    elif abs(math.log(fit_ratio)) <= math.log(time_factor):
        verdict = SAME
    else:
        noise = _time_difference(runs_a, runs_b)
        verdict = "slower" if fit_ratio > 1 else "faster"
        if noise is None:
            verdict += " (one run: noise unknown)"
        elif not noise.significant:
            verdict = SAME
    return {
        "fit_s_a": fit_a,
        "fit_s_b": fit_b,
        "fit_ratio": fit_ratio,
        "ratings_per_s_a": speed_a,
        "ratings_per_s_b": speed_b,
        "throughput_ratio": speed_b / speed_a if speed_a > 0 else math.nan,
        "time_verdict": verdict,
    }


def _settings(runs: pd.DataFrame) -> set[str]:
    """The hyperparameters the runs used, as recorded (``params``)."""
    return set(runs["params"].map(str)) if "params" in runs else set()


def _time_difference(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> stats.Difference | None:
    """The paired test of log fit time, B − A; None with fewer than two pairs."""
    log_a = np.log(_per_split(runs_a[runs_a["fit_s"] > 0], "fit_s"))
    log_b = np.log(_per_split(runs_b[runs_b["fit_s"] > 0], "fit_s"))
    return stats.paired_difference(log_b, log_a, 0.0)


def _median(runs: pd.DataFrame, column: str) -> float:
    return float(runs[column].median()) if column in runs else math.nan


def _different(runs_a: pd.DataFrame, runs_b: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    """Whether the medians of any of ``columns`` differ by more than ``WORK_TOLERANCE``.

    A column recorded on neither side says nothing; recorded on one side only, it cannot
    show that the work was the same.
    """
    for column in columns:
        a, b = _median(runs_a, column), _median(runs_b, column)
        if math.isnan(a) and math.isnan(b):
            continue
        if math.isnan(a) or math.isnan(b) or not math.isclose(a, b, rel_tol=WORK_TOLERANCE):
            return True
    return False


def changed(table: pd.DataFrame) -> pd.Series:
    """Which rows of ``compare_runs`` have a verdict other than "same" (or untested)."""
    verdicts = table[[c for c in table.columns if c.endswith("verdict")]]
    untested = verdicts.apply(lambda column: column.str.startswith("untested"))
    return ((verdicts != SAME) & (verdicts != "") & ~untested).any(axis=1)


def only_in(one: pd.DataFrame, other: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (dataset, label, backend) with ok runs in ``one`` and none in ``other``."""
    theirs = set(_ok(other)[KEYS].itertuples(index=False, name=None))
    mine = _ok(one)[KEYS].drop_duplicates().itertuples(index=False, name=None)
    return [key for key in mine if key not in theirs]


def not_ok(a_results: pd.DataFrame, b_results: pd.DataFrame) -> pd.DataFrame:
    """The runs not ok on either side: side, dataset, label, backend, status, runs, reason."""
    sides = [
        frame.assign(side=side, label=results.labels(frame))
        for side, frame in (("A", a_results), ("B", b_results))
    ]
    runs = pd.concat(sides, ignore_index=True)
    runs = runs[runs["status"] != "ok"].assign(reason=lambda f: f["reason"].fillna(""))
    columns = ["side", *KEYS, "status", "reason"]
    counted = runs.groupby(columns, sort=False).size().rename("runs").reset_index()
    return counted[["side", *KEYS, "status", "runs", "reason"]]


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
            f"(α = {stats.ALPHA:g}, time factor {time_factor:g})."
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
    confidence = f"{1 - stats.ALPHA:.0%}"
    return (
        f"Accuracy: mean in A → B and the difference B − A with its {confidence} confidence "
        f"interval, over the runs both made on the same split (split, fold, seed), and "
        f"better/worse where the {stats.TEST_NAME} finds it significant at "
        f"α = {stats.ALPHA:g}. Time: median fit_s and ratings/s; slower/faster where B/A is "
        f'beyond ×{time_factor:g} either way; "different work" where the median epochs or '
        f"ratings processed differ by more than {WORK_TOLERANCE:.0%} (their times are not "
        "comparable)."
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
                _ratio(row["fit_ratio"]),
                f"{si(row['ratings_per_s_a'])} → {si(row['ratings_per_s_b'])}",
                _ratio(row["throughput_ratio"]),
                row["time_verdict"],
            ]
        )
        rows.append([str(cell) for cell in cells])
    confidence = f"{1 - stats.ALPHA:.0%}"
    for metric in metrics.primaries():
        title = metric.title
        headers += [f"{title} A → B", f"{title} B − A [{confidence} CI]", f"{title} verdict"]
    headers += ["fit_s A → B", "fit B/A", "ratings/s A → B", "ratings/s B/A", "time verdict"]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _metric_cells(row: pd.Series, column: str) -> list[str]:
    if not row[f"{column}_verdict"]:
        return ["", "", ""]
    a, b = row[f"{column}_a"], row[f"{column}_b"]
    means = f"{_shown(a, '.4f')} → {_shown(b, '.4f')}"
    if math.isnan(row[f"{column}_diff"]):
        difference = f"{b - a:+.4f}" if math.isfinite(b - a) else ""
    else:
        difference = stats.Difference(
            row[f"{column}_diff"],
            row[f"{column}_low"],
            row[f"{column}_high"],
            row[f"{column}_p"],
            row[f"{column}_pairs"],
        ).interval()
    return [means, difference, row[f"{column}_verdict"]]


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


def _ratio(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"
