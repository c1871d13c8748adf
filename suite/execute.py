"""One run of the grid: prepare, warm up, fit (timed, with a convergence curve), evaluate.

This is where a model is timed. The harness runs each ``Task`` in a fresh worker process
(``suite.runner``) and gets back one flat record plus its curve rows:

- ``prepare_s``: converting the training data to the model's input form and copying it to
  the device (``Model.prepare``); ``warmup_s``: one-off start-up (``Model.warm_up``: CUDA
  context, kernels, JIT). Neither counts as fit time.
- ``fit_s``: wall time of ``Model.fit`` minus the time spent evaluating inside ``on_epoch``
  for the curves. Every clock read goes through ``suite.measure.clock``, which waits for the
  GPU first.
- ``predict_s``: predicting every test rating; ``rank_eval_s``: scoring all items for
  every test user and computing the ranking metrics.
- ``ratings_per_s``: training examples the model visited divided by ``fit_s``.
- ``calibration_s`` and ``fit_norm``: a fixed workload (``suite.measure.calibrate``) timed
  before and after every fit, and fit time in units of it — the speed figure the regression
  gate compares, so that a slower or busier machine does not read as a slower model.
- ``peak_rss_mb``: the worker process's peak resident memory (it runs nothing else; the
  imported libraries are in ``rss_baseline_mb``); ``fit_rss_growth_mb``: how far resident
  memory rose above its level at the start of the (first) fit — the training's own memory;
  ``peak_gpu_mb``: PyTorch's peak allocation on the GPU.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite import metrics, models
from suite.data.ratings import Ratings
from suite.measure import (
    Stopwatch,
    calibrate,
    clock,
    current_rss_mb,
    peak_gpu_mb,
    peak_rss_mb,
    reset_gpu_peak,
    reset_peak_rss,
)
from suite.models.base import Model

#: ``progress(epoch, total_epochs)``, called after each epoch.
Progress = Callable[[int, int], None]


@dataclass
class Task:
    """Everything one run needs; it crosses a process boundary, so it is plain data."""

    run_id: str
    suite: str
    dataset: str
    split: str
    fold: int
    seed: int
    model: str
    label: str  # the model's name, or a variant's (``suite.config.ModelSpec``)
    backend: str
    n_threads: int
    params: dict[str, Any]
    split_file: str  # .npz holding the shared train/test arrays
    rmse_target: float | None = None
    relevance_threshold: float = metrics.DEFAULT_RELEVANCE_THRESHOLD
    curve_users: int = 2000
    repeats: int = 1  # timed fits (see ``_run``)
    calibrate: bool = False  # time a calibration workload around each fit (``fit_norm``)
    facts: dict[str, Any] = field(default_factory=dict)  # dataset-level numbers for the record


def execute(task: Task, progress: Progress | None = None) -> tuple[dict[str, Any], list[dict]]:
    """Run ``task``; return its record and curve rows. Failures become ``status=failed``."""
    record = base_record(task)
    ok, reason = models.get(task.model).available(task.backend)
    if not ok:
        return {**record, "status": "skipped", "reason": reason}, []
    curve_rows: list[dict[str, Any]] = []
    try:
        train, test = load_split(Path(task.split_file))
        record.update(_run(task, train, test, curve_rows, progress))
    except Exception as exc:  # the run is recorded as failed and the grid goes on
        lines = traceback.format_exception_only(exc)
        record.update(status="failed", reason=lines[-1].strip().splitlines()[0][:500])
    record["peak_rss_mb"] = max(peak_rss_mb(), record.get("peak_rss_mb", 0.0))
    return record, curve_rows


def _run(
    task: Task,
    train: Ratings,
    test: Ratings,
    curve_rows: list[dict[str, Any]],
    progress: Progress | None,
) -> dict[str, Any]:
    """Fit ``task.repeats`` fresh models, each between two calibration workloads if asked.

    The first fit is evaluated and gives the curve; the others are only timed. ``fit_s`` is
    the median fit time, ``fit_norm`` the median of each fit divided by the mean of the
    calibrations either side of it: a speed figure that a slower machine does not change.
    """
    backend = task.backend
    calibrations, fits = [_calibration(task)], []
    for repeat in range(task.repeats):
        model = models.create(
            task.model, backend=backend, n_threads=task.n_threads, seed=task.seed, **task.params
        )
        with Stopwatch(backend) as prepare:
            model.prepare(train)
        if repeat == 0:
            with Stopwatch(backend) as warm_up:
                model.warm_up()
            reset_gpu_peak(backend)
        curve = Curve(
            train, test, task, curve_rows if repeat == 0 else [], progress if repeat == 0 else None
        )
        if repeat == 0:
            before_fit, peak_so_far = current_rss_mb(), peak_rss_mb()
            reset_peak_rss()
        curve.start = clock(backend)
        model.fit(train, on_epoch=curve.on_epoch)
        fits.append(clock(backend) - curve.start - curve.eval_seconds)
        if repeat == 0:
            fit_peak = peak_rss_mb()
            record = _evaluate(model, train, test, task, curve_rows)
            record.update(
                peak_rss_mb=max(peak_so_far, fit_peak), fit_rss_growth_mb=fit_peak - before_fit
            )
            record.update(
                prepare_s=prepare.seconds,
                warmup_s=warm_up.seconds,
                peak_gpu_mb=peak_gpu_mb(backend),
            )
        del model
        calibrations.append(_calibration(task))
    normalised = [fit / ((calibrations[i] + calibrations[i + 1]) / 2) for i, fit in enumerate(fits)]
    fit_s = float(np.median(fits))
    record.update(
        fit_s=fit_s,
        fit_s_min=min(fits),
        fit_s_max=max(fits),
        repeats=task.repeats,
        calibration_s=float(np.median(calibrations)),
        fit_norm=float(np.median(normalised)),
        ratings_per_s=record["ratings_processed"] / fit_s if fit_s > 0 else float("nan"),
    )
    return record


def _calibration(task: Task) -> float:
    return calibrate(task.n_threads) if task.calibrate else float("nan")


def _evaluate(
    model: Model, train: Ratings, test: Ratings, task: Task, curve_rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Accuracy of a fitted model, its prediction and ranking times, facts from its curve."""
    backend = task.backend
    out: dict[str, Any] = {"rmse": float("nan"), "mae": float("nan"), "predict_s": float("nan")}
    if model.predicts_ratings:
        with Stopwatch(backend) as predict:
            predicted = model.predict(test.user, test.item)
        out.update(
            rmse=metrics.rmse(predicted, test.rating),
            mae=metrics.mae(predicted, test.rating),
            predict_s=predict.seconds,
        )
    with Stopwatch(backend) as rank_eval:
        ranking = metrics.ranking_metrics(
            model, train, test, relevance_threshold=task.relevance_threshold
        )
    epoch_times = [row["epoch_s"] for row in curve_rows]
    reached = [
        row["elapsed_s"]
        for row in curve_rows
        if task.rmse_target is not None and row["test_rmse"] <= task.rmse_target
    ]
    return {
        **out,
        **ranking,
        "status": "ok",
        "epochs": model.epochs_run_,
        "rank_eval_s": rank_eval.seconds,
        "epoch_s_median": float(np.median(epoch_times)) if epoch_times else float("nan"),
        "ratings_processed": model.n_ratings_processed_,
        "time_to_target_s": reached[0] if reached else float("nan"),
    }


