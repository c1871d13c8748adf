"""Measurement: clocks that wait for the GPU, peak memory, the calibration workload."""

from __future__ import annotations

import math
import resource
import sys
import time
from pathlib import Path

import numpy as np

from suite.threads import thread_limits

#: A run whose slowest epoch took more than this many times its median epoch was disturbed
#: (most likely by another process on the machine: an epoch's work does not vary so): its
#: record says so (``disturbed``), with the load it saw, and the report names it.
DISTURBED_SWING = 3.0

#: ... and only if that slowest epoch lasted this many seconds longer than the median one: a
#: few-millisecond epoch swings by 3× from a page fault or a timer tick, which disturbs no
#: comparison (issue 40: four of five numba-sgd runs on ML-100K were flagged so).
DISTURBED_FLOOR_S = 0.05


def is_disturbed(epoch_s: list[float]) -> bool:
    """Whether a run's epochs (``epoch_s``, the first included) show a disturbance: the
    slowest later epoch beyond ``DISTURBED_SWING`` × their median *and* more than
    ``DISTURBED_FLOOR_S`` above it (``epoch_swing`` leaves the first epoch out)."""
    later = epoch_s[1:]
    swing = epoch_swing(epoch_s)
    if not swing > DISTURBED_SWING:
        return False
    return max(later) - float(np.median(later)) > DISTURBED_FLOOR_S


def epoch_swing(epoch_s: list[float]) -> float:
    """The slowest epoch over the median epoch, the first epoch left out (NaN with fewer than
    three after it): the first carries a library's one-time set-up (its thread pool, copies of
    the data), which is the run's own cost, not a disturbance (implicit's first ALS sweep is
    several times its others on an idle machine)."""
    later = epoch_s[1:]
    return max(later) / float(np.median(later)) if len(later) >= 3 else math.nan


def clock(backend: str = "cpu") -> float:
    """``time.perf_counter()``, after ``torch.cuda.synchronize()`` when ``backend`` is cuda.

    Every clock read that brackets GPU work goes through here, so queued kernels are
    finished (and counted) before the time is taken.
    """
    if backend == "cuda":
        import torch

        torch.cuda.synchronize()
    return time.perf_counter()


class Stopwatch:
    """Accumulates the time of the blocks it brackets (``with watch: ...``), in seconds."""

    def __init__(self, backend: str = "cpu") -> None:
        self.backend = backend
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = clock(self.backend)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds += clock(self.backend) - self._start


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started or ``reset_peak_rss``, in MiB."""
    status = _proc_status()
    if "VmHWM" in status:
        return status["VmHWM"] / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def current_rss_mb() -> float:
    """Resident memory of this process now, in MiB (NaN where /proc is missing)."""
    return _proc_status().get("VmRSS", float("nan") * 1024) / 1024


def reset_peak_rss() -> bool:
    """Restart the peak-memory count at the current size (Linux ``clear_refs``); False if not."""
    clear_refs = Path("/proc/self/clear_refs")
    if not clear_refs.exists():
        return False
    try:
        clear_refs.write_text("5")
    except OSError:  # not permitted here: the peak then covers the whole process
        return False
    return True


def process_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of another process, ``pid``, in MiB (Linux; NaN
    elsewhere): e.g. the JVM that PySpark started."""
    status = _proc_status(pid)
    return status.get("VmRSS", math.nan) / 1024, status.get("VmHWM", math.nan) / 1024


def _proc_status(pid: int | str = "self") -> dict[str, float]:
    """The kB figures of /proc/<pid>/status (empty off Linux)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return {}
    fields = (line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    return {key: float(value.split()[0]) for key, value in fields if value.strip().endswith("kB")}


def reset_gpu_peak(backend: str) -> None:
    """Start a new peak-memory window on the GPU (no-op elsewhere)."""
    if backend == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def peak_gpu_mb(backend: str) -> float:
    """Peak memory PyTorch allocated on the GPU since the last reset, in MiB (NaN off-GPU).

    Memory that other libraries allocate with their own allocators (implicit's CUDA build)
    is not seen here.
    """
    if backend != "cuda":
        return float("nan")
    import torch

    return torch.cuda.max_memory_allocated() / 2**20


def calibrate(n_threads: int | None) -> float:
    """Seconds a fixed mixed workload takes here and now (a fraction of a second).

    Dividing a fit time by it gives a figure that moves with the model, not with the
    machine's speed or load: dense BLAS (threaded like the models), random gather and
    scatter over memory, and an interpreter loop — the three kinds of work the contenders
    spend their time on. The inputs are built before the clock starts.
    """
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((448, 448)).astype(np.float32)
    index = rng.integers(0, 500_000, 1_000_000)
    values = rng.standard_normal(1_000_000)
    totals = np.zeros(500_000)
    with thread_limits(n_threads):
        start = time.perf_counter()
        for _ in range(20):
            matrix = np.tanh(matrix @ matrix.T / 448)
        for _ in range(3):
            np.add.at(totals, index, values)
            totals[index[::3]] *= 0.5
        accumulator = 0.0
        for step in range(1_000_000):
            accumulator += step * 0.5
        return time.perf_counter() - start
