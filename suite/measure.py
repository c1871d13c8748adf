"""Measurement: clocks that wait for the GPU, peak memory, thread control, the environment."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


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


def _proc_status() -> dict[str, float]:
    """The kB figures of /proc/self/status (empty off Linux)."""
    status = Path("/proc/self/status")
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


def calibrate(n_threads: int | None) -> float:
    """Seconds a fixed mixed workload takes here and now (about 0.2 s on one core here).

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


def default_threads() -> int:
    """Threads a run gets unless told otherwise: every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def environment() -> dict[str, Any]:
    """Where a run folder's numbers come from: machine, GPU, versions, BLAS/OpenMP, git commit."""
    import torch

    packages = (
        "mfbench",
        "numpy",
        "scipy",
        "pandas",
        "torch",
        "implicit",
        "lightfm",
        "threadpoolctl",
        "numba",
    )
    env: dict[str, Any] = {
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": default_threads(),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in packages},
        "torch_cuda": torch.version.cuda,
        "gpu": None,
        "thread_settings": {
            "torch_num_threads": torch.get_num_threads(),
            **{
                var: os.environ.get(var)
                for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            },
        },
        "threadpools": [
            {k: v for k, v in pool.items() if k != "filepath"} for pool in threadpool_info()
        ],
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = {
            "name": props.name,
            "memory_gb": round(props.total_memory / 2**30, 1),
            "count": torch.cuda.device_count(),
            "driver": _nvidia_driver(),
        }
    return env


def write_environment(path: Path) -> dict[str, Any]:
    """Capture ``environment()`` into ``path`` (JSON) and return it."""
    env = environment()
    path.write_text(json.dumps(env, indent=2) + "\n")
    return env


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).parent,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _nvidia_driver() -> str | None:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else None