class Curve:
    """``on_epoch`` callback: test RMSE and NDCG@10 after each epoch, its own time excluded.

    NDCG@10 is computed on a fixed sample of at most ``task.curve_users`` test users so that
    curves stay cheap on large data; the final record uses every test user.
    """

    def __init__(
        self,
        train: Ratings,
        test: Ratings,
        task: Task,
        rows: list[dict[str, Any]],
        progress: Progress | None,
    ) -> None:
        self.task, self.rows, self.progress = task, rows, progress
        self.total_epochs = int(task.params.get("epochs", task.params.get("iterations", 1)))
        self.train, self.test = train, test
        self.ranking_test = _user_sample(test, task.curve_users, seed=task.seed)
        self.start = 0.0
        self.eval_seconds = 0.0

    def on_epoch(self, epoch: int, model: Model) -> None:
        paused = clock(self.task.backend)
        elapsed = paused - self.start - self.eval_seconds
        previous = self.rows[-1]["elapsed_s"] if self.rows else 0.0
        losses = getattr(model, "loss_history_", None)
        rmse = (
            metrics.rmse(model.predict(self.test.user, self.test.item), self.test.rating)
            if model.predicts_ratings
            else float("nan")
        )
        ndcg = metrics.ranking_metrics(
            model,
            self.train,
            self.ranking_test,
            relevance_threshold=self.task.relevance_threshold,
        )["ndcg_at_10"]
        self.rows.append(
            {
                "run_id": self.task.run_id,
                "epoch": epoch,
                "elapsed_s": elapsed,
                "epoch_s": elapsed - previous,
                "train_loss": losses[-1] if losses else float("nan"),
                "test_rmse": rmse,
                "test_ndcg_at_10": ndcg,
            }
        )
        if self.progress is not None:
            self.progress(epoch, self.total_epochs)
        self.eval_seconds += clock(self.task.backend) - paused


def load_split(path: Path) -> tuple[Ratings, Ratings]:
    """The (train, test) pair the runner saved for a (dataset, split, fold, seed)."""
    with np.load(path, allow_pickle=False) as saved:
        sizes = {"n_users": int(saved["n_users"]), "n_items": int(saved["n_items"])}
        train = Ratings(
            saved["train_user"],
            saved["train_item"],
            saved["train_rating"],
            **sizes,
            name=str(saved["name"]),
        )
        test = Ratings(
            saved["test_user"],
            saved["test_item"],
            saved["test_rating"],
            **sizes,
            name=str(saved["name"]),
        )
    return train, test


def save_split(path: Path, train: Ratings, test: Ratings) -> None:
    """Store a (train, test) pair for the workers (uncompressed: loads in milliseconds)."""
    np.savez(
        path,
        name=np.array(train.name),
        n_users=train.n_users,
        n_items=train.n_items,
        train_user=train.user,
        train_item=train.item,
        train_rating=train.rating,
        test_user=test.user,
        test_item=test.item,
        test_rating=test.rating,
    )


def base_record(task: Task) -> dict[str, Any]:
    """The fields a record has whatever happens to the run."""
    return {
        "run_id": task.run_id,
        "suite": task.suite,
        "dataset": task.dataset,
        "split": task.split,
        "fold": task.fold,
        "seed": task.seed,
        "model": task.model,
        "label": task.label,
        "backend": task.backend,
        "n_threads": task.n_threads,
        "params": asdict(task)["params"],
        "status": "failed",
        "reason": "",
        "rmse_target": task.rmse_target,
        "relevance_threshold": task.relevance_threshold,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pid": os.getpid(),
        "rss_baseline_mb": current_rss_mb(),
        **task.facts,
    }


def _user_sample(test: Ratings, n_users: int, seed: int) -> Ratings:
    users = np.unique(test.user)
    if len(users) <= n_users:
        return test
    chosen = np.random.default_rng(seed).choice(users, size=n_users, replace=False)
    return test.subset(np.isin(test.user, chosen))
