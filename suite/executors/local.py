"""The local executor: a grid's runs one after the other on this machine, each in a fresh
worker process with its threads pinned.

``run_task`` is how every executor runs one task (the Dask one calls it on its workers): a
fresh process forked from a server that has already imported the libraries, so no state or
memory is shared between runs, and a worker that dies becomes a failed record.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from suite import models, results, timed_run
from suite.executors.base import Outcome, RunProgress, SplitPlan, pending_tasks
from suite.timed_run import Task


class LocalExecutor:
    """Runs one after the other on this machine, each in a fresh worker process.

    Parameters
    ----------
    threads_per_run : int
        Threads each run is pinned to (each run pins its own; recorded here for symmetry).
    in_process : bool
        Run every task in this process instead (debugging; memory figures then mix).
    """

    name: ClassVar[str] = "local"
    options: ClassVar[tuple[str, ...]] = ("in_process",)

    def __init__(self, *, threads_per_run: int = 1, in_process: bool = False) -> None:
        self.threads_per_run = threads_per_run
        self.in_process = in_process

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def run(
        self,
        splits: Iterable[tuple[SplitPlan, dict[str, Any]]],
        done: set[str],
        progress: RunProgress,
    ) -> Iterator[Outcome]:
        """Each pending task of each split in turn; see ``suite.executors.base.Executor``."""
        for split_plan, ratings_facts in splits:
            for task in pending_tasks(split_plan, done):
                task.facts = ratings_facts
                progress.starting(task)
                yield run_task(task, progress.epoch, in_process=self.in_process)
            Path(split_plan.tasks[0].split_file).unlink(missing_ok=True)


def run_task(
    task: Task, on_epoch: timed_run.Progress | None = None, *, in_process: bool = False
) -> Outcome:
    """Run ``task`` in a fresh worker process with its threads pinned; its outcome.

    Every executor runs its tasks through here (the Dask one on its workers). In-process on
    request; an unavailable model or backend is recorded as skipped at once, without a
    worker. ``on_epoch(epoch, total)`` is called after each epoch of the fit.
    """
    if in_process or not models.get(task.model).available(task.backend)[0]:
        return timed_run.execute(task, on_epoch)
    return _execute_in_worker(task, on_epoch)


def _execute_in_worker(task: Task, on_epoch: timed_run.Progress | None = None) -> Outcome:
    """Run ``task`` in a fresh process; a worker that dies becomes a failed record."""
    context = _worker_context()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker_main, args=(sender, task), daemon=True)
    RUNNING[threading.get_ident()] = worker
    outcome, stopped = None, True
    try:
        with _stop_signals_held():
            worker.start()
        sender.close()
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
        RUNNING.pop(threading.get_ident(), None)
    if outcome is None:  # killed (out of memory?) or crashed before it could report
        failed = {
            **timed_run.base_record(task),
            "status": results.FAILED,
            "reason": f"worker process died (exit code {worker.exitcode})",
        }
        return failed, []
    return outcome


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """The block with Ctrl-C, SIGTERM and SIGHUP held back until it ends (main thread).

    Starting a worker is a request to the fork server (its descriptors sent over a socket):
    a Ctrl-C raised half-way through closes the socket under the server, which then dies
    with a traceback on the terminal. Held, the signal stops the grid right after. Python
    acts on signals in the main thread only, so other threads are never cut short.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {number: signal.signal(number, lambda n, _: caught.append(n)) for number in HELD}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if caught:
            signal.raise_signal(caught[0])  # now, to the handler it was meant for


#: The signals that stop a grid (``suite.cli``), held while a worker is started.
HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


#: The fresh worker process of each thread that is running one now (see ``stop_runs``).
RUNNING: dict[int, Any] = {}


def stop_runs(threads: Iterable[int]) -> int:
    """Kill the fresh worker processes that ``threads`` are running; how many there were.

    For an executor that stops its runs from another thread (the Dask one, on Ctrl-C): each
    run's own thread then records it as failed (a record nobody waits for any more).
    """
    stopped = 0
    for thread in threads:
        worker = RUNNING.get(thread)
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
    try:
        record, curves = timed_run.execute(
            task, lambda epoch, total: sender.send(("epoch", epoch, total))
        )
        sender.send(("done", record, curves))
        sender.close()
    except (BrokenPipeError, ConnectionResetError):  # the parent stopped listening (Ctrl-C,
        os._exit(1)  # SIGTERM, SIGHUP): no one to report to, and no traceback on its terminal


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
        _CONTEXT.set_forkserver_preload(["suite.timed_run", "suite.executors.local"])
    return _CONTEXT
