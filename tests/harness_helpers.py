"""Small grids for the harness tests: a generated ratings file and a config around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def ratings_file(folder: Path, n_users: int = 60, n_items: int = 40, n: int = 1200) -> Path:
    """A u.data-format file of random ratings with timestamps."""
    rng = np.random.default_rng(5)
    keys = rng.choice(n_users * n_items, size=n, replace=False)
    lines = [
        f"{k // n_items + 1}\t{k % n_items + 1}\t{rng.integers(1, 6)}\t{900_000_000 + i}"
        for i, k in enumerate(keys)
    ]
    path = folder / "u.data"
    path.write_text("\n".join(lines) + "\n")
    return path


def config_file(folder: Path, data: Path, models: str, seeds: str = "[0, 1]") -> Path:
    """A TOML grid over ``data`` (holdout, ``seeds``) with the ``[[models]]`` text given."""
    path = folder / "grid.toml"
    path.write_text(f'''
name = "test-grid"
n_threads = 1
[[datasets]]
name = "{data}"
split = "holdout"
seeds = {seeds}
rmse_target = 1.5
{models}
''')
    return path


def gate_config_file(folder: Path, data: Path, name: str, models: str) -> Path:
    """A TOML config for the regression gate: holdout on ``data``, two seeds, timed repeats."""
    path = folder / f"{name}.toml"
    path.write_text(f'''
name = "{name}"
n_threads = 1
repeats = 2
calibrate = true
[[datasets]]
name = "{data}"
split = "holdout"
seeds = [0, 1]
{models}
''')
    return path


TWO_MODELS = """
[[models]]
name = "torch-biased-mf"
backends = ["cpu", "cuda"]
params = { epochs = 3, factors = 4 }
[[models]]
name = "implicit-als"
params = { epochs = 2, factors = 4 }
"""
