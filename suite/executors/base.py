"""What every executor is given and gives back: the splits to run, the protocol, an outcome.

The runner (``suite.runner``) plans a grid into ``SplitPlan``s, saves each split once, and
hands them to an executor; the executor runs each pending task (``suite.executors.local.run_task``
on whatever machine it runs on) and yields each ``Outcome`` as it comes. The runner alone
writes them, so run ids, records and ``--resume`` are the same whichever executor ran them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Protocol

from suite.config import DatasetSpec
from suite.timed_run import Task

#: A run's outcome: its record and its curve rows.
Outcome = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass
class SplitPlan:
    """One (data set, fold, seed) and the tasks that share its split."""

    dataset: DatasetSpec
    fold: int
    seed: int
    tasks: list[Task]


def pending_tasks(split_plan: SplitPlan, done: set[str]) -> list[Task]:
    """The tasks of ``split_plan`` whose run is not in ``done``."""
    return [task for task in split_plan.tasks if task.run_id not in done]


class RunProgress(Protocol):
    """What an executor tells the progress display (``suite.progress.Progress``)."""

    def starting(self, task: Task) -> None: ...

    def epoch(self, epoch: int, total: int) -> None: ...


class Executor(Protocol):
    """Where the runs of a grid happen; ``run_grid`` enters it, runs the grid, leaves it.

    Required of an executor class (one module of ``suite.executors`` plus one line in its
    ``REGISTRY``):

    ``name`` : str (class attribute)
        Its registry name, recorded in every record's ``executor`` column.
    ``options`` : tuple of str (class attribute)
        The command-line options it takes besides ``threads_per_run`` (``"scheduler"``,
        ``"in_process"``); ``suite.executors.create`` refuses any other that is set.
    ``__init__(self, *, threads_per_run, **options)``
        Stores its settings; nothing starts before ``__enter__``.
    ``__enter__`` / ``__exit__``
        Start and stop whatever it runs on (a cluster); ``__exit__`` with an exception
        (Ctrl-C) must stop the runs still going.
    ``run(splits, done, progress)``
        Takes the splits with pending runs (each saved to its tasks' ``split_file``, with
        its facts), runs every task of them not in ``done`` (after setting ``task.facts``)
        and yields each ``Outcome`` as it comes; the caller writes it. A split file is the
        executor's to delete once its runs are done.
    """

    name: ClassVar[str]
    options: ClassVar[tuple[str, ...]]

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
        progress: RunProgress,
    ) -> Iterator[Outcome]: ...
