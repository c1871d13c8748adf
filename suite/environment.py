"""What a run folder's numbers were measured on: machine, GPU, libraries, threads, git tree."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_info

from suite import safe_io
from suite.threads import default_threads


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
    safe_io.write_text(path, json.dumps(env, indent=2) + "\n")
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
