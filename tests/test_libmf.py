"""LIBMF as `make install` builds it: with the fix for upstream's end-of-training deadlock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

pytest.importorskip("libmf")

#: Fits of libmf-sgd on the 41 × 31 test set with two threads; unpatched LIBMF 0.9.2 hung
#: within the first 1,000-1,600 in every try here (patches/libmf-0.9.2-terminate.patch).
FITS = 2500


def test_the_installed_libmf_is_the_patched_build() -> None:
    assert metadata.version("libmf").endswith("+mfbench.1"), "run `make install`"


def test_many_short_fits_on_two_threads_all_finish() -> None:
    script = textwrap.dedent(f"""
        from model_helpers import quick, tiny_ratings
        from suite import models
        train = tiny_ratings()
        for _ in range({FITS}):
            models.create("libmf-sgd", n_threads=2, seed=3, **quick("libmf-sgd")).fit(train)
        print("finished")
    """)
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tests, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "finished"
