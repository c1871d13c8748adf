"""How long a grid will take: an estimate from committed measurements (``mfbench run --dry-run``).

This is an estimate, not a measurement. Each planned run is matched to the *nearest measured
run* of the same contender on the same backend in the committed results folders
(``results/results.csv`` and ``results/*/results.csv``, not ``results/runs/``), with side
features where the run has them and without where not: nearest in training size and in
``factors``, both on a log scale. Its times are then scaled:

* **training**: the measured time per epoch (``epoch_s_median``; ``fit_s / epochs`` where a
  library trains in one call), linear in training ratings (not for a contender that caps
  the ratings of an epoch), times the planned epochs (an upper bound under early stopping);
* **set-up and evaluation**: ``prepare_s`` linear in training ratings, ``warmup_s`` as it
  was; the final ``predict_s`` linear in test ratings and ``rank_eval_s`` linear in users
  ranked × items; the convergence curve after each epoch costs one prediction of the test
  ratings plus the ranking of ``curve_users`` users (``suite.timed_run.Curve``);
* **threads**: a CPU run's compute is divided by ``(threads / measured threads) **
  THREAD_EXPONENT``: a guess between no gain (0) and a linear gain (1), near what the committed
  runs on 1 and on 2 threads show (``results/speed-1thread`` against ``results/speed``: the
  README's claim 2). Nothing says how it holds to 16 threads;
* **CUDA**: where no CUDA run of a contender is committed, a CUDA run is *guessed* from the
  CPU measurement as if it ran at the planned thread count, divided by ``CUDA_SPEEDUP`` (1: no
  speed-up assumed), plus ``CUDA_START_S`` for the CUDA context of its fresh worker process.
  Where a folder with its CUDA runs is committed, they are used instead;
* **fixed costs**: ``WORKER_START_S`` per run (a fresh worker process imports the libraries),
  each data set's load (timed now, while planning: it is loaded for its content digest) and
  each split (``split_s`` per million ratings, the median of the committed runs).

A contender with no committed measurement on any backend is **unknown**: listed, and left out
of the total, which says how many runs it leaves out. The committed runs were measured on
other machines (their CPUs are in each folder's ``env.json``); a faster or slower CPU scales
every figure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from suite import models, results

if TYPE_CHECKING:
    from suite.config import DatasetSpec, Grid
    from suite.data.ratings import Ratings
    from suite.timed_run import Task

#: The committed results folders: ``results/`` beside the ``suite`` package (a checkout).
RESULTS_ROOT = Path(__file__).resolve().parents[1] / "results"

#: A CPU run's compute is divided by ``(threads / measured threads) ** THREAD_EXPONENT``.
THREAD_EXPONENT = 0.5

#: A CUDA run without a CUDA measurement: its CPU estimate (at the planned threads) divided by
#: this; 1 assumes no speed-up.
CUDA_SPEEDUP = 1.0

#: Seconds to create the CUDA context in a fresh worker process (a guess; not measured here).
CUDA_START_S = 5.0

#: Seconds to start a fresh worker process and import the libraries (about the gap the
#: committed runs show between one run's timed parts and the next run's start).
WORKER_START_S = 2.0

#: Seconds per million ratings to make a split, when no committed run recorded ``split_s``.
SPLIT_S_PER_M = 0.15

#: The columns a measurement needs (``results.csv``).
COLUMNS = (
    "dataset",
    "model",
    "backend",
    "status",
    "n_threads",
    "n_train",
    "n_test",
    "n_items",
    "n_ranked_users",
    "epochs",
    "epoch_s_median",
    "fit_s",
    "warmup_s",
    "prepare_s",
    "predict_s",
    "rank_eval_s",
    "split_s",
    "params",
    "started_at",
)


@dataclass(frozen=True)
class Size:
    """What one split of a data set holds, as far as the cost model needs it."""

    n_train: float
    n_test: float
    n_users: int
    n_items: int


@dataclass(frozen=True)
class RunEstimate:
    """The estimated seconds of one planned run (None: unknown) and what it is based on."""

    task: Task
    seconds: float | None
    basis: str
    guessed: bool = False  # an accelerator run estimated from CPU measurements


@dataclass(frozen=True)
class PlanEstimate:
    """Every run's estimate, the fixed costs, and the total."""

    runs: list[RunEstimate]
    load_s: float  # loading each data set once (timed while planning)
    split_s: float  # making each split (estimated)
    n_threads: int

    @property
    def unknown(self) -> int:
        """Runs without an estimate (no committed measurement of their contender)."""
        return sum(run.seconds is None for run in self.runs)

    @property
    def total_s(self) -> float:
        """Seconds of the known runs, the loads and the splits."""
        known = sum(run.seconds for run in self.runs if run.seconds is not None)
        return known + self.load_s + self.split_s


