"""What the hand-written biased MF contenders share: r̂ = μ + b_u + b_i + p_u · q_i in numpy."""

from __future__ import annotations

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import Contest, Model


class BiasedFactorsModel(Model):
    """A ``Model`` whose learned state is numpy factors and biases around the training mean.

    Subclasses fill ``user_factors_``, ``item_factors_``, ``user_bias_`` and ``item_bias_``
    (``global_mean_`` is set by ``Model.fit``) and get prediction, scoring and the NaN check.
    """

    contests = (Contest.RATING,)
    factors: int
    init_std: float

    def _init_factors(self, train: Ratings, rng: np.random.Generator) -> None:
        """Factors ~ N(0, init_std²) (users drawn first, then items), biases 0, float32."""
        size = self.init_std
        self.user_factors_ = rng.normal(0, size, (train.n_users, self.factors)).astype(np.float32)
        self.item_factors_ = rng.normal(0, size, (train.n_items, self.factors)).astype(np.float32)
        self.user_bias_ = np.zeros(train.n_users, dtype=np.float32)
        self.item_bias_ = np.zeros(train.n_items, dtype=np.float32)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items] + dot

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T + self.item_bias_
        return scores + (self.global_mean_ + self.user_bias_[users])[:, None]

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_]
