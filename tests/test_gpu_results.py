"""``make gpu-results``: stops at once, in one line, where no GPU is; its grids run CUDA."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from suite import config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_without_a_gpu_it_fails_fast_in_one_line(tmp_path) -> None:
    no_gpu = tmp_path / "bin"  # a PATH without nvidia-smi, whatever this machine has
    no_gpu.mkdir()
    env = {**os.environ, "PATH": str(no_gpu)}
    make = shutil.which("make")
    done = subprocess.run(
        [make, "-s", "-C", str(ROOT), "gpu-results", "GPU_RESULTS=" + str(tmp_path / "gpu")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert ours == [
        "make gpu-results: no NVIDIA GPU here (nvidia-smi finds none); run it on a machine "
        "with CUDA"
    ]
    assert not (tmp_path / "gpu").exists()


@pytest.mark.parametrize("name", ["default", "scaling-gpu"])
def test_its_grids_run_the_pytorch_contenders_on_cuda(name) -> None:
    grid = config.load_config(name)
    cuda = {spec.name for spec in grid.models if "cuda" in spec.backends}
    assert {"torch-mf", "torch-biased-mf"} <= cuda
