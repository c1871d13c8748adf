"""``mfbench run --executor dask``: the runs of a grid as tasks on a Dask cluster.

Each run is one Dask task, and on its worker it is run exactly as the local executor runs it:
in a fresh process with its threads pinned (``suite.executors.local.run_task``). A worker must
run one run at a time (a ``LocalCluster`` is made so; start the workers of an existing cluster with
``dask worker --nthreads 1``), and the client sends no more runs than the workers have threads.
The client sends each split file's bytes to the cluster once (a task that the scheduler can
compute again if a worker is lost with them) and a run writes them to a worker-local file on
first use, so the workers need not share the client's disk. At most ``SPLITS_IN_FLIGHT``
splits have runs on the cluster at once. Records come back as runs finish (``as_completed``)
and the client alone writes them (``suite.runner``).

A worker lost mid-run (killed, out of memory) has its run retried once, on another worker:
the scheduler's ``allowed_failures`` is 1 (set on a ``LocalCluster`` when it is made, and for
the session on an existing scheduler). If that worker is lost too, the run becomes a
``status=failed`` record naming it; ``--resume`` then runs it again. (The scheduler counts a
loss against every run sent to that worker, and one may briefly wait behind another right
after a loss, so a run can also be failed by two losses while waiting.)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, ClassVar

from suite import results, timed_run
from suite.errors import InputError
from suite.executors import local
from suite.executors.base import Outcome, RunProgress, SplitPlan, pending_tasks
from suite.timed_run import Task

try:
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # DaskExecutor says how to install it
    _WorkerPlugin = object

log = logging.getLogger("mfbench")

#: Seconds to wait for the scheduler of ``--scheduler`` to answer.
CONNECT_TIMEOUT_S = 10.0
#: Splits whose runs may be on the cluster at once (each one's file is held by the workers).
SPLITS_IN_FLIGHT = 2
#: Times a run whose worker is lost is started again on another one.
RETRIES_ON_LOST_WORKER = 1
#: The worker-local folder (under the temporary folder) of a session's split files.
WORKER_FOLDER_PREFIX = "mfbench-splits-"


def distributed_module() -> ModuleType:
    """``distributed``, or an ``InputError`` saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise InputError(
            f"--executor dask: needs the dask extra, which is not installed "
            f"(pip install 'mfbench[dask]'; {exc})"
        ) from exc
    return distributed


@dataclass
class _SplitInFlight:
    """One split's file, sent to the cluster, and how many of its runs are not back."""

    name: str
    payload: Any  # the ``distributed.Future`` of the file's bytes
    remaining: int


