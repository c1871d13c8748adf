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
#: disturbed anyway is flagged, ``measure.epoch_swing``). Measured on an idle 2-core machine,
#: torch-biased-mf on ML-100K (k = 32, 5 epochs, 2 threads): fit 0.06 s spinning (ACTIVE),
#: 0.08-0.13 s under libgomp's default (a short spin, then sleep), 0.55 s asleep (PASSIVE:
#: every one of the step's small parallel regions waits for a thread to wake), 0.07 s on one
#: thread. PASSIVE was this suite's policy for a while and made PyTorch look 9x slower on two
#: threads than on one. Every contender that uses OpenMP (PyTorch, implicit, LightFM, numba's
#: pools) runs under the same policy.
OPENMP_WAIT_POLICY = "ACTIVE"


def settle_openmp() -> None:
    """Set ``OMP_WAIT_POLICY`` for this process and the workers it starts (unless the user
    set it). It takes effect where OpenMP is loaded afterwards: call it before importing torch."""
    os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)


def default_threads() -> int:
    """Threads a run gets unless told otherwise: every core this process may use."""
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
