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

import dataclasses
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
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.executors.base import Executor, SplitPlan
from suite.lock import FolderLock
from suite.progress import Progress
from suite.threads import resolve_threads
from suite.timed_run import Task

log = logging.getLogger("mfbench")

SPLIT_FOLDER = ".splits"
PLAN_FILE = "plan.json"
ENV_FILE = "env.json"

#: Files that mean a folder already holds results (``--out`` refuses it unless resuming).
RESULT_FILES = (
    results.RESULTS_FILE,
    "results.csv",
    "REPORT.md",
    ENV_FILE,
    "check.json",
    "CHECK.md",
)


class Datasets:
    """The grid's data sets, each loaded once and held until its last split is made.

    Planning needs each one's content digest (run ids come from it), and the splits need its
    ratings: one load serves both.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[str, str | None, bool], tuple[Ratings, float]] = {}

    @staticmethod
    def key(spec: DatasetSpec, seed: int = 0) -> tuple[str, str | None, bool, int]:
        """What one load is: the data set, and its seed where each seed draws its own."""
        return (spec.name, spec.format, spec.features, seed if spec.fresh_data else 0)

    def load(self, spec: DatasetSpec, seed: int = 0) -> tuple[Ratings, float]:
        """The ratings of ``spec`` (drawn with ``seed`` where ``spec.fresh_data``, else with
        seed 0) and the seconds they took to load."""
        key = self.key(spec, seed)
        if key not in self._held:
            start = time.perf_counter()
            ratings = data.load(spec.name, seed=key[3], format=spec.format, features=spec.features)
            self._held[key] = (ratings, time.perf_counter() - start)
        return self._held[key]

    def digest(self, spec: DatasetSpec, seed: int = 0) -> str:
        return self.load(spec, seed)[0].digest()

    def release(self, spec: DatasetSpec, seed: int = 0) -> None:
        self._held.pop(self.key(spec, seed), None)


def plan(grid: Grid, out: Path, datasets: Datasets | None = None) -> list[SplitPlan]:
    """The grid expanded into tasks, grouped by the split they share.

    Each data set is loaded (through ``datasets``) for its content digest, which enters the
    run ids. A grid that would run the same run twice (a backend, seed or setting listed
    twice) is refused, naming it.
    """
    datasets = datasets or Datasets()
    n_threads = resolve_threads(grid.n_threads)
    plans, seen = [], {}
    for dataset in grid.datasets:
        for fold, seed in dataset.split_instances():
            digest = datasets.digest(dataset, seed)  # one per seed where each draws its data
            settings = [  # tuned on this split's own training half, where it was
                (spec, label, params, backend)
                for spec in grid.models
                if spec.datasets is None or dataset.name in spec.datasets
                for label, params in grid.variants(dataset, spec, fold, seed)
                for backend in spec.backends
            ]
            split_file = (
                out
                / SPLIT_FOLDER
                / f"{results.slug(dataset.label)}-{digest[:8]}-f{fold}-s{seed}.npz"
            )
            tasks = []
            for spec, label, params, backend in settings:
                model = spec.name
                targets = (
                    _first_set(spec.rating_target, dataset.rating_target),
                    _first_set(spec.ranking_target, dataset.ranking_target),
                )
                task = Task(
                    run_id=run_id(
                        digest, dataset, fold, seed, model, backend, params, grid, targets
                    ),
                    config=grid.name,
                    dataset=dataset.label,
                    split=dataset.split,
                    fold=fold,
                    seed=seed,
                    model=model,
                    label=label,
                    backend=backend,
                    n_threads=min(spec.n_threads or n_threads, n_threads),
                    params=params,
                    split_file=str(split_file),
                    data_digest=digest,
                    rating_target=targets[0],
                    ranking_target=targets[1],
                    relevance_threshold=dataset.relevance_threshold,
                    curve_users=grid.curve_users,
                    eval_users=grid.eval_users,
                    repeats=grid.repeats,
                    calibrate=grid.calibrate,
                    patience=grid.patience,
                    validation_fraction=grid.validation_fraction,
                    target_on=dataset.target_on,
                    remeasure=grid.remeasure,
                )
                where = f"{dataset.label} fold {fold} seed {seed}: {label} on {backend}"
                if task.run_id in seen:
                    raise InputError(
                        f"{grid.name}: {where} is the same run as {seen[task.run_id]} (the "
                        "same data, split, contender, backend and settings); list each once"
                    )
                seen[task.run_id] = where
                tasks.append(task)
            plans.append(SplitPlan(dataset, fold, seed, tasks))
    return plans


def run_id(
    data_digest: str,
    dataset: DatasetSpec,
    fold: int,
    seed: int,
    model: str,
    backend: str,
    params: dict[str, Any],
    grid: Grid,
    targets: tuple[float | None, float | None] | None = None,
) -> str:
    """Stable id of a run: a hash of what determines its result — the data's content, the
    split, fold and seed, the contender, backend and resolved settings, and how it is
    evaluated and stopped. Execution facts (threads, machine, executor, label) are recorded in
    the record, not hashed: a run is the same run on any core count."""
    split = {
        "split": dataset.split,
        "folds": dataset.folds if dataset.split == "kfold" else None,
        "test_fraction": (
            dataset.test_fraction if dataset.split in ("holdout", "cold-items") else None
        ),
        "leave_last": dataset.leave_last if dataset.split == "temporal" else None,
    }
    rating_target, ranking_target = targets or (dataset.rating_target, dataset.ranking_target)
    evaluation = {
        "relevance_threshold": dataset.relevance_threshold,
        "rating_target": rating_target,
        "ranking_target": ranking_target,
        "eval_users": grid.eval_users,
        "curve_users": grid.curve_users,
        "repeats": grid.repeats,
        "calibrate": grid.calibrate,
        "stopping": _stopping(grid),
    }
    if dataset.target_on != "test":  # (absent otherwise: earlier folders' ids stay theirs)
        evaluation["target_on"] = dataset.target_on
    defining = [data_digest, split, fold, seed, model, backend, params, evaluation]
    key = json.dumps(defining, sort_keys=True, default=str)
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def _first_set(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


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
    datasets = Datasets()
    plans = plan(grid, out, datasets)
    n_threads = resolve_threads(grid.n_threads)
    if resume:
        plans = _saved_plans(out, plans, n_threads)
    if not any(split_plan.tasks for split_plan in plans):
        raise InputError(f"{grid.name}: the grid holds no run (no data set × model pairs)")
    runs_on = (
        executor
        if not isinstance(executor, str)
        else executors.create(
            executor,
            threads_per_run=n_threads,
            scheduler=scheduler,
            in_process=in_process,
        )
    )
    with runs_on:
        _run_in_folder(grid, plans, out, resume, runs_on, datasets, n_threads)
    return out


def _run_in_folder(
    grid: Grid,
    plans: list[SplitPlan],
    out: Path,
    resume: bool,
    executor: Executor,
    datasets: Datasets,
    n_threads: int,
) -> None:
    safe_io.make_folder(out)
    with FolderLock(out):
        if not resume:
            held = [name for name in RESULT_FILES if (out / name).exists()]
            if held:
                raise InputError(
                    f"--out {out}: already holds results ({', '.join(held)}); pass --resume "
                    "to continue its grid, or choose another --out"
                )
        for name in (results.RESULTS_FILE, results.CURVES_FILE):
            results.drop_torn_tail(out / name)
        resumed = resume and (out / results.RESULTS_FILE).exists()
        done = results.finished_ids(out) if resume else set()
        if not resume:
            safe_io.write_text(out / results.GRID_FILE, grid.to_json())
            safe_io.write_json(out / PLAN_FILE, _plan_document(plans))
        with environment.recorded_session(
            out / ENV_FILE,
            resumed=resumed,
            threads_per_run=n_threads,
        ):
            _run_pending(grid.name, plans, out, done, executor, datasets)
        shutil.rmtree(out / SPLIT_FOLDER, ignore_errors=True)
        results.write_csv(out)


def _plan_document(plans: list[SplitPlan]) -> dict[str, Any]:
    """What ``plan.json`` holds: each data set's digest and every planned task (what a run
    is: its id, data, split, contender, resolved settings), so a resume runs these."""
    tasks = [
        {key: value for key, value in dataclasses.asdict(task).items() if key != "facts"}
        for split_plan in plans
        for task in split_plan.tasks
    ]
    digests = {task["dataset"]: task["data_digest"] for task in tasks}
    return {"version": PLAN_VERSION, "data_digests": digests, "tasks": tasks}


#: The layout of ``plan.json``.
PLAN_VERSION = 1


def _saved_plans(out: Path, now: list[SplitPlan], n_threads: int) -> list[SplitPlan]:
    """The folder's own planned tasks (``plan.json``), for ``--resume``.

    The data must be what the folder's runs were measured on (the same content digests),
    or the resume is refused: its runs would mix two data sets under one name. Settings
    that resolve differently now (a tuned-settings file changed since) do not change what
    the folder runs: it keeps its own, and says so. Threads are the machine's now, or a
    contender's own count where it ran on fewer (``ModelSpec.n_threads``).
    """
    source = out / PLAN_FILE
    if not source.is_file():
        raise InputError(
            f"--out {out}: holds no {PLAN_FILE} (written by an mfbench before run identities "
            "were saved); its runs cannot be matched to this grid's: start a new --out"
        )
    saved = safe_io.read_json(source, PLAN_FILE)
    try:
        digests: dict[str, str] = saved["data_digests"]
        tasks = [
            Task(**{**fields, "n_threads": min(fields.get("n_threads") or n_threads, n_threads)})
            for fields in saved["tasks"]
        ]
    except (KeyError, TypeError) as exc:
        raise InputError(f"{source}: not a saved plan ({type(exc).__name__}: {exc})") from exc
    current = {t.dataset: t.data_digest for split_plan in now for t in split_plan.tasks}
    for label, digest in digests.items():
        if label in current and current[label] != digest:
            raise InputError(
                f"--resume: the data set {label} changed since {out} began (content digest "
                f"{digest[:12]} then, {current[label][:12]} now); its runs would mix two data "
                "sets: restore the data, or start a new --out"
            )
    ids_now = [t.run_id for split_plan in now for t in split_plan.tasks]
    if ids_now != [t.run_id for t in tasks]:
        changed = next(
            (
                f"{old.label} on {old.dataset}: {_first_change(old.params, new.params)}"
                for old, new in zip(tasks, (t for p in now for t in p.tasks), strict=False)
                if old.run_id != new.run_id
            ),
            "the grid's runs",
        )
        log.info(
            "%s: the settings resolve differently now than when it began (%s, e.g. a tuned "
            "settings file changed); the resume runs the folder's own (%s)",
            out,
            changed,
            PLAN_FILE,
        )
    grouped: dict[tuple[str, int, int], list[Task]] = {}
    for task in tasks:
        grouped.setdefault((task.dataset, task.fold, task.seed), []).append(task)
    return [
        dataclasses.replace(
            split_plan,
            tasks=grouped.get((split_plan.dataset.label, split_plan.fold, split_plan.seed), []),
        )
        for split_plan in now
    ]


def _first_change(saved: dict[str, Any], now: dict[str, Any]) -> str:
    for key in sorted({*saved, *now}):
        if saved.get(key) != now.get(key):
            return f"{key} {saved.get(key)!r} then, {now.get(key)!r} now"
    return "the same settings"


def _run_pending(
    name: str,
    plans: list[SplitPlan],
    out: Path,
    done: set[str],
    executor: Executor,
    datasets: Datasets,
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
            closing(
                executor.run(_splits_to_run(plans, done, out, datasets), done, progress)
            ) as outcomes,
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
    saved = out / results.GRID_FILE
    if not out.is_dir():
        raise InputError(f"--out {out}: no such run folder to resume")
    if not saved.is_file():
        raise InputError(
            f"--out {out}: holds no {results.GRID_FILE} (not a run folder); nothing to resume"
        )
    try:
        grid = Grid.from_json(saved.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{saved}: not a saved grid ({type(exc).__name__}: {exc})") from exc
    validate(grid, str(saved))  # e.g. written by an mfbench whose parameter names differ
    return grid


def _splits_to_run(
    plans: list[SplitPlan], done: set[str], out: Path, datasets: Datasets
) -> Iterator[tuple[SplitPlan, dict[str, Any]]]:
    """Each split that still has pending runs, saved for the workers, with its facts.

    A data set is let go once its last split is made (one held at a time from then on).
    """
    safe_io.make_folder(out / SPLIT_FOLDER)
    last_use = {
        Datasets.key(split_plan.dataset, split_plan.seed): i for i, split_plan in enumerate(plans)
    }
    for index, split_plan in enumerate(plans):
        spec, seed = split_plan.dataset, split_plan.seed
        if all(task.run_id in done for task in split_plan.tasks) or not split_plan.tasks:
            if last_use[Datasets.key(spec, seed)] == index:
                datasets.release(spec, seed)
            continue
        ratings, load_s = datasets.load(spec, seed)
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
        facts = {
            "n_users": ratings.n_users,
            "n_items": ratings.n_items,
            "n_train": len(train),
            "n_test": len(test),
            "load_s": load_s,
            "split_s": split_s,
            "n_test_cold_dropped": test.metadata["split"]["n_test_cold_dropped"],
            "rating_noise_floor": ratings.metadata.get("noise_floor_rmse", float("nan")),
        }
        if last_use[Datasets.key(spec, seed)] == index:
            datasets.release(spec, seed)
        yield split_plan, facts
