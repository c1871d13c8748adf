"""The results of a run folder: record schema, append-only JSON lines, pandas frames, CSV."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from suite import metrics, safe_io
from suite.errors import InputError
from suite.models.facts import Facts

log = logging.getLogger("mfbench")

#: The record every run must have, one row per run; units are in the names. The accuracy columns
#: between ``epochs`` and ``fit_s`` are those of ``suite.metrics.METRICS``.
REQUIRED_COLUMNS = [
    "run_id",
    "dataset",
    "split",
    "fold",
    "seed",
    "model",
    "backend",
    "n_threads",
    "params",
    "status",
    "reason",
    "n_users",
    "n_items",
    "n_train",
    "n_test",
    "epochs",
    *metrics.columns(),
    "fit_s",
    "predict_s",
    "epoch_s_median",
    "ratings_per_s",
    "peak_rss_mb",
    "peak_gpu_mb",
    "started_at",
]

#: What mfbench records beyond the required schema (timings apart from fit, targets, ...).
EXTRA_COLUMNS = [
    "label",
    "load_s",
    "split_s",
    "prepare_s",
    "warmup_s",
    "rank_eval_s",
    "time_to_rating_target_s",
    "time_to_ranking_target_s",
    "rating_target",
    "ranking_target",
    "rating_noise_floor",
    "relevance_threshold",
    "n_ranked_users",
    "n_test_cold_dropped",
    "ratings_processed",
    "config",
    "calibration_s",
    "fit_norm",
    "fit_s_min",
    "fit_s_max",
    "repeats",
    "fit_rss_growth_mb",
    "peak_jvm_mb",
    "patience",
    "n_validation",
    "best_epoch",
    "validation_score",
    "data_digest",
    "git_commit",
    "git_dirty",
    "model_facts",
    "library_version",
    "epoch_s_max",
    "epoch_swing",
    "disturbed",
    "load_1m_start",
    "load_1m_end",
    "remeasured",  # times a disturbed run was measured again (``Grid.remeasure``)
    "target_epochs",  # time to target read on validation (``target_on``): epochs it took
    "target_met_on_validation",
    "target_met_on_test",
    "end_to_end_s",  # prepare + warm-up + time to target
    "fits_s",  # each timed fit's seconds (JSON list)
    "protocol",  # the claims protocol's digest when the run was measured (``suite.protocol``)
]

COLUMNS = REQUIRED_COLUMNS + EXTRA_COLUMNS
TEXT_COLUMNS = {
    "label",
    "run_id",
    "dataset",
    "split",
    "model",
    "backend",
    "params",
    "status",
    "reason",
    "started_at",
    "config",
    "data_digest",
    "git_commit",
    "git_dirty",
    "model_facts",
    "library_version",
    "fits_s",
    "protocol",
}

#: One row per (run, epoch): the convergence curves, with each primary metric on the test set.
CURVE_COLUMNS = [
    "run_id",
    "epoch",
    "elapsed_s",
    "epoch_s",
    "train_loss",
    *(f"test_{metric.column}" for metric in metrics.primaries()),
    *(f"valid_{metric.column}" for metric in metrics.primaries()),  # time to target's reading
    "fresh_fit",  # True: a point of its own fit of that many epochs (a one-call library)
]

RESULTS_FILE, CURVES_FILE = "results.jsonl", "curves.jsonl"
#: A run folder's saved grid (``mfbench run`` writes it; resuming and reports read it).
GRID_FILE = "grid.json"
#: What became of a run: it ran (``OK``), could not run here (``SKIPPED``, with its reason), or
#: raised (``FAILED``).
STATUSES = OK, SKIPPED, FAILED = ("ok", "skipped", "failed")

#: Columns of folders written by older versions, and their names now.
RENAMED_COLUMNS = {
    "suite": "config",
    "rmse_target": "rating_target",
    "noise_floor_rmse": "rating_noise_floor",
    "time_to_target_s": "time_to_rating_target_s",
}


def append(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` as JSON lines, on disk (fsync) before returning.

    The file stays valid JSON lines at every instant but the last: a write cut short (a
    crash, a full disk) leaves a torn final line, which readers skip and which the next
    append first removes (``drop_torn_tail``), so that no record is ever glued onto a
    fragment. A failed write raises ``InputError`` naming the file.
    """
    text = "".join(
        json.dumps(
            {key: None if _is_nan(value) else value for key, value in row.items()},
            default=_plain,
            allow_nan=False,
        )
        + "\n"
        for row in rows
    )
    drop_torn_tail(path)
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise safe_io.unwritable(path, exc) from exc


