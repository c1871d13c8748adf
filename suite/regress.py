"""The regression gate: a fresh run of a config against the committed reference → pass/fail.

Like is compared with like:

- accuracy per (data set, model, seed): the primary metric of each contest
  (``suite.metrics``: RMSE for models that predict ratings, NDCG@10 for all). Runs are
  deterministic per seed, so a row fails when it is worse than the reference by more than
  ``max(accuracy_floor, spread_factor × std over the reference's seeds)``;
- speed per (data set, model): the median over seeds of ``fit_norm`` — each fit time divided
  by a calibration workload timed around it in the same process (``suite.execute``) — fails
  when it grows by more than ``speed_factor``, or by the contender's own
  ``Model.speed_tolerance`` where its timing is noisier. A slower or busier machine slows
  the calibration too, so it does not fail the gate. The ratio now / reference is rounded
  to two decimals, as CHECK.md shows it, before it is compared with the limit: what is shown
  is what was judged (timing noise is far above 0.5%). A median is compared only with one
  over the same runs (split, fold, seed), every one of them ok and timed now. Otherwise, and
  for fits shorter than ``min_fit_s`` in the reference (too short to time reliably), the
  row says "unchecked" and why. A speed row beyond its limit is measured again (its
  contender's runs repeated): it fails only when the second measurement exceeds the limit
  too, since a burst of load from another process can slow one contender's few fits.

Normalised speed is comparable within one *machine class* (CPU model and the BLAS kernels
chosen for it), not across: on the same config, LightFM's ``fit_norm`` is 1.5× higher on an
AMD EPYC than on the Intel Xeon the reference was made on, numba's lower. So speed is
compared with runs from the same class: the reference's own if it was made on one, else a
``speed-<class>.csv`` beside it (``mfbench check --update-speed``). With neither, the
speed rows say "unchecked" and why, and the headline says speed was not checked.

Nothing is passed unseen: every (data set, contender, seed) that ran ok in the reference must
run ok now, or the gate fails naming it, and every speed row that is not compared says why.

A reference is a complete run folder of the same config holding ``check.json``: the config
name, the schema version, the tolerances and the SHA-256 and row count of every file the gate
reads. A reference that is unreadable, from another schema, or whose files no longer match
their digests (truncated, edited, half-copied) is refused with one line before any work is
done. Contenders that are new in this run are reported, not failed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import shutil
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from suite import environment, metrics, models, results, runner, safe_io
from suite.config import Grid, load_config
from suite.errors import InputError

log = logging.getLogger("mfbench")

SCHEMA_VERSION = 2  # 2: check.json holds the digests of the files it vouches for
NAN = float("nan")
CHECK_FILE = "check.json"
KEY = ["dataset", "label", "backend"]
SPEED_CHECK = "fit_norm (median)"  # the check column of a speed row
REMEASURED = "remeasured"  # the run folder, inside a check's, of speed rows measured again
SPEED_PREFIX = "speed-"  # speed-<machine class slug>.csv: runs timed on another machine class
SPEED_COLUMNS = [*KEY, "model", "split", "fold", "seed", "status", "fit_s", "fit_norm"]
NO_CLASS = "no speed reference for this machine class"


@dataclass
class Tolerances:
    """How much worse a row may get before the gate fails."""

    accuracy_floor: float = 0.002  # absolute RMSE / NDCG@10
    spread_factor: float = 0.5  # × std over the reference's seeds
    speed_factor: float = 1.3  # now / reference of the normalised fit time
    min_fit_s: float = 0.25  # shorter fits are too noisy to time; their speed is not compared

    def __post_init__(self) -> None:
        lowest = {"speed_factor": 1.0}  # below 1, an unchanged contender would fail
        for name, value in asdict(self).items():
            low = lowest.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"tolerance {name} = {value!r}: must be a number >= {low:g}")
            if not math.isfinite(value) or value < low:  # NaN would pass every comparison
                raise InputError(f"tolerance {name} = {value!r}: must be a number >= {low:g}")

    def speed_limit(self, model: str) -> float:
        """The allowed growth of ``model``'s normalised fit time: ``speed_factor``, or the
        contender's own ``speed_tolerance`` where that is looser."""
        contender = models.lookup(model)
        own = contender.speed_tolerance if contender is not None else None
        return max(own or 0.0, self.speed_factor)

    @classmethod
    def stored(cls, folder: Path) -> Tolerances:
        """The tolerances a reference was made with (defaults where it has none)."""
        meta_file = folder / CHECK_FILE
        if not meta_file.exists():
            return cls()
        stored: dict[str, Any] = dict(_meta(folder).get("tolerances") or {})
        # Per-contender speed limits are a fact of each contender now (Model.speed_tolerance).
        stored.pop("speed_factor_by_model", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(stored) - known)
        if unknown:
            raise InputError(
                f"{meta_file}: unknown tolerance {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        try:
            return cls(**stored)
        except InputError as exc:
            raise InputError(f"{meta_file}: {exc}") from exc


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
        Tolerances.stored(reference),
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
    the limit (on 2 shared cores, 1.8× for one contender while the rest held), and LIBMF's
    fits alone vary ±20% from run to run on one thread. A real slowdown is there every
    time it is measured: the failing contenders run again, in ``out/remeasured``, and a row
    fails only when both measurements exceed its limit. The row shows the smaller ratio (the
    one judged) and names both.
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
            f"{row['allowed']} (×{first_ratio:.2f}, re-measured ×{second_ratio:.2f})"
        )
        table.loc[index, "verdict"] = redo["verdict"]  # FAIL only when both exceed the limit
    return table


