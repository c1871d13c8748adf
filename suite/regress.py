"""The regression gate: a fresh run of a config against the committed reference → pass/fail.

``run_check`` runs the config, reads the reference (refused in one line before any work when
it is unreadable, of another config or schema, or no longer matches its digests), compares
the two row by row (``suite.analysis.gate``: accuracy per seed, speed as a paired ratio of
``fit_norm``, membership), measures a speed failure again before believing it, and writes
``CHECK.md``. Nothing is passed unseen: every (data set, contender, seed) that ran ok in the
reference must run ok now, and every speed row that is not compared says why.

Normalised speed is comparable within one *machine class* (CPU model and the BLAS kernels
chosen for it), not across: so speed is compared with runs from the same class, the
reference's own if it was made on one, else a ``speed-<class>.csv`` beside it
(``mfbench check --update-speed``). With neither, the speed rows say "unchecked" and why,
and the headline says speed was not checked.

A reference is a complete run folder of the same config holding ``check.json``: the config
name, the schema version, the tolerances and the SHA-256 and row count of every file the gate
reads. Contenders that are new in this run are reported, not failed unless asked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
from dataclasses import asdict, fields
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from suite import environment, results, runner, safe_io
from suite.analysis.gate import (
    KEY,
    NO_CLASS,
    SPEED_CHECK,
    SpeedReference,
    Tolerances,
    compare,
)
from suite.config import Grid, load_config
from suite.errors import InputError

log = logging.getLogger("mfbench")

SCHEMA_VERSION = 2  # 2: check.json holds the digests of the files it vouches for
CHECK_FILE = "check.json"
REMEASURED = "remeasured"  # the run folder, inside a check's, of speed rows measured again
SPEED_PREFIX = "speed-"  # speed-<machine class slug>.csv: runs timed on another machine class
SPEED_COLUMNS = [*KEY, "model", "split", "fold", "seed", "status", "fit_s", "fit_norm"]


# -- the gate, from start to end ----------------------------------------------------------------


def run_check(
    config: str,
    reference: Path,
    out: Path,
    *,
    update: bool = False,
    update_speed: bool = False,
    overrides: dict[str, float | None] | None = None,
    in_process: bool = False,
    allow_new: bool = False,
) -> int:
    """``mfbench check``: run ``config`` into ``out``, compare it with ``reference``; the exit
    code (0 pass, 1 a regression or nothing compared).

    The reference is read (and refused in one line) before any work. ``update`` makes the
    run the new reference, after showing what changed; ``update_speed`` keeps its speed
    figures as this machine class's, if accuracy passes. ``overrides`` replace the
    reference's tolerances (``speed_factor``, ``accuracy_floor``) where not None. A
    contender the reference has no ok run of is "new" and fails the gate (nothing vouches
    for its numbers) unless ``allow_new``.
    """
    grid = load_config(config)
    old = None
    if not update:
        old = load_reference(reference, grid.name)  # fails early, before any work
    elif (reference / CHECK_FILE).exists():
        try:  # to show what the update changes; a broken reference is simply replaced
            old = load_reference(reference, grid.name)
        except InputError as exc:
            log.warning("%s; --update replaces it", exc)
    if update_speed:  # refused before any work, not after the run
        _refuse_own_class(machine_class(environment.environment()), reference)
    tolerances = dataclasses.replace(
        stored_tolerances(reference),
        **{key: value for key, value in (overrides or {}).items() if value is not None},
    )
    runner.run_grid(grid, out, in_process=in_process)
    table = None
    if old is not None:
        table = _compared(reference, old, out, tolerances)
        if not update and not update_speed:
            table = _confirm_slowdowns(grid, table, reference, old, out, tolerances, in_process)
        _write_check(out, table, update)
    failed = set() if table is None else set(table.loc[table["verdict"] == "FAIL", "check"])
    if update:
        stale = write_reference(out, reference, grid.name, tolerances)
        changed = "the comparison above shows what changed" if old is not None else "new"
        print(f"reference updated: {reference} ({changed})")
        for path in stale:
            print(f"removed {path}: speed figures of the old code on another machine class")
        return 0
    if update_speed:
        if failed - {SPEED_CHECK}:
            print("speed reference not written: accuracy regressed (see above)")
            return 1
        print(f"speed reference written: {write_speed_reference(out, reference)}")
        return 0
    print(f"check: {out / 'CHECK.md'}")
    if table is not None and not table["verdict"].isin(["ok", "FAIL"]).any():
        print("check: nothing was compared, so nothing is vouched for")  # silence is no pass
        return 1
    new = table[table["verdict"] == "new"] if table is not None else table
    if new is not None and not new.empty and not allow_new:
        names = ", ".join(sorted(set(new["model"] + " on " + new["dataset"])))
        print(
            f"check: not vouched for, no ok run in the reference: {names}; pass --allow-new "
            "to accept them unchecked, or --update the reference"
        )
        return 1
    return 1 if failed else 0


def _compared(
    reference: Path, old: pd.DataFrame, out: Path, tolerances: Tolerances
) -> pd.DataFrame:
    """The comparison of the run in ``out`` with the reference."""
    current, _ = results.load(out)
    speed = speed_reference(reference, old, folder_machine(out))
    return compare(old, current, tolerances, speed)


def _write_check(out: Path, table: pd.DataFrame, update: bool) -> None:
    text = render(table, update)
    safe_io.write_text(out / "CHECK.md", text)
    print(text)


def _confirm_slowdowns(
    grid: Grid,
    table: pd.DataFrame,
    reference: Path,
    old: pd.DataFrame,
    out: Path,
    tolerances: Tolerances,
    in_process: bool,
) -> pd.DataFrame:
    """``table`` with each speed FAIL measured again before it is believed.

    A burst of load from another process can slow one contender's few timed fits far beyond
    the limit while the rest hold, and some contenders' fits vary widely from run to run
    (their own ``Model.speed_tolerance`` says how much). A real slowdown is there every time
    it is measured: the failing contenders run again, in ``out/remeasured``, and a row fails
    only when both measurements exceed its limit. The row shows the smaller ratio (the one
    judged) and names both.
    """
    failing = table[(table["check"] == SPEED_CHECK) & (table["verdict"] == "FAIL")]
    if failing.empty:
        return table
    labels = set(failing["model"])
    log.warning("speed beyond the limit for %s: measuring again", ", ".join(sorted(labels)))
    again = out / REMEASURED
    subgrid = dataclasses.replace(
        grid, models=[spec for spec in grid.models if (spec.label or spec.name) in labels]
    )
    runner.run_grid(subgrid, again, in_process=in_process)
    second = _compared(reference, old, again, tolerances)
    redone = {
        (row["dataset"], row["model"], row["backend"]): row
        for _, row in second[second["check"] == SPEED_CHECK].iterrows()
    }
    table = table.copy()
    for index, row in failing.iterrows():
        redo = redone.get((row["dataset"], row["model"], row["backend"]))
        if redo is None or redo["verdict"] not in ("ok", "FAIL"):
            why = "not measured again" if redo is None else redo["allowed"]
            table.loc[index, "allowed"] = f"{row['allowed']} (re-measured: {why})"
            continue
        first_ratio, second_ratio = row["change"], redo["change"]
        kept = redo if second_ratio < first_ratio else row
        table.loc[index, ["now", "change"]] = [kept["now"], kept["change"]]
        table.loc[index, "allowed"] = (
            f"{row['allowed']} (took {first_ratio:.2f}×, re-measured {second_ratio:.2f}×)"
        )
        table.loc[index, "verdict"] = redo["verdict"]  # FAIL only when both exceed the limit
    return table


# -- the reference --------------------------------------------------------------------------------


def stored_tolerances(folder: Path) -> Tolerances:
    """The tolerances a reference was made with (defaults where it has none)."""
    meta_file = folder / CHECK_FILE
    if not meta_file.exists():
        return Tolerances()
    stored: dict[str, Any] = dict(_meta(folder).get("tolerances") or {})
    # Per-contender speed limits are a fact of each contender now (Model.speed_tolerance).
    stored.pop("speed_factor_by_model", None)
    known = {f.name for f in fields(Tolerances)}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise InputError(
            f"{meta_file}: unknown tolerance {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    try:
        return Tolerances(**stored)
    except InputError as exc:
        raise InputError(f"{meta_file}: {exc}") from exc


def load_reference(folder: Path, config: str) -> pd.DataFrame:
    """The reference results of ``config`` in ``folder``; ``InputError`` if absent, from
    another config or schema, or if a file no longer matches the digest it was written with."""
    meta_file = folder / CHECK_FILE
    if not meta_file.exists():
        raise InputError(
            f"--reference {folder}: no {CHECK_FILE} (not a gate reference); create one with "
            f"`mfbench check --update --reference {folder}`"
        )
    meta = _meta(folder)
    if meta.get("schema") != SCHEMA_VERSION:
        raise InputError(
            f"--reference {folder}: schema {meta.get('schema')}, this mfbench reads "
            f"{SCHEMA_VERSION}; refresh it with `mfbench check --update`"
        )
    made_with = meta.get("config", meta.get("preset"))  # "preset": the key's former name
    if made_with != config:
        raise InputError(f"--reference {folder}: made with config {made_with!r}, not {config!r}")
    _verify(folder, meta)
    frame, _ = results.load(folder)
    return frame


def _meta(folder: Path) -> dict[str, Any]:
    """``check.json`` of a reference folder, which must be a JSON object."""
    meta = safe_io.read_json(folder / CHECK_FILE, "a gate reference's check.json")
    if not isinstance(meta, dict):
        raise InputError(f"{folder / CHECK_FILE}: not a gate reference (not a JSON object)")
    return meta


def _verify(folder: Path, meta: dict[str, Any]) -> None:
    """Every file ``check.json`` vouches for is there, whole; no speed file is unvouched."""
    files = meta.get("files")
    if not isinstance(files, dict) or "results.csv" not in files:
        raise InputError(f"{folder / CHECK_FILE}: lists no file digests; refresh it with --update")
    for path in sorted(folder.glob(f"{SPEED_PREFIX}*.csv")):
        if path.name not in files:
            raise InputError(
                f"{path}: not written by `mfbench check --update-speed` (no digest in "
                f"{CHECK_FILE}); delete it or rewrite it on its machine class"
            )
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"{path}: missing from the reference (listed in {CHECK_FILE})")
        found = _fingerprint(path)
        if found["sha256"] != expected.get("sha256"):
            rows, written = found["rows"], expected.get("rows")
            how = f"{rows} rows, {written} when written" if rows != written else "same rows"
            raise InputError(
                f"{path}: changed since the reference was written ({how}; truncated or "
                "edited); restore it (git checkout) or refresh with `mfbench check --update`"
            )


def _fingerprint(path: Path) -> dict[str, Any]:
    """What ``check.json`` records of a file: its SHA-256 and number of lines after the header."""
    content = path.read_bytes()  # reference files are small: one read for both figures
    lines = content.count(b"\n") + (not content.endswith(b"\n") and bool(content))
    rows = max(lines - 1, 0)
    return {"sha256": hashlib.sha256(content).hexdigest(), "rows": rows}


def vouch(reference: Path, names: list[str]) -> None:
    """Record the digests of ``names`` in ``reference``'s ``check.json`` (written last).

    What ``--update-speed`` does for the file it adds; by hand, it makes an edited reference
    file trusted again.
    """
    meta = _meta(reference)
    meta["files"] = {**(meta.get("files") or {}), **{n: _fingerprint(reference / n) for n in names}}
    safe_io.write_json(reference / CHECK_FILE, meta)


def machine_class(env: dict[str, Any]) -> str:
    """What normalised speed is comparable within: the CPU model and its BLAS kernels."""
    kernels = [
        pool["architecture"]
        for pool in env.get("threadpools") or []
        if pool.get("user_api") == "blas" and pool.get("architecture")
    ]
    return f"{env.get('cpu', '?')} / {kernels[0]}" if kernels else str(env.get("cpu", "?"))


def folder_machine(folder: Path) -> str:
    """The machine class a run folder was measured on (from its ``env.json``)."""
    env_file = folder / "env.json"
    return machine_class(safe_io.read_json(env_file, "env.json")) if env_file.exists() else "?"


def speed_reference(folder: Path, reference: pd.DataFrame, machine: str) -> SpeedReference:
    """The speed figures in reference ``folder`` that were measured on ``machine``'s class."""
    own = folder_machine(folder)
    extra = {}
    for path in sorted(folder.glob(f"{SPEED_PREFIX}*.csv")):
        frame = _read_speed_file(path)
        extra[str(frame["machine"].iloc[0])] = frame
    known = [own, *extra]
    if machine == own:
        return SpeedReference(reference, machine, known)
    return SpeedReference(extra.get(machine), machine, known)