def drop_torn_tail(path: Path) -> int:
    """Remove a torn final line from the JSON-lines file ``path``; the bytes removed.

    A final line without its newline is a write that was cut short. If it still parses as a
    record (only the newline was lost) it is completed instead, and nothing is removed.
    """
    torn = _torn_tail(path)
    if not torn:
        return 0
    try:
        json.loads(torn)
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    else:
        with path.open("ab") as out:
            out.write(b"\n")
        return 0
    with path.open("rb+") as out:
        out.truncate(out.seek(0, os.SEEK_END) - len(torn))
    log.warning(
        "%s: removed a torn final line (%d bytes, a write cut short); its run is run again",
        path,
        len(torn),
    )
    return len(torn)


def _torn_tail(path: Path, chunk: int = 1 << 16) -> bytes:
    """The bytes after the last newline of ``path`` (empty if it ends with one, or is absent)."""
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            position, tail = end, b""
            while position > 0:
                step = min(chunk, position)
                position -= step
                handle.seek(position)
                tail = handle.read(step) + tail
                newline = tail.rfind(b"\n")
                if newline >= 0:
                    return tail[newline + 1 :]
            return tail
    except FileNotFoundError:
        return b""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file.

    A torn final line (a crash mid-write) is skipped with a warning; any other line that is
    not a JSON object raises ``InputError`` naming the file and line.
    """
    if not path.exists():
        return []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    lines = data.split(b"\n")
    torn = lines.pop()  # after the last newline: b"" unless the last write was cut short
    rows = [_record(line, path, number) for number, line in enumerate(lines, 1) if line.strip()]
    if torn.strip():
        try:
            rows.append(_record(torn, path, len(lines) + 1))
        except InputError:
            log.warning(
                "%s:%d: skipped a torn final line (a write cut short); "
                "`mfbench run --resume` runs it again",
                path,
                len(lines) + 1,
            )
    return rows


def _record(line: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}:{number}: not a JSON record (not UTF-8 text)") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{number}: not a JSON record ({exc.msg})") from exc
    if not isinstance(row, dict) or "run_id" not in row:
        raise InputError(f"{path}:{number}: not a run record (a JSON object with a run_id)")
    return row


def finished_ids(folder: Path) -> set[str]:
    """Run ids already recorded as ok or skipped (what ``--resume`` leaves out)."""
    rows = read_jsonl(folder / RESULTS_FILE)
    return {row["run_id"] for row in rows if row.get("status") in (OK, SKIPPED)}


def load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(results, curves)`` frames of a run folder (JSON lines, else the CSV files)."""
    folder = Path(folder)
    records = read_jsonl(folder / RESULTS_FILE)
    if records:  # a record has only the fields its run got to (a failed run has no timings)
        results = pd.DataFrame(records).reindex(
            columns=list(dict.fromkeys([*COLUMNS, *records[0]]))
        )
        curves = pd.DataFrame(read_jsonl(folder / CURVES_FILE), columns=CURVE_COLUMNS)
    elif (folder / "results.csv").exists():
        results = read_csv(folder / "results.csv")
        curves_csv = folder / "curves.csv"
        curves = (
            read_csv(curves_csv) if curves_csv.exists() else pd.DataFrame(columns=CURVE_COLUMNS)
        )
    else:
        raise InputError(f"{folder}: no results.jsonl or results.csv (not a run folder?)")
    old_names = {old: new for old, new in RENAMED_COLUMNS.items() if new not in results}
    results = results.rename(columns=old_names)  # written before the columns' renames
    for column in metrics.columns():  # a metric added after these results were made
        if column not in results:
            results[column] = float("nan")
    missing = [column for column in REQUIRED_COLUMNS if column not in results]
    if missing:
        raise InputError(f"{folder}: results lack the columns {', '.join(missing)}")
    for column in set(COLUMNS) - TEXT_COLUMNS:  # a column of nulls must still be numeric
        if column in results:
            results[column] = pd.to_numeric(results[column], errors="coerce")
    results["label"] = labels(results)
    results["reason"] = ["" if pd.isna(reason) else str(reason) for reason in results["reason"]]
    results["params"] = results["params"].map(
        lambda p: json.dumps(p, sort_keys=True) if isinstance(p, dict) else p
    )
    # A run that was redone (failed, then resumed) keeps its latest record only.
    results = results.drop_duplicates("run_id", keep="last").reset_index(drop=True)
    curves = curves[curves["run_id"].isin(results["run_id"])]
    curves = curves.drop_duplicates(["run_id", "epoch"], keep="last")  # a redone run's rows
    return _ordered(results, COLUMNS), _ordered(curves, CURVE_COLUMNS)


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file of mfbench's as a frame; ``InputError`` naming it if it cannot be one."""
    try:
        return pd.read_csv(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not CSV text (not UTF-8)") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: empty (no header line)") from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a well-formed CSV file ({str(exc).strip()[:120]})") from exc