def measurements(folders: Iterable[Path] | None = None) -> pd.DataFrame:
    """The ok runs of the committed results folders (``results.csv`` in each of ``folders``;
    default: ``RESULTS_ROOT`` and its sub-folders but ``runs/``), one row each, with the
    folder they come from (``source``). Empty where there is none (an installed copy)."""
    if folders is None:
        found = RESULTS_ROOT.glob("*/results.csv")
        folders = [RESULTS_ROOT, *sorted(p.parent for p in found if p.parent.name != "runs")]
    frames = []
    for folder in folders:
        source = Path(folder) / "results.csv"
        if not source.is_file():
            continue
        frame = results.read_csv(source).reindex(columns=list(COLUMNS))
        frame = frame[(frame["status"] == results.OK) & (frame["n_train"] > 0)].copy()
        frame["source"] = _shown(Path(folder))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "source"])
    return pd.concat(frames, ignore_index=True)


def _shown(folder: Path) -> str:
    """A results folder as the estimate names it (relative to the checkout where it can)."""
    try:
        return str(folder.resolve().relative_to(RESULTS_ROOT.parent))
    except ValueError:
        return str(folder)


def split_size(ratings: Ratings, spec: DatasetSpec) -> Size:
    """The training and test sizes a split of ``ratings`` by ``spec`` will have (from the
    split's fractions, before cold test ratings are dropped; no split is made)."""
    n = len(ratings)
    if spec.split == "kfold":
        n_test = n / spec.folds
    elif spec.split == "temporal":
        n_test = min(float(n), float(ratings.n_users * spec.leave_last))
    else:  # holdout, cold-items
        n_test = n * spec.test_fraction
    return Size(n - n_test, n_test, ratings.n_users, ratings.n_items)


def estimate_run(
    task: Task, size: Size, measured: pd.DataFrame, n_users_ranked: int, here: bool = False
) -> RunEstimate:
    """The estimated seconds of ``task`` on a split of ``size`` (see the module docstring).

    Parameters
    ----------
    task : Task
        The planned run (contender, backend, threads, resolved settings).
    size : Size
        Its split's sizes.
    measured : DataFrame
        ``measurements()``.
    n_users_ranked : int
        Users its final ranking metrics score (every user, or the grid's ``eval_users``).
    here : bool
        The plan is for this machine: a run it cannot make (no GPU, a missing library) is
        recorded as skipped at once, and costs nothing.
    """
    if here:
        available, why = models.get(task.model).available(task.backend)
        if not available:
            return RunEstimate(task, 0.0, f"skipped here: {why}")
    on_cuda = task.backend != "cpu"
    own = measured[(measured["model"] == task.model) & (measured["backend"] == task.backend)]
    guessed = own.empty and on_cuda
    if guessed:
        own = measured[(measured["model"] == task.model) & (measured["backend"] == "cpu")]
    if own.empty:
        return RunEstimate(task, None, "unknown: no committed run of this contender")
    with_features = own["dataset"].astype(str).str.contains("+features", regex=False)
    alike = own[with_features == ("+features" in task.dataset)]  # side features cost more
    own = alike if not alike.empty else own
    reference = _nearest(own, size.n_train, task.params.get("factors"))
    scale = 1.0 if models.caps_epochs(task.model) else size.n_train / reference["n_train"]
    speed = 1.0
    if not on_cuda or guessed:
        measured_threads = max(_value(reference, "n_threads"), 1.0)
        speed = (task.n_threads / measured_threads) ** THREAD_EXPONENT
    if guessed:
        speed *= CUDA_SPEEDUP
    epochs = int(task.params.get("epochs") or max(_value(reference, "epochs"), 1.0))
    per_epoch = _value(reference, "epoch_s_median") or (
        _value(reference, "fit_s") / max(_value(reference, "epochs"), 1.0)
    )
    predict = _value(reference, "predict_s") * size.n_test / max(_value(reference, "n_test"), 1.0)
    ranked_before = max(_value(reference, "n_ranked_users"), 1.0) * max(
        _value(reference, "n_items"), 1.0
    )
    rank_per_user = _value(reference, "rank_eval_s") * size.n_items / ranked_before
    curve = predict + rank_per_user * min(task.curve_users, size.n_users)
    compute = (
        epochs * (per_epoch * scale + (curve if models.has_curve(task.model) else 0.0))
        + predict
        + rank_per_user * n_users_ranked
    )
    fixed = WORKER_START_S + _value(reference, "prepare_s") * scale + _value(reference, "warmup_s")
    seconds = fixed + compute / speed + (CUDA_START_S if guessed else 0.0)
    return RunEstimate(task, seconds, _basis(reference, guessed), guessed)


def _nearest(own: pd.DataFrame, n_train: float, factors: Any) -> dict[str, Any]:
    """The measured run nearest to ``n_train`` training ratings and ``factors`` (log scale;
    among equals, the most threads, then the newest folder): the median of its group's runs
    (same folder, data size, threads and factors: its folds and seeds)."""
    own = own.assign(k=own["params"].map(_factors))
    distance = (own["n_train"] / n_train).map(lambda ratio: abs(math.log(ratio)))
    if isinstance(factors, int) and factors > 0:
        distance += own["k"].map(lambda k: abs(math.log(k / factors)) if k > 0 else 0.0)
    own = own.assign(distance=distance.round(6))
    best = own[own["distance"] == own["distance"].min()]
    best = best[best["n_threads"] == best["n_threads"].max()]
    latest = best.loc[best["started_at"].astype(str).idxmax()]  # the newest code measured
    group = best[(best["source"] == latest["source"]) & (best["k"] == latest["k"])]
    return {
        **group.median(numeric_only=True).to_dict(),
        "source": latest["source"],
        "k": latest["k"],
    }


