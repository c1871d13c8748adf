"""Helpers shared by the model tests: tiny data, quick settings, backends to try."""

from __future__ import annotations

from typing import Any

import numpy as np

from suite import models
from suite.data import synthetic
from suite.data.ratings import Ratings

BACKENDS = ("cpu", "cuda", "mps")


def model_backends() -> list[tuple[str, str]]:
    """Every (model, backend) pair a model declares; unavailable ones are skipped in tests."""
    return [(name, backend) for name in models.names() for backend in models.get(name).backends]


def quick(name: str, **overrides: Any) -> dict[str, Any]:
    """Settings that make ``name`` fit a tiny data set in well under a second."""
    valid = models.hyperparameters(name)
    params = {key: value for key, value in QUICK.items() if key in valid}
    return {**params, **overrides}


QUICK = {"epochs": 3, "factors": 8, "batch_size": 64, "max_ratings": None}


def tiny_ratings(seed: int = 0) -> Ratings:
    """A planted 40-user × 30-item set, plus user 40 and item 30 with no rating (cold)."""
    planted = synthetic.planted(40, 30, 500, rank=3, seed=seed)
    return Ratings(planted.user, planted.item, planted.rating, n_users=41, n_items=31, name="tiny")


def fitted_output(model: models.Model, ratings: Ratings) -> np.ndarray:
    """What a fitted model says: scores of every item for every user."""
    return model.score_items(np.arange(ratings.n_users))
