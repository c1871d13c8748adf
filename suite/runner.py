"""The grid runner: every (data set, split, fold, seed) × model × backend, one record each.

Each data set is loaded once and each split made once; every model of that split gets the
very same train/test arrays. Each run executes in a fresh worker process (forked from a
server that has already imported the libraries), so no state or memory is shared between
runs. Its record is appended to ``results.jsonl`` and flushed as soon as it finishes, so
Ctrl-C or a crash loses no finished run, and ``--resume`` skips every run already recorded
as ok or skipped (failed runs are tried again).

An executor decides where the runs' worker processes live: ``LocalExecutor`` (the default)
runs them one after the other on this machine; ``suite.dask_executor.DaskExecutor`` runs
them as tasks on a Dask cluster. Both run each task with ``run_task`` and hand the records
back to ``_run_pending``, the one writer of the run folder, so run ids, records and
``--resume`` are the same whichever executor ran them.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from suite import data, environment, execute, metrics, models, results, safe_io
from suite.config import DatasetSpec, Grid, validate
from suite.data import feedback, splits, storage
from suite.errors import InputError
from suite.execute import Task
from suite.lock import FolderLock
from suite.threads import default_threads

log = logging.getLogger("mfbench")

SPLIT_FOLDER = ".splits"
GRID_FILE = "grid.json"
ENV_FILE = "env.json"


@dataclass
class SplitPlan:
    """One (data set, fold, seed) and the tasks that share its split."""

    dataset: DatasetSpec
    fold: int
    seed: int
    tasks: list[Task]


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
                    rmse_target=dataset.rmse_target,
                    relevance_threshold=dataset.relevance_threshold,
                    curve_users=grid.curve_users,
                    eval_users=grid.eval_users,
                    repeats=grid.repeats,
                    calibrate=grid.calibrate,
                    patience=grid.early_stopping,
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
    if grid.early_stopping is None:
        return None
    return {"patience": grid.early_stopping, "validation": grid.validation_fraction}


#: The ``--executor`` choices; the first is the default.
EXECUTORS = ("local", "dask")


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

    ``executor`` is ``"local"`` (one run after the other on this machine), ``"dask"`` (a
    Dask cluster: a new ``LocalCluster``, or the one whose scheduler is at ``scheduler``,
    ``tcp://HOST:PORT``), or an ``Executor`` made by the caller; it is started before the
    folder is touched and closed when the grid ends, however it ends.

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
        else make_executor(
            executor,
            scheduler=scheduler,
            in_process=in_process,
            threads_per_run=grid.n_threads or default_threads(),
        )
    )
    with runs_on:
        _run_in_folder(grid, plans, out, resume, runs_on)
    return out


def make_executor(
    name: str, *, scheduler: str | None, in_process: bool, threads_per_run: int
) -> Executor:
    """The executor called ``name`` (``EXECUTORS``), not yet started; bad options refused."""
    if name not in EXECUTORS:
        raise InputError(f"--executor {name!r}: expected one of {', '.join(EXECUTORS)}")
    if name == "local":
        if scheduler is not None:
            raise InputError(
                f"--scheduler {scheduler}: only goes with --executor dask "
                "(the local executor runs on this machine)"
            )
        return LocalExecutor(in_process=in_process)
    if in_process:
        raise InputError(
            "--in-process: runs in this process, so it does not go with --executor dask"
        )
    from suite import dask_executor

    return dask_executor.DaskExecutor(scheduler=scheduler, threads_per_run=threads_per_run)


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
            k=spec.folds,
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
                "noise_floor_rmse": ratings.metadata.get("noise_floor_rmse", float("nan")),
            },
        )


#: A run's outcome: its record and its curve rows.
Outcome = tuple[dict[str, Any], list[dict[str, Any]]]


class Executor(Protocol):
    """Where the runs of a grid happen; ``run_grid`` enters it, runs the grid, leaves it.

    ``run`` takes the splits with pending runs (each saved to its ``split_file`` and with
    its facts, from ``_splits_to_run``), runs every task of them not in ``done`` with
    ``run_task`` (after setting ``task.facts``), and yields each outcome as it comes; the
    caller writes it. A split file is the executor's to delete once its runs are done.
    """

    name: str

    def __enter__(self) -> Executor: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def run(
        self,
        splits: Iterable[tuple[SplitPlan, dict[str, Any]]],
        done: set[str],
        progress: Progress,
    ) -> Iterator[Outcome]: ...


class LocalExecutor:
    """Runs one after the other on this machine, each in a fresh worker process.

    Parameters
    ----------
    in_process : bool
        Run every task in this process instead (debugging; memory figures then mix).
    """

    name = "local"

    def __init__(self, *, in_process: bool = False) -> None:
        self.in_process = in_process

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def run(
        self,
        splits: Iterable[tuple[SplitPlan, dict[str, Any]]],
        done: set[str],
        progress: Progress,
    ) -> Iterator[Outcome]:
        """Each pending task of each split in turn; see ``Executor``."""
        for split_plan, ratings_facts in splits:
            for task in pending_tasks(split_plan, done):
                task.facts = ratings_facts
                progress.starting(task)
                yield run_task(task, progress.epoch, in_process=self.in_process)
            Path(split_plan.tasks[0].split_file).unlink(missing_ok=True)


def pending_tasks(split_plan: SplitPlan, done: set[str]) -> list[Task]:
    """The tasks of ``split_plan`` whose run is not in ``done``."""
    return [task for task in split_plan.tasks if task.run_id not in done]


def run_task(
    task: Task, on_epoch: execute.Progress | None = None, *, in_process: bool = False
) -> Outcome:
    """Run ``task`` in a fresh worker process with its threads pinned; its outcome.

    Every executor runs its tasks through here (the Dask one on its workers). In-process on
    request; an unavailable model or backend is recorded as skipped at once, without a
    worker. ``on_epoch(epoch, total)`` is called after each epoch of the fit.
    """
    if in_process or not models.get(task.model).available(task.backend)[0]:
        return execute.execute(task, on_epoch)
    return _execute_in_worker(task, on_epoch)


def _execute_in_worker(task: Task, on_epoch: execute.Progress | None = None) -> Outcome:
    """Run ``task`` in a fresh process; a worker that dies becomes a failed record."""
    context = _worker_context()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker_main, args=(sender, task), daemon=True)
    worker.start()
    sender.close()
    _RUNNING[threading.get_ident()] = worker
    outcome, stopped = None, True
    try:
        while outcome is None:
            if receiver.poll(0.2):
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                if message[0] == "epoch":
                    if on_epoch is not None:
                        on_epoch(*message[1:])
                else:
                    outcome = message[1], message[2]
            elif not worker.is_alive() and not receiver.poll():
                break
        stopped = False
    finally:
        # A worker that finished (or died) is waited for; one still busy when we are stopped
        # (Ctrl-C) is ended at once: waiting for a long fit would hold Ctrl-C for minutes.
        if not stopped:
            worker.join(timeout=30)
        _stop(worker)
        _RUNNING.pop(threading.get_ident(), None)
    if outcome is None:  # killed (out of memory?) or crashed before it could report
        failed = {
            **execute.base_record(task),
            "status": "failed",
            "reason": f"worker process died (exit code {worker.exitcode})",
        }
        return failed, []
    return outcome


#: The fresh worker process of each thread that is running one now (see ``stop_runs``).
_RUNNING: dict[int, Any] = {}


def stop_runs(threads: Iterable[int]) -> int:
    """Kill the fresh worker processes that ``threads`` are running; how many there were.

    For an executor that stops its runs from another thread (the Dask one, on Ctrl-C): each
    run's own thread then records it as failed (a record nobody waits for any more).
    """
    stopped = 0
    for thread in threads:
        worker = _RUNNING.get(thread)
        if worker is not None:
            worker.kill()
            stopped += 1
    return stopped


def _stop(worker: Any, grace_s: float = 1.0) -> None:
    """End ``worker`` if it is still running: SIGTERM, then SIGKILL after ``grace_s``."""
    if worker.is_alive():
        worker.terminate()
        worker.join(grace_s)
    if worker.is_alive():
        worker.kill()
        worker.join()


def _worker_main(sender: Any, task: Task) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    record, curves = execute.execute(
        task, lambda epoch, total: sender.send(("epoch", epoch, total))
    )
    sender.send(("done", record, curves))
    sender.close()


def _die_with_parent() -> None:
    """End this worker when the forkserver that started it ends (Linux).

    The forkserver exits as soon as ``mfbench`` does, however it ends (SIGKILL included); an
    orphaned worker would otherwise finish its fit for nobody, and load the machine while a
    resumed grid times its own runs.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker ends when its fit does
        return
    if os.getppid() == 1:  # the parent was already gone before the request took effect
        os._exit(1)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_CONTEXT: Any = None


