"""Fixtures of the pytest-benchmark suite: shared splits and the thread count."""

from __future__ import annotations

from typing import Any

import pytest

from suite import data
from suite.data import splits
from suite.data.ratings import Ratings
from suite.threads import resolve_threads


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
    return resolve_threads(None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run as tests (``--benchmark-disable``, as ``make test`` does), the suite runs every
    benchmark of every contender on the small seed matrix only: the 10^5-rating set adds
    time, not coverage. ``make benchmark`` runs both."""
    if not config.getoption("benchmark_disable", False) or config.getoption(
        "benchmark_enable", False
    ):
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        dataset = callspec.params.get("dataset") if callspec is not None else None
        (dropped if dataset == "synthetic-100k" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
