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
rating_target = 1.5
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


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``mfbench ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    from suite.cli import main

    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(argv: list, capsys, *needles: str) -> str:
    """``mfbench ARGV`` exits 2 with one stderr line (no traceback) holding every needle.

    The bad-input promise of the catalogue: each case names its culprit (file, line, option)
    in that one line. Returns the line.
    """
    code, _, err = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}, stderr: {err}"
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one line, got: {err}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]