def _worker_context() -> Any:
    """A forkserver that has imported torch and every contender once, for fast clean workers."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["suite.execute", "suite.runner"])
    return _CONTEXT


class Progress:
    """A progress bar over runs (and epochs) on a terminal; one plain line per run otherwise."""

    def __init__(self, total: int, initial: int = 0) -> None:
        self.total, self.count = total, initial
        self.interactive = sys.stderr.isatty() and not os.environ.get("CI")
        self.bar = self.epochs = None

    def __enter__(self) -> Progress:
        if self.interactive:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.count, unit="run", position=0)
            self.epochs = tqdm(total=0, unit="epoch", position=1, leave=False)
        return self

    def __exit__(self, *_exc: object) -> None:
        for bar in (self.epochs, self.bar):
            if bar is not None:
                bar.close()

    def starting(self, task: Task) -> None:
        if self.bar is not None:
            self.bar.set_description(f"{task.dataset} f{task.fold} s{task.seed} {task.model}")
            self.epochs.reset(total=None)

    def epoch(self, epoch: int, total: int) -> None:
        if self.epochs is not None:
            self.epochs.total = total
            self.epochs.n = epoch
            self.epochs.refresh()

    def finished(self, record: dict[str, Any]) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        summary = _summary(record)
        print(
            f"[{self.count}/{self.total}] {record['dataset']} {record['split']} "
            f"f{record['fold']} s{record['seed']} {record['model']} {record['backend']}: "
            f"{summary}",
            file=sys.stderr,
            flush=True,
        )


def _summary(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        return f"{record['status']} ({record['reason']})"
    parts = [f"fit {record['fit_s']:.2f}s"]
    for metric in metrics.primaries():
        value = record.get(metric.column)
        if value is not None and value == value:  # not NaN
            parts.append(f"{metric.title.lower()} {value:.4f}")
    return "ok, " + ", ".join(parts)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).name)