def params_of(params: Any) -> dict[str, Any]:
    """A run's hyperparameters (``params``: a dict or its JSON, as records hold them); empty
    where the record has none or they are not a JSON object. The one decoder of ``params``."""
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return {}
    return dict(params) if isinstance(params, dict) else {}


def param(params: Any, name: str) -> Any:
    """Hyperparameter ``name`` of a run's ``params`` (a dict or its JSON), or None."""
    return params_of(params).get(name)


def slug(dataset: str) -> str:
    """A data set's label as a file name part: ``ml-100k``, ``ml-100k__features``; a file's
    label (a path) keeps its base name plus a hash of the whole path, so two ``u.data`` in
    two folders get two names (``u_data-1a2b3c4d``)."""
    base = Path(dataset).name
    shown = "".join(c if c.isalnum() or c in "-_" else "_" for c in base)
    if base == dataset:
        return shown
    return f"{shown}-{hashlib.sha1(dataset.encode()).hexdigest()[:8]}"


def data_digests(results: pd.DataFrame) -> pd.Series:
    """Each run's data content digest, "" where its record has none (an older one)."""
    column = results.get("data_digest", pd.Series(None, index=results.index, dtype=object))
    return column.map(lambda digest: digest if isinstance(digest, str) else "")


def refuse_mixed_data(results: pd.DataFrame, where: str) -> None:
    """``InputError`` where runs of one data set name were measured on different data: two
    content digests for one seed, or seeds that share data with some seeds and not others.
    One digest per seed, each seed's its own, is a grid that draws its data anew for each seed
    (``fresh_data``): runs pair within a seed only. Records without a digest (older ones) are
    not checked."""
    known = results.assign(data_digest=data_digests(results))
    known = known[known["data_digest"] != ""]
    for dataset, runs in known.groupby("dataset"):
        per_seed = runs.groupby("seed")["data_digest"].unique()
        found = list(dict.fromkeys(runs["data_digest"]))
        fresh = all(len(d) == 1 for d in per_seed) and len(found) == len(per_seed)
        if len(found) > 1 and not fresh:
            shown = ", ".join(str(digest)[:12] for digest in found)
            raise InputError(
                f"{where}: the runs of {dataset} were measured on {len(found)} different data "
                f"sets (content digests {shown}); they cannot be compared or pooled"
            )