# -- the reference --------------------------------------------------------------------------------


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


@dataclass
class SpeedReference:
    """Reference runs whose ``fit_norm`` is comparable with this machine's, or why none is."""

    runs: pd.DataFrame | None  # None: nothing comparable
    machine: str  # this machine's class
    known: list[str]  # the classes the reference has speed figures for


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


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    tol: Tolerances,
    speed: SpeedReference | None = None,
) -> pd.DataFrame:
    """One row per comparison: what, reference, now, change, allowed, verdict.

    ``change`` is ``now - reference`` for accuracy rows and ``now / reference`` for speed
    rows (rounded as compared); ``allowed`` states the bound on it. ``speed``: where this
    machine's speed figures come from (default: ``reference``, i.e. the same machine class).
    """
    reference, current = (_labelled(frame) for frame in (reference, current))
    speed = speed or SpeedReference(reference, "", [])
    rows = _accuracy_rows(reference, current, tol) + _speed_rows(speed, current, tol)
    rows += _membership_rows(reference, current)
    return pd.DataFrame(
        rows,
        columns=[
            "check",
            "dataset",
            "model",
            "backend",
            "seed",
            "reference",
            "now",
            "change",
            "allowed",
            "verdict",
        ],
    )


def render(table: pd.DataFrame, update: bool = False) -> str:
    """The comparison as markdown, failures first, under a headline that counts each verdict.

    ``change`` reads against ``allowed``: a signed difference for accuracy ("-0.005422"
    against "≥ -0.0020"), a ratio for speed ("×1.07" against "× ≤ 1.3"). With ``update``
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
    return f"×{change:.2f}" if ratio else f"{change:+.4g}"


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
    runs = _labelled(_require_complete(current_folder, "--update-speed"))
    env = safe_io.read_json(current_folder / "env.json", "env.json")
    runs = runs.loc[runs["status"] == "ok", SPEED_COLUMNS].assign(
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
    failed = frame[frame["status"] == "failed"]
    if not failed.empty:
        first = failed.iloc[0]
        raise InputError(
            f"{option}: {len(failed)} run(s) in {folder} failed (first: {first['dataset']} "
            f"{first['model']} seed {first['seed']}: {first['reason'][:120]}); a reference "
            "needs a complete run"
        )
    return frame


def _row(
    check: str,
    key: tuple,
    seed: float = NAN,
    before: float = NAN,
    after: float = NAN,
    allowed: str = "",
    verdict: str = "ok",
    change: float | None = None,
) -> list:
    """One line of the comparison table (``key`` is data set, label, backend).

    ``change`` defaults to ``after - before``.
    """
    dataset, label, backend = key
    change = after - before if change is None else change
    return [check, dataset, label, backend, seed, before, after, change, allowed, verdict]


def _accuracy_rows(ref: pd.DataFrame, now: pd.DataFrame, tol: Tolerances) -> list[list]:
    """Each primary metric per (data set, contender, seed) that ran ok in the reference;
    a failing row for each of those that did not run ok now."""
    ok_ref = ref[ref["status"] == "ok"]
    on = [*KEY, "split", "fold", "seed"]
    scores = [metric.column for metric in metrics.primaries()]
    merged = _side(ok_ref, on, scores, "_ref").merge(
        _side(now, on, ["status", "reason", *scores], "_now"), on=on, how="left"
    )
    ran = merged["status_now"] == "ok"
    rows = [
        _not_ok_row((row.dataset, row.label, row.backend), row.seed, row.status_now, row.reason_now)
        for row in merged[~ran].itertuples()
    ]
    for metric in metrics.primaries():
        column, higher_is_better = metric.column, metric.higher_is_better
        spread = ok_ref.groupby(KEY)[column].std().rename("spread")
        for row in merged[ran].join(spread, on=KEY).itertuples():
            before, after = getattr(row, f"{column}_ref"), getattr(row, f"{column}_now")
            if pd.isna(before) and pd.isna(after):
                continue
            allowed = max(tol.accuracy_floor, tol.spread_factor * _zero_if_nan(row.spread))
            worse = (before - after) if higher_is_better else (after - before)
            verdict = "FAIL" if pd.isna(after) or worse > allowed else "ok"
            # The bound on the change (now - reference) that the row is judged by.
            bound = f"≥ {-allowed:+.4f}" if higher_is_better else f"≤ {allowed:+.4f}"
            key = (row.dataset, row.label, row.backend)
            rows.append(_row(column, key, row.seed, before, after, bound, verdict))
    return rows


def _side(frame: pd.DataFrame, on: list[str], columns: list[str], suffix: str) -> pd.DataFrame:
    """``frame``'s key columns and ``columns`` (NaN where absent), the latter suffixed."""
    picked = frame.reindex(columns=[*on, *columns])
    return picked.rename(columns={column: f"{column}{suffix}" for column in columns})