class DaskExecutor:
    """Runs a grid's runs as Dask tasks: on a new ``LocalCluster`` or an existing cluster.

    Parameters
    ----------
    scheduler : str or None
        Address of an existing cluster's scheduler (``tcp://HOST:PORT``); ``None`` starts a
        ``LocalCluster`` of ``max(1, cores // threads_per_run)`` single-threaded worker
        processes when entered, and closes it when left.
    threads_per_run : int
        Threads each run is pinned to (the grid's), to size the ``LocalCluster``.
    n_workers : int or None
        Workers of the ``LocalCluster`` instead of the number above.
    run_on_worker : callable
        The task function, ``(task, split_bytes, split_name, folder) -> (record, curves,
        worker address)``; tests replace it to lose workers on purpose.

    Notes
    -----
    Use it as a context manager: entering connects (or starts the cluster), leaving closes
    the client and any cluster it started. Left on Ctrl-C or an error, the runs not yet
    started are cancelled and the processes of those already going are killed, on whatever
    cluster (their records are dropped; ``--resume`` runs them again).
    """

    name: ClassVar[str] = "dask"
    options: ClassVar[tuple[str, ...]] = ("scheduler",)

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        threads_per_run: int = 1,
        n_workers: int | None = None,
        run_on_worker: Callable[..., tuple[dict[str, Any], list[dict[str, Any]], str]]
        | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers or max(1, _cores() // max(1, threads_per_run))
        self.run_on_worker = run_on_worker or run_on_worker_default
        self.folder = WORKER_FOLDER_PREFIX + uuid.uuid4().hex[:12]
        self._distributed = distributed_module()
        self._cluster: Any = None
        self._client: Any = None
        self._restore_failures: int | None = None
        self._log_level = logging.NOTSET

    # -- the cluster ---------------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        quiet = logging.getLogger("distributed")
        self._log_level = quiet.level
        if not log.isEnabledFor(logging.DEBUG):  # --debug shows Dask's logs
            quiet.setLevel(logging.ERROR)
        try:
            if self.scheduler is None:
                self._start_local_cluster()
            else:
                self._connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close(stop_runs=kind is not None)

    def _start_local_cluster(self) -> None:
        import dask

        distributed = self._distributed
        # No OMP_NUM_THREADS=1 & co. in the workers' (and this process's) environment: each
        # run pins its own threads, as under the local executor.
        with (
            dask.config.set({"distributed.nanny.pre-spawn-environ": {}}),
            warnings.catch_warnings(),
        ):
            # Its (dashboard-less) HTTP server moves to a free port if 8787 is taken: fine.
            warnings.filterwarnings("ignore", message=r"Port \d+ is already in use")
            self._cluster = distributed.LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                scheduler_kwargs={"allowed_failures": RETRIES_ON_LOST_WORKER},
            )
        self._client = distributed.Client(self._cluster)
        self._client.register_plugin(_CtrlCIsTheClients(), name="mfbench-ctrl-c")
        log.info("dask: a LocalCluster of %d single-threaded workers", self.n_workers)

    def _connect(self) -> None:
        distributed = self._distributed
        try:
            self._client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError, TypeError) as exc:
            raise InputError(
                f"--scheduler {self.scheduler}: no Dask scheduler answered within "
                f"{CONNECT_TIMEOUT_S:g} s ({type(exc).__name__}: {_first_line(exc)})"
            ) from exc
        self._restore_failures = self._client.run_on_scheduler(
            _set_allowed_failures, RETRIES_ON_LOST_WORKER
        )
        workers = self._client.scheduler_info().get("workers", {})
        busy = sorted(addr for addr, info in workers.items() if info.get("nthreads", 1) > 1)
        if busy:
            log.warning(
                "dask: %d worker(s) run more than one task at once (e.g. %s): their runs "
                "share the cores and time each other; start workers with --nthreads 1",
                len(busy),
                busy[0],
            )
        if not workers:
            log.warning("dask: %s has no workers yet; the runs wait for one", self.scheduler)
        log.info("dask: scheduler %s, %d worker(s)", self.scheduler, len(workers))

    def close(self, *, stop_runs: bool = False) -> None:
        """Close the client and the cluster it started (if any); safe to call twice.

        With ``stop_runs`` (Ctrl-C, an error), the processes of this session's runs still
        going on the workers are killed first: no fit goes on for nobody.
        """
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            try:
                if stop_runs:
                    client.run(_stop_session_runs, self.folder, on_error="ignore")
                client.run(shutil.rmtree, _worker_folder(self.folder), True, on_error="ignore")
                if self._restore_failures is not None:
                    client.run_on_scheduler(_set_allowed_failures, self._restore_failures)
            except (OSError, TimeoutError) as exc:
                log.debug("dask: could not tidy the workers (%s)", exc)
            finally:
                client.close()
        if cluster is not None:
            cluster.close()
        logging.getLogger("distributed").setLevel(self._log_level)

    # -- the runs ------------------------------------------------------------------------------

    def run(
        self,
        splits: Iterable[tuple[SplitPlan, dict[str, Any]]],
        done: set[str],
        progress: RunProgress,
    ) -> Iterator[Outcome]:
        """Submit the pending runs split by split; yield each outcome as it comes back.

        At most one run per worker thread is on the cluster at a time (the others wait
        here), so that a lost worker takes only its own run with it: the scheduler counts
        every run sent to a worker that dies as a try of that run. A split is sent once
        every run of the one before is submitted, and only while fewer than
        ``SPLITS_IN_FLIGHT`` splits have runs not yet back.
        """
        distributed = self._distributed
        client = self._client
        completed = distributed.as_completed()
        in_flight: list[_SplitInFlight] = []
        waiting: deque[tuple[Task, _SplitInFlight]] = deque()
        running: dict[Any, tuple[Task, _SplitInFlight]] = {}
        to_send = iter(splits)
        try:
            while True:
                slots = max(1, sum(client.nthreads().values()))
                while len(running) < slots:
                    if not waiting:  # the next split, if there is one and room for it
                        following = None
                        if len(in_flight) < SPLITS_IN_FLIGHT:
                            following = next(to_send, None)
                        if following is None:
                            break
                        split_plan, ratings_facts = following
                        path = Path(split_plan.tasks[0].split_file)
                        tasks = pending_tasks(split_plan, done)  # never empty
                        split = _SplitInFlight(path.name, self._send(path), len(tasks))
                        in_flight.append(split)
                        for task in tasks:
                            task.facts = ratings_facts
                            waiting.append((task, split))
                        continue
                    task, split = waiting.popleft()
                    future = self._submit(task, split)
                    running[future] = task, split
                    completed.add(future)
                if not running:
                    return
                future = next(completed)
                task, split = running.pop(future)
                yield self._outcome(future, task)
                split.remaining -= 1
                if not split.remaining:  # its bytes are let go, and its workers' copies
                    in_flight.remove(split)
                    client.run(_remove_split, self.folder, split.name, on_error="ignore")
        finally:
            if running:
                client.cancel(list(running), force=True)

    def _send(self, path: Path) -> Any:
        """The bytes of the split file ``path`` as a Dask future, ``path`` deleted.

        They go in a task of their own rather than ``Client.scatter``: the scheduler keeps
        them with it, so a worker lost with the only copy costs a recomputation (a copy),
        never the runs that need it.
        """
        with warnings.catch_warnings():  # the graph is as large as the split: that is the point
            warnings.filterwarnings("ignore", message="Sending large graph")
            payload = self._client.submit(
                _split_bytes, path.read_bytes(), key=f"mfbench-split-{uuid.uuid4().hex}"
            )
        path.unlink(missing_ok=True)
        return payload

    def _submit(self, task: Task, split: _SplitInFlight) -> Any:
        return self._client.submit(
            self.run_on_worker,
            task,
            split.payload,
            split.name,
            self.folder,
            key=f"mfbench-run-{task.run_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
            retries=0,  # an error of the task function itself is not tried again
        )

    def _outcome(self, future: Any, task: Task) -> Outcome:
        """The record of a finished future: its own, or a failed one saying what happened."""
        distributed = self._distributed
        try:
            record, curves, worker = future.result()
        except distributed.KilledWorker as exc:
            lost = getattr(exc.last_worker, "address", exc.last_worker)
            reason = (
                f"Dask worker lost while running it, on {RETRIES_ON_LOST_WORKER + 1} workers "
                f"(the last: {lost}; killed or out of memory?)"
            )
            return {**timed_run.base_record(task), "status": results.FAILED, "reason": reason}, []
        except distributed.client.FutureCancelledError as exc:
            raise InputError(
                f"dask: the run {task.run_id} was cancelled by the cluster (the scheduler "
                f"lost or shut down?): {_first_line(exc)}"
            ) from exc
        except Exception as exc:  # the task function raised on the worker: a failed run
            reason = f"on its Dask worker: {type(exc).__name__}: {_first_line(exc)}"[:500]
            return {**timed_run.base_record(task), "status": results.FAILED, "reason": reason}, []
        record["dask_worker"] = worker
        return record, curves


