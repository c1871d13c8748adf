"""Helpers of the pytest-benchmark suite: what to benchmark and what to record."""

from __future__ import annotations

from typing import Any

import pytest

from suite import metrics, models
from suite.data.ratings import Ratings

#: ML-100K-shaped planted data, and the seed post's random matrix.
DATASETS = ("synthetic-100k", "synthetic-seed-2017")


def model_backends() -> list[tuple[str, str]]:
    return [(name, backend) for name in models.names() for backend in models.get(name).backends]


def with_settings(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``settings`` that ``name`` takes."""
    valid = models.hyperparameters(name)
    return {key: value for key, value in settings.items() if key in valid}


def require(name: str, backend: str) -> None:
    ok, reason = models.get(name).available(backend)
    if not ok:
        pytest.skip(reason)


def accuracy(model: models.Model, train: Ratings, test: Ratings) -> dict[str, float]:
    """Every metric (rating metrics NaN for a model that only ranks), by the harness's code."""
    return metrics.evaluate(model, train, test)
