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


def default_threads() -> int:
    """Threads a run gets unless told otherwise: every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