def run_on_worker_default(
    task: Task, split_bytes: bytes, split_name: str, folder: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The Dask task of one run: its split written locally once, then ``local.run_task``.

    Returns the record, the curve rows and the address of the worker that ran it.
    """
    from distributed import get_worker

    copy = _worker_folder(folder) / split_name
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_name(f"{copy.name}.{os.getpid()}.part")
        partial.write_bytes(split_bytes)
        os.replace(partial, copy)  # whole or absent, whoever else writes it
    threads = _SESSION_THREADS.setdefault(folder, set())
    threads.add(threading.get_ident())
    try:
        with _children_allowed():
            record, curves = local.run_task(replace(task, split_file=str(copy)))
    finally:
        threads.discard(threading.get_ident())
    return record, curves, get_worker().address


#: On a worker, the threads running a run of each session (by its ``DaskExecutor.folder``).
_SESSION_THREADS: dict[str, set[int]] = {}


def _stop_session_runs(folder: str) -> int:
    """On a worker: kill the processes of the session's runs there (``local.stop_runs``)."""
    return local.stop_runs(list(_SESSION_THREADS.get(folder, ())))


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Let this (daemonic) Dask worker process start the run's fresh worker process.

    A nanny's worker is a daemonic ``multiprocessing`` process, and those may not have
    children. The run's process ends with its forkserver, and that with this worker
    (``suite.executors.local``), so none outlives the worker.
    """
    process = multiprocessing.current_process()
    daemonic = process.daemon
    process.daemon = False
    try:
        yield
    finally:
        process.daemon = daemonic


class _CtrlCIsTheClients(_WorkerPlugin):
    """Makes a ``LocalCluster``'s workers (restarted ones too) ignore Ctrl-C.

    They share the terminal of ``mfbench``, which on Ctrl-C cancels the runs and closes the
    cluster itself; left alone, each worker would also print a ``KeyboardInterrupt``.
    """

    def setup(self, worker: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _split_bytes(data: bytes) -> bytes:
    """The task holding a split file's bytes on the workers (see ``DaskExecutor._send``)."""
    return data


def _remove_split(folder: str, name: str) -> None:
    (_worker_folder(folder) / name).unlink(missing_ok=True)


def _worker_folder(folder: str) -> Path:
    return Path(tempfile.gettempdir()) / folder


def _set_allowed_failures(value: int, dask_scheduler: Any = None) -> int:
    """On the scheduler: set its ``allowed_failures`` to ``value``; the value it had."""
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = value
    return previous


def _cores() -> int:
    from suite.threads import resolve_threads

    return resolve_threads(None)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