def recorded_facts(results: pd.DataFrame) -> dict[str, Facts]:
    """Each contender's class facts as its latest record stored them (``model_facts``), for
    ``suite.models.facts.recorded``; contenders recorded without them are left out."""
    if "model_facts" not in results:
        return {}
    found = {}
    for model, text in zip(results["model"], results["model_facts"], strict=True):
        facts = Facts.from_json(text)
        if facts is not None:
            found[model] = facts
    return found


def ok_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs of ``frame`` that ran (status ``OK``)."""
    return frame[frame["status"] == OK]


def labels(frame: pd.DataFrame) -> pd.Series:
    """Each row's label; the model name where there is none (one setting per model)."""
    if "label" not in frame:
        return frame["model"]
    return frame["label"].astype("object").where(frame["label"].notna(), frame["model"])


def write_csv(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Derive ``results.csv`` and ``curves.csv`` from the JSON lines; return the frames."""
    results, curves = load(folder)
    safe_io.write_csv(results, folder / "results.csv")
    safe_io.write_csv(curves, folder / "curves.csv")
    return results, curves


def _ordered(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    extra = [column for column in frame.columns if column not in columns]
    return frame.reindex(columns=[*columns, *extra])


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _plain(value: Any) -> Any:
    """JSON for numpy scalars (NaN becomes null, as for Python floats)."""
    if hasattr(value, "item"):
        value = value.item()
        return None if _is_nan(value) else value
    return str(value)


def from_pytest_benchmark(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A pytest-benchmark JSON file as results rows (one per data set × model × backend).

    The ``fit`` benchmark gives ``fit_s`` (median over rounds, with ``fit_s_min``/``max`` and
    ``repeats``) and the accuracy columns, ``epoch`` gives ``epoch_s_median``, ``predict``
    gives ``predict_s`` and ``score`` gives ``score_s`` (top-10 for up to 1,000 users).
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise InputError(f"{path}: not a pytest-benchmark file (no 'benchmarks' list)")
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for bench in document["benchmarks"]:
        info, stats = bench.get("extra_info") or {}, bench.get("stats") or {}
        if not {"kind", "dataset", "model", "backend"} <= set(info) or "median" not in stats:
            continue  # not one of mfbench's benchmarks
        key = (info["dataset"], info["model"], info["backend"])
        row = rows.setdefault(
            key,
            {
                "run_id": hashlib.sha1(repr(key).encode()).hexdigest()[:12],
                "dataset": key[0],
                "model": key[1],
                "backend": key[2],
                "split": "holdout",
                "fold": 0,
                "seed": 0,
                "status": OK,
                "reason": "",
                "config": "pytest-benchmark",
                "started_at": document.get("datetime", ""),
                "n_threads": info.get("n_threads"),
                "params": "{}",
            },
        )
        if info["kind"] == "fit":
            row.update({k: info.get(k, float("nan")) for k in (*metrics.columns(), "epochs")})
            row.update(
                fit_s=stats["median"],
                fit_s_min=stats["min"],
                fit_s_max=stats["max"],
                repeats=stats.get("rounds"),
                params=json.dumps(info.get("params", {})),
                ratings_processed=info.get("ratings"),
                ratings_per_s=info.get("ratings", float("nan")) / stats["median"],
            )
        elif info["kind"] == "epoch":
            row["epoch_s_median"] = stats["median"]
        elif info["kind"] == "predict":
            row["predict_s"] = stats["median"]
        elif info["kind"] == "score":
            row["score_s"] = stats["median"]
    if not rows:
        raise InputError(f"{path}: holds no mfbench benchmark (extra_info kind/dataset/model)")
    frame = pd.DataFrame(list(rows.values())).reindex(columns=[*COLUMNS, "score_s"])
    machine = document.get("machine_info") or {}
    env = {
        "cpu": (machine.get("cpu") or {}).get("brand_raw", machine.get("processor", "?")),
        "cores": (machine.get("cpu") or {}).get("count"),
        "python": machine.get("python_version"),
        "versions": {"pytest-benchmark": document.get("version")},
        "git_commit": (document.get("commit_info") or {}).get("id"),
        "git_dirty": (document.get("commit_info") or {}).get("dirty"),
    }
    return frame, env