def _not_ok_row(key: tuple, seed: int, status: Any, reason: Any) -> list:
    now = "not run" if pd.isna(status) else str(status)
    why = "" if pd.isna(reason) or not str(reason) else f": {str(reason)[:100]}"
    return _row("ran ok", key, seed, allowed=f"ok in the reference; now {now}{why}", verdict="FAIL")


def _speed_rows(speed: SpeedReference, now: pd.DataFrame, tol: Tolerances) -> list[list]:
    """Median ``fit_norm`` per (data set, contender) of this run: compared, or "unchecked"
    and why. Every contender in ``now`` gets its row, whatever became of its runs."""
    timed_ref = None
    if speed.runs is not None:
        runs = _labelled(speed.runs)
        timed_ref = runs[(runs["status"] == "ok") & runs["fit_norm"].notna()]
    no_class = (
        f"{NO_CLASS} ({speed.machine}); the reference has {'; '.join(speed.known)}; "
        "add one with `mfbench check --update-speed` here"
    )
    rows = []
    for key, timed in now.groupby(KEY, sort=True, dropna=False):
        why = _untimed(timed)
        if why is not None:  # no "now" figure: a median of some of its runs would mislead
            rows.append(_unchecked(key, NAN, why))
            continue
        after = timed["fit_norm"].median()
        if timed_ref is None:
            rows.append(_unchecked(key, after, no_class))
            continue
        ref = timed_ref[(timed_ref[KEY] == pd.Series(key, index=KEY)).all(axis=1)]
        fit_s = ref["fit_s"].median()
        if ref.empty:
            rows.append(_unchecked(key, after, "no speed figure for it on this machine class"))
        elif _instances(ref) != _instances(timed):
            rows.append(_unchecked(key, after, _other_runs(_instances(timed), _instances(ref))))
        elif fit_s < tol.min_fit_s:
            why = f"reference fit {fit_s:.3f} s is under {tol.min_fit_s:g} s: too short to time"
            rows.append(_unchecked(key, after, why))
        else:
            before = ref["fit_norm"].median()
            limit = tol.speed_limit(str(timed["model"].iloc[0]))
            ratio = round(after / before, 2)  # as shown: the row is judged by what it shows
            verdict = "FAIL" if ratio > limit else "ok"
            rows.append(
                _row(SPEED_CHECK, key, NAN, before, after, f"× ≤ {limit:g}", verdict, ratio)
            )
    return rows


