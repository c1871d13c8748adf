"""Thread control: one thread count for torch, BLAS and OpenMP pools, the same for every run."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def thread_limits(n_threads: int | None) -> Iterator[None]:
    """Run the block with at most ``n_threads`` threads in torch, BLAS and OpenMP pools.

    ``None`` leaves every pool as it is. Libraries that take a thread count argument
    (implicit, LightFM) get ``n_threads`` from the model itself.
    """
    if n_threads is None:
        yield
        return
    torch = sys.modules.get("torch")  # only touch torch if something already uses it
    previous = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        if torch:
            torch.set_num_threads(previous)


#: How idle OpenMP threads wait between parallel regions in every run: spinning, so that a
#: run meets every region with its threads awake (benchmarks run alone; a run another process
#: disturbed anyway is flagged, ``measure.epoch_swing``). Under libgomp's default (a short
#: spin, then sleep) or ``PASSIVE`` (asleep), every one of a minibatch step's small parallel
#: regions waits for a thread to wake, and a trainer of many small steps looks slower on two
#: threads than on one (the README's note on OpenMP says by how much it was measured). Every
#: contender that uses OpenMP (PyTorch, implicit, LightFM, numba's pools) runs under the same
#: policy.
OPENMP_WAIT_POLICY = "ACTIVE"


def settle_openmp() -> None:
    """Set ``OMP_WAIT_POLICY`` for this process and the workers it starts (unless the user
    set it). It takes effect where OpenMP is loaded afterwards: call it before importing torch."""
    os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)


def resolve_threads(n_threads: int | None) -> int:
    """The threads a run gets: ``n_threads``, or every core this process may use when None or 0.

    The one place a thread count is resolved: the runner resolves a grid's ``n_threads`` (the
    config's request) once per plan and hands every contender the count; a contender made
    without one (tuning, tests) that then runs on every core resolves it here too.
    """
    if n_threads:
        return n_threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def fewer_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block on at most ``n_threads`` torch intra-op threads (None: as it is).

    For work a trainer knows to be too small to split; the thread count set for the run
    (``thread_limits``) is restored afterwards and never raised.
    """
    import torch

    previous = torch.get_num_threads()
    if n_threads is None or n_threads >= previous:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
