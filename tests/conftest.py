"""Shared fixtures: an isolated data cache, and small ratings files in every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite.data.ratings import Ratings


@pytest.fixture(autouse=True)
def data_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty cache folder; nothing touches ~/.cache."""
    folder = tmp_path_factory.mktemp("mfbench-data")
    monkeypatch.setenv("MFBENCH_DATA", str(folder))
    return folder


@pytest.fixture(autouse=True)
def tuned_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts with no tuned settings (``mfbench tune --save`` writes here)."""
    folder = tmp_path_factory.mktemp("mfbench-tuned")
    monkeypatch.setenv("MFBENCH_TUNED", str(folder))
    return folder


@pytest.fixture
def small_ratings() -> Ratings:
    """A 60-user × 40-item random data set with timestamps."""
    rng = np.random.default_rng(7)
    keys = rng.choice(60 * 40, size=900, replace=False)
    return Ratings(
        keys // 40,
        keys % 40,
        rng.integers(1, 6, size=900),
        n_users=60,
        n_items=40,
        timestamp=rng.integers(0, 10_000, size=900),
        name="small",
    )
