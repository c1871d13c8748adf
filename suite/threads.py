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


#: How idle OpenMP threads wait between parallel regions in every run: asleep, not spinning.
#: Spinning threads (libgomp's default) hold their core after each region; with as many
#: threads as cores, any other busy process then makes each region wait for a thread the
#: kernel has descheduled, and epochs take many times longer in bursts. Every contender that
#: uses OpenMP (PyTorch, implicit, LightFM, LIBMF) runs under the same policy.
OPENMP_WAIT_POLICY = "PASSIVE"


def settle_openmp() -> None:
    """Set ``OMP_WAIT_POLICY`` for this process and the workers it starts (unless the user
    set it). It takes effect where OpenMP is loaded afterwards: call it before importing torch."""
    os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)


def default_threads() -> int:
    """Threads a run gets unless told otherwise: every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
