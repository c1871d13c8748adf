"""The grid runner: a grid planned into runs, run into one folder, one record each.

``plan`` expands every (data set, split, fold, seed) × model × backend into a ``Task`` whose
run id comes from what defines it; ``run_grid`` loads each data set once, makes each split
once (every model of that split gets the very same train/test arrays), and hands the splits
to an executor (``suite.executors``: this machine, or a Dask cluster), which runs each task in
a fresh worker process. ``_run_pending`` is the one writer of the folder: each record is
appended to ``results.jsonl`` and flushed as soon as it comes back, so Ctrl-C or a crash
loses no finished run, and ``--resume`` skips every run already recorded as ok or skipped
(failed runs are tried again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from suite import data, environment, executors, results, safe_io
from suite.config import DatasetSpec, Grid, validate
from suite.data import feedback, splits, storage
from suite.errors import InputError
from suite.execute import Task
from suite.executors.base import Executor, SplitPlan
from suite.lock import FolderLock
from suite.progress import Progress
from suite.threads import default_threads

log = logging.getLogger("mfbench")

SPLIT_FOLDER = ".splits"
GRID_FILE = "grid.json"
ENV_FILE = "env.json"


def plan(grid: Grid, out: Path) -> list[SplitPlan]:
    """The grid expanded into tasks, grouped by the split they share."""
    n_threads = grid.n_threads or default_threads()
    plans = []
    for dataset in grid.datasets:
        for fold, seed in dataset.split_instances():
            split_file = out / SPLIT_FOLDER / f"{_slug(dataset.label)}-f{fold}-s{seed}.npz"
            tasks = [
                Task(
                    run_id=run_id(
                        dataset, fold, seed, label, backend, params, n_threads, _stopping(grid)
                    ),
                    config=grid.name,
                    dataset=dataset.label,
                    split=dataset.split,
                    fold=fold,
                    seed=seed,
                    model=spec.name,
                    label=label,
                    backend=backend,
                    n_threads=n_threads,
                    params=params,
                    split_file=str(split_file),
                    rating_target=dataset.rating_target,
                    relevance_threshold=dataset.relevance_threshold,
                    curve_users=grid.curve_users,
                    eval_users=grid.eval_users,
                    repeats=grid.repeats,
                    calibrate=grid.calibrate,
                    patience=grid.patience,
                    validation_fraction=grid.validation_fraction,
                )
                for spec in grid.models
                if spec.datasets is None or dataset.name in spec.datasets
                for label, params in grid.variants(dataset, spec)
                for backend in spec.backends
            ]
            plans.append(SplitPlan(dataset, fold, seed, tasks))
    return plans


def run_id(
    dataset: DatasetSpec,
    fold: int,
    seed: int,
    label: str,
    backend: str,
    params: dict[str, Any],
    n_threads: int,
    stopping: dict[str, Any] | None = None,
) -> str:
    """Stable id of a run: a hash of everything that defines it (``stopping``: the early
    stopping settings, if any; ids of runs without it are unchanged)."""
    split = {
        "split": dataset.split,
        "folds": dataset.folds if dataset.split == "kfold" else None,
        "test_fraction": (
            dataset.test_fraction if dataset.split in ("holdout", "cold-items") else None
        ),
        "leave_last": dataset.leave_last if dataset.split == "temporal" else None,
        **({"features": True} if dataset.features else {}),  # ids without it stay as they were
    }
    defining = [dataset.name, split, fold, seed, label, params, backend, n_threads]
    key = json.dumps(
        [*defining, stopping] if stopping else defining,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def _stopping(grid: Grid) -> dict[str, Any] | None:
    if grid.patience is None:
        return None
    return {"patience": grid.patience, "validation": grid.validation_fraction}


def run_grid(
    grid: Grid,
    out: Path,
    *,
    resume: bool = False,
    in_process: bool = False,
    executor: str | Executor = "local",
    scheduler: str | None = None,
) -> Path:
    """Run ``grid`` into the folder ``out``; return it. See the module docstring.

    ``out`` is locked for the duration (``suite.lock``): a second writer is refused. With
    ``resume``, runs already recorded ok or skipped are left out and a torn final line (a
    write cut short) is removed first. A write that fails (disk full, read-only) stops the
    grid with ``InputError``; the runs recorded before it stay readable.

    ``executor`` is a name in ``suite.executors`` (``"local"``: one run after the other on
    this machine; ``"dask"``: a Dask cluster, a new ``LocalCluster`` or the one whose
    scheduler is at ``scheduler``, ``tcp://HOST:PORT``), or an executor made by the caller;
    it is started before the folder is touched and closed when the grid ends, however it ends.

    ``env.json`` holds the machine facts of the first session and, for this one and every
    resumed one, the load and CPU steal before and after it (``suite.environment``): a
    resumed run appends its own session, so the conditions of the earlier runs stay recorded.
    """
    plans = plan(grid, out)
    if not any(split_plan.tasks for split_plan in plans):
        raise InputError(f"{grid.name}: the grid holds no run (no data set × model pairs)")
    runs_on = (
        executor
        if not isinstance(executor, str)
        else executors.create(
            executor,
            threads_per_run=grid.n_threads or default_threads(),
            scheduler=scheduler,
            in_process=in_process,
        )
    )
    with runs_on:
        _run_in_folder(grid, plans, out, resume, runs_on)
    return out


def _run_in_folder(
    grid: Grid, plans: list[SplitPlan], out: Path, resume: bool, executor: Executor
) -> None:
    safe_io.make_folder(out)
    with FolderLock(out):
        if not resume and (out / results.RESULTS_FILE).exists():
            raise InputError(f"--out {out}: already holds results; pass --resume or another --out")
        for name in (results.RESULTS_FILE, results.CURVES_FILE):
            results.drop_torn_tail(out / name)
        resumed = resume and (out / results.RESULTS_FILE).exists()
        done = results.finished_ids(out) if resume else set()
        safe_io.write_text(out / GRID_FILE, grid.to_json())
        with environment.recorded_session(
            out / ENV_FILE,
            resumed=resumed,
            threads_per_run=grid.n_threads or default_threads(),
        ):
            _run_pending(grid.name, plans, out, done, executor)
        shutil.rmtree(out / SPLIT_FOLDER, ignore_errors=True)
        results.write_csv(out)


def _run_pending(
    name: str, plans: list[SplitPlan], out: Path, done: set[str], executor: Executor
) -> None:
    """Every run of ``plans`` not in ``done``, each record appended as soon as it is made.

    This is the only writer of ``results.jsonl`` and ``curves.jsonl``, whatever the executor.
    """
    total = sum(len(p.tasks) for p in plans)
    pending = sum(task.run_id not in done for p in plans for task in p.tasks)
    log.info(
        "%s: %d runs (%d already recorded) -> %s [%s executor]",
        name,
        total,
        total - pending,
        out,
        executor.name,
    )
    try:
        with (
            Progress(total, initial=total - pending) as progress,
            closing(executor.run(_splits_to_run(plans, done, out), done, progress)) as outcomes,
        ):
            for record, curves in outcomes:
                record.setdefault("executor", executor.name)
                results.append(out / results.CURVES_FILE, curves)
                results.append(out / results.RESULTS_FILE, [record])
                progress.finished(record)
    except KeyboardInterrupt:
        log.warning(
            "interrupted: %d of %d runs are recorded in %s; continue with "
            "`mfbench run --resume --out %s`",
            len(results.finished_ids(out)),
            total,
            out,
            out,
        )
        raise
    except InputError as exc:  # e.g. the disk filled up: say what is safe and how to go on
        raise InputError(
            f"{exc} ({len(results.finished_ids(out))} of {total} runs are recorded; "
            f"continue with `mfbench run --resume --out {out}`)"
        ) from exc


def saved_grid(out: Path) -> Grid:
    """The grid saved in run folder ``out`` (what ``--resume`` continues), validated."""
    saved = out / GRID_FILE
    if not out.is_dir():
        raise InputError(f"--out {out}: no such run folder to resume")
    if not saved.is_file():
        raise InputError(f"--out {out}: holds no {GRID_FILE} (not a run folder); nothing to resume")
    try:
        grid = Grid.from_json(saved.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{saved}: not a saved grid ({type(exc).__name__}: {exc})") from exc
    validate(grid, str(saved))  # e.g. written by an mfbench whose parameter names differ
    return grid


def _splits_to_run(
    plans: list[SplitPlan], done: set[str], out: Path
) -> Iterator[tuple[SplitPlan, dict[str, Any]]]:
    """Each split that still has pending runs, saved for the workers, with its facts."""
    safe_io.make_folder(out / SPLIT_FOLDER)
    loaded: dict[tuple[str, bool], tuple[Any, float]] = {}
    for split_plan in plans:
        if all(task.run_id in done for task in split_plan.tasks) or not split_plan.tasks:
            continue
        spec = split_plan.dataset
        key = (spec.name, spec.features)
        if key not in loaded:
            loaded.clear()  # hold one data set at a time
            start = time.perf_counter()
            ratings = data.load(spec.name, seed=0, format=spec.format, features=spec.features)
            loaded[key] = (ratings, time.perf_counter() - start)
        ratings, load_s = loaded[key]
        start = time.perf_counter()
        train, test = splits.split(
            ratings,
            spec.split,
            fold=split_plan.fold,
            folds=spec.folds,
            seed=split_plan.seed,
            test_fraction=spec.test_fraction,
            leave_last=spec.leave_last,
        )
        split_s = time.perf_counter() - start
        train.metadata[feedback.POSITIVE_THRESHOLD] = spec.relevance_threshold  # one definition
        storage.save(Path(split_plan.tasks[0].split_file), {"train": train, "test": test})
        yield (
            split_plan,
            {
                "n_users": ratings.n_users,
                "n_items": ratings.n_items,
                "n_train": len(train),
                "n_test": len(test),
                "load_s": load_s,
                "split_s": split_s,
                "n_test_cold_dropped": test.metadata["split"]["n_test_cold_dropped"],
                "rating_noise_floor": ratings.metadata.get("noise_floor_rmse", float("nan")),
            },
        )


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).name)