def _read_speed_file(path: Path) -> pd.DataFrame:
    needed = [*SPEED_COLUMNS, "machine"]
    problem = ""
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problem, frame = f"unreadable ({type(exc).__name__})", pd.DataFrame()
    if not problem and (frame.empty or not set(needed) <= set(frame.columns)):
        problem = f"needs rows with the columns {', '.join(needed)}"
    if problem:
        raise InputError(
            f"{path}: not a speed reference: {problem}; delete it or rewrite it with "
            "`mfbench check --update-speed` on its machine class"
        )
    return frame


def render(table: pd.DataFrame, update: bool = False) -> str:
    """The comparison as markdown, failures first, under a headline that counts each verdict.

    ``change`` reads against ``allowed``: a signed difference for accuracy ("-0.005422"
    against "≥ -0.0020"), a time ratio for speed ("takes 1.07×" the reference's normalised fit
    time, against "≤ 1.3×"). With ``update``
    (``check --update``) the run becomes the new reference: the rows are what changed against
    the previous one, expected after a deliberate change, and headed so.
    """
    order = {"FAIL": 0, "gone": 1, "unchecked": 2, "new": 3, "ok": 4}
    table = table.sort_values("verdict", key=lambda v: v.map(order), kind="stable")
    shown = table.copy()
    for column in ("reference", "now"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
    shown["change"] = [
        _change_text(change, check == SPEED_CHECK)
        for check, change in zip(table["check"], table["change"], strict=True)
    ]
    shown["seed"] = shown["seed"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    body = tabulate(
        shown, headers="keys", tablefmt="github", showindex=False, disable_numparse=True
    )
    if update:
        changed = int((table["verdict"] == "FAIL").sum())
        heading = (
            "# mfbench check --update: a new reference\n\nThis run replaces the gate's "
            f"reference. Below, what changed against the previous reference: {changed} row(s) "
            "beyond the gate's tolerances (expected after a deliberate change; they are not "
            "regressions of this reference, which is now the one later runs are held to)."
        )
        return f"{heading}\n\n{body}\n"
    return f"# mfbench check\n\n{_headline(table)}\n\n{body}\n"


def _change_text(change: float, ratio: bool) -> str:
    if pd.isna(change):
        return ""
    return f"takes {change:.2f}×" if ratio else f"{change:+.4g}"


def _headline(table: pd.DataFrame) -> str:
    """What the table holds, in counts that are each true as stated."""
    count = table["verdict"].value_counts()
    failures, passed = int(count.get("FAIL", 0)), int(count.get("ok", 0))
    checks = failures + passed
    if failures:
        headline = f"**{failures} regression(s)** out of {checks} checks"
    elif checks:
        headline = f"No regression: {checks} checks passed"
    else:
        headline = "No check was made: nothing was compared"
    also = {
        "unchecked": "speed row(s) not checked (why: in the table)",
        "gone": "contender(s) of the reference not in this run",
        "new": "contender(s) with no ok run in the reference, not checked",
    }
    for verdict, what in also.items():
        if count.get(verdict, 0):
            headline += f"; {int(count[verdict])} {what}"
    headline += "."
    unchecked = table[table["verdict"] == "unchecked"]
    no_class = unchecked["allowed"][unchecked["allowed"].str.startswith(NO_CLASS)]
    if not no_class.empty:
        headline += f" **Speed not checked on this machine:** {no_class.iloc[0]}."
    return headline


def write_reference(
    current_folder: Path, reference: Path, config: str, tol: Tolerances
) -> list[Path]:
    """Make ``current_folder``'s results the gate reference (``check --update``).

    Speed figures of other machine classes measured the old code; they are removed (and
    returned) so that they never judge the new one.
    """
    _require_complete(current_folder, "--update")
    safe_io.make_folder(reference, "--reference")
    copied = []
    for name in ("results.csv", "curves.csv", "env.json", "CHECK.md"):
        if (current_folder / name).exists():
            safe_io.write_with(reference / name, partial(shutil.copyfile, current_folder / name))
            copied.append(name)
    stale = sorted(reference.glob(f"{SPEED_PREFIX}*.csv"))
    meta = {"schema": SCHEMA_VERSION, "config": config, "tolerances": asdict(tol)}
    meta["files"] = {name: _fingerprint(reference / name) for name in copied}
    safe_io.write_json(reference / CHECK_FILE, meta)  # last: it vouches for the files above
    for path in stale:
        path.unlink()
    return stale


def write_speed_reference(current_folder: Path, reference: Path) -> Path:
    """Keep ``current_folder``'s speed figures as its machine class's (``--update-speed``)."""
    machine = folder_machine(current_folder)
    _refuse_own_class(machine, reference)
    runs = _require_complete(current_folder, "--update-speed")
    runs = runs.assign(label=results.labels(runs))
    env = safe_io.read_json(current_folder / "env.json", "env.json")
    runs = runs.loc[runs["status"] == results.OK, SPEED_COLUMNS].assign(
        machine=machine,
        commit=env.get("git_commit"),  # which code was timed
    )
    path = reference / f"{SPEED_PREFIX}{_slug(machine)}.csv"
    safe_io.write_csv(runs, path)
    vouch(reference, [path.name])
    return path


def _refuse_own_class(machine: str, reference: Path) -> None:
    """``--update-speed`` is for another machine class than the reference's own."""
    if machine == folder_machine(reference):
        raise InputError(
            f"--update-speed: {reference} was made on this machine class ({machine}); "
            "its own figures are the speed reference (refresh them with --update)"
        )


def _require_complete(folder: Path, option: str) -> pd.DataFrame:
    """The results of ``folder``, which a reference may be made of only if no run failed."""
    frame, _ = results.load(folder)
    failed = frame[frame["status"] == results.FAILED]
    if not failed.empty:
        first = failed.iloc[0]
        raise InputError(
            f"{option}: {len(failed)} run(s) in {folder} failed (first: {first['dataset']} "
            f"{first['model']} seed {first['seed']}: {first['reason'][:120]}); a reference "
            "needs a complete run"
        )
    return frame


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