def _untimed(runs: pd.DataFrame) -> str | None:
    """Why the median ``fit_norm`` of one contender's ``runs`` cannot be compared, if it can't."""
    not_ok = runs[runs["status"] != "ok"]
    how = ", ".join(f"{n} {status}" for status, n in not_ok["status"].value_counts().items())
    if len(not_ok) == len(runs):
        return f"no run ok now ({how})"
    if len(not_ok):
        return f"{len(not_ok)} of {len(runs)} runs not ok now ({how}): no median of all"
    untimed = int(runs["fit_norm"].isna().sum())
    if untimed == len(runs):
        return "no fit_norm (the config does not calibrate)"
    if untimed:
        return f"{untimed} of {len(runs)} runs have no fit_norm: no median of all"
    return None


def _instances(runs: pd.DataFrame) -> set[tuple]:
    """The (split, fold, seed) of each run: which runs a median is taken over."""
    fold, seed = (pd.to_numeric(runs[c], errors="coerce").fillna(-1.0) for c in ("fold", "seed"))
    return set(zip(runs["split"].astype(str), fold.astype(float), seed.astype(float), strict=True))


def _other_runs(now: set[tuple], before: set[tuple]) -> str:
    """Why medians over runs ``now`` and runs ``before`` are not compared: which differ."""

    def named(runs: set[tuple]) -> str:
        names = [f"{split} f{fold:g} s{seed:g}" for split, fold, seed in sorted(runs)]
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    parts = [
        f"{when} only: {named(runs)}"
        for when, runs in (("now", now - before), ("reference", before - now))
        if runs
    ]
    return f"timed on other runs than the reference ({'; '.join(parts)})"


def _unchecked(key: tuple, value: float, why: str) -> list:
    return _row(SPEED_CHECK, key, after=value, allowed=why, verdict="unchecked")


def _membership_rows(ref: pd.DataFrame, now: pd.DataFrame) -> list[list]:
    """Contenders of the reference missing now ("gone"), and contenders with ok runs now that
    the reference has none of ("new": absent from it, or skipped or failed when it was made,
    e.g. without Java): nothing vouches for their numbers, so ``run_check`` fails on them
    unless new ones are allowed."""
    registered = set(models.names())
    model_of = dict(zip(ref["label"], ref["model"], strict=True))
    before = set(map(tuple, ref[KEY].drop_duplicates().to_numpy()))
    ok_before = set(map(tuple, ref.loc[ref["status"] == "ok", KEY].drop_duplicates().to_numpy()))
    after = set(map(tuple, now[KEY].drop_duplicates().to_numpy()))
    ok_after = set(map(tuple, now.loc[now["status"] == "ok", KEY].drop_duplicates().to_numpy()))
    rows = []
    for key in sorted(before - after):
        why = "no longer registered" if model_of[key[1]] not in registered else "not in this run"
        rows.append(_row(f"present ({why})", key, verdict="gone"))
    for key in sorted(ok_after - ok_before):
        if key in before:
            statuses = "/".join(sorted(set(_runs_of(ref, key)["status"])))
            why = f"{statuses} in the reference: never compared"
        else:
            why = "not in the reference"
        rows.append(_row(f"present ({why})", key, verdict="new"))
    return rows


def _runs_of(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    return frame[(frame[KEY] == pd.Series(key, index=KEY)).all(axis=1)]


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Results where every row has a ``label`` (older files only have ``model``)."""
    return frame.assign(label=results.labels(frame))


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _zero_if_nan(value: float) -> float:
    return 0.0 if value is None or math.isnan(value) else value