def _factors(params: Any) -> float:
    """A run's ``factors`` (0 where it has none, e.g. a floor)."""
    k = results.param(params, "factors")
    return float(k) if isinstance(k, int | float) and not isinstance(k, bool) else 0.0


def _value(reference: dict[str, Any], column: str) -> float:
    value = reference.get(column)
    return 0.0 if value is None or pd.isna(value) else float(value)


def _basis(reference: dict[str, Any], guessed: bool) -> str:
    at_k = f", k={int(reference['k'])}" if reference["k"] > 0 else ""
    measured = (
        f"{_count(reference['n_train'])} ratings{at_k}, {int(reference['n_threads'])} thr "
        f"({reference['source']})"
    )
    return f"guess from CPU: {measured}" if guessed else measured


def _count(n: float) -> str:
    """``7990699`` -> ``"8.0M"``; ``80000`` -> ``"80k"``."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def estimate_grid(grid: Grid, measured: pd.DataFrame | None = None) -> PlanEstimate:
    """Plan ``grid`` (``suite.runner.plan``: each data set is loaded for its digest, nothing
    is written) and estimate every run of it."""
    from suite import runner
    from suite.threads import resolve_threads

    measured = measurements() if measured is None else measured
    datasets = runner.Datasets()
    started = time.perf_counter()
    plans = runner.plan(grid, Path("dry-run"), datasets)
    load_s = time.perf_counter() - started
    split_rate = _split_rate(measured)
    runs, split_s = [], 0.0
    for split_plan in plans:
        ratings, _ = datasets.load(split_plan.dataset, split_plan.seed)
        size = split_size(ratings, split_plan.dataset)
        split_s += split_rate * len(ratings) / 1e6
        ranked = min(grid.eval_users or size.n_users, size.n_users)
        here = grid.n_threads is None  # no --threads: the plan is for this machine
        runs += [estimate_run(task, size, measured, ranked, here) for task in split_plan.tasks]
    return PlanEstimate(runs, load_s, split_s, resolve_threads(grid.n_threads))


def _split_rate(measured: pd.DataFrame) -> float:
    """Seconds per million ratings of a split, from the committed runs (else the constant)."""
    sized = measured[(measured["n_train"] + measured["n_test"]) >= 1e6]
    rate = sized["split_s"] / ((sized["n_train"] + sized["n_test"]) / 1e6)
    rate = rate.dropna()
    return float(rate.median()) if len(rate) else SPLIT_S_PER_M


def render(grid: Grid, estimate: PlanEstimate) -> str:
    """The dry run's text: every planned run, then the total and what it rests on."""
    from tabulate import tabulate

    rows = [
        [
            run.task.dataset,
            run.task.split,
            run.task.fold,
            run.task.seed,
            run.task.label,
            run.task.backend,
            run.task.n_threads,
            run.task.params.get("epochs", ""),
            "unknown" if run.seconds is None else f"{run.seconds:.0f}",
            run.basis,
        ]
        for run in estimate.runs
    ]
    headers = [
        "data set",
        "split",
        "fold",
        "seed",
        "contender",
        "backend",
        "threads",
        "epochs",
        "est. s",
        "estimated from (nearest committed run)",
    ]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    total = estimate.total_s
    unknown = f"; {estimate.unknown} run(s) unknown, not counted" if estimate.unknown else ""
    guessed = sum(run.guessed for run in estimate.runs)
    lines = [
        f"{grid.name}: {len(estimate.runs)} planned runs (dry run: nothing was run or written)",
        "",
        table,
        "",
        f"estimated total: {total:.0f} s (~{total / 60:.1f} min) at {estimate.n_threads} "
        f"thread(s) per run{unknown}"
        + ("" if grid.n_threads else " (every core here; --threads N plans for another machine)"),
        f"  data loads {estimate.load_s:.0f} s (timed now) + splits {estimate.split_s:.0f} s "
        f"+ runs {total - estimate.load_s - estimate.split_s:.0f} s",
        "  an ESTIMATE (suite/estimate.py): each run scaled from the nearest committed run of "
        "its contender and backend, linear in ratings;",
        f"  CPU compute divided by (threads / measured threads)^{THREAD_EXPONENT} (no committed "
        "run used more than 2 threads); +"
        f"{WORKER_START_S:.0f} s per run to start its worker;",
    ]
    if guessed:
        lines.append(
            f"  {guessed} CUDA run(s) have no CUDA measurement: guessed as the CPU run at these "
            f"threads / {CUDA_SPEEDUP:g} + {CUDA_START_S:.0f} s of CUDA start-up"
        )
    lines.append("  measured on other machines: another CPU or GPU scales every figure")
    return "\n".join(lines)


def dry_run(grid: Grid) -> str:
    """``mfbench run --dry-run``: the planned runs and the estimated total, as text."""
    return render(grid, estimate_grid(grid))
