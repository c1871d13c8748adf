"""Fixtures of the pytest-benchmark suite: shared splits and the thread count."""

from __future__ import annotations

from typing import Any

import pytest

from suite import data
from suite.data import splits
from suite.data.ratings import Ratings
from suite.threads import default_threads


@pytest.fixture(scope="session")
def split_of() -> Any:
    cache: dict[str, tuple[Ratings, Ratings]] = {}

    def get(dataset: str) -> tuple[Ratings, Ratings]:
        if dataset not in cache:
            cache[dataset] = splits.holdout(data.load(dataset), 0.2, seed=0)
        return cache[dataset]

    return get


@pytest.fixture(scope="session")
def threads() -> int:
    return default_threads()
