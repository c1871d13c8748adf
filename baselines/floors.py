"""The rating contest's floors: the global mean, and the user and item biases around it."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement


class GlobalMean(Model):
    """Predicts the training mean rating μ for every pair (``global-mean``).

    The constant that minimises training squared error: any rating model must beat its RMSE.
    It gives every item the same rating, so its ranking breaks that tie by evidence: items are
    ranked by how often they were rated in training — popularity's ranking (Cremonesi, Koren
    & Turrin, RecSys 2010), which keeps the ranking metrics defined. It enters the rating
    contest only; its ranking metrics are popularity's.

    Parameters
    ----------
    backend, n_threads, seed
        Accepted for the common interface; unused.
    """

    name = "global-mean"
    requirements = (Requirement("numpy"),)
    contests = (Contest.RATING,)
    trains = False  # it averages; throughput and speed-ups do not apply
    floor = True

    def __init__(self, *, backend: str = "cpu", n_threads: int | None = None, seed: int = 0):
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        # Model.fit has already counted what it needs: global_mean_ and item_popularity_.
        self._epoch_done(1, len(train), on_epoch)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.full(len(users), self.global_mean_, dtype=np.float32)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        popularity = self.item_popularity_
        return np.broadcast_to(popularity, (len(users), len(popularity))).copy()


class BiasOnly(Model):
    """The baseline predictor ``r̂ = μ + b_u + b_i`` by alternating least squares (``bias-only``).

    Koren, "Factorization Meets the Neighborhood", KDD 2008, section 2.1: the biases minimise

    ``Σ (r_ui - μ - b_u - b_i)² + λ_u Σ_u b_u² + λ_i Σ_i b_i²``

    (μ the training mean). Each epoch solves the items' biases exactly with the users' fixed,
    ``b_i = Σ_u (r_ui - μ - b_u) / (λ_i + |U_i|)``, then the users',
    ``b_u = Σ_i (r_ui - μ - b_i) / (λ_u + |I_u|)``, starting from zero — the order, defaults
    (λ_u = 15, λ_i = 10, 10 epochs) and result of Surprise's ``BaselineOnly`` with
    ``method="als"`` (Hug, JOSS 2020). Each half-step is an exact minimum over its block, so
    the objective (``loss_history_``, divided by the number of ratings) never increases.

    The penalty is not scaled by the number of ratings: a bias estimated from ``n`` ratings
    is shrunk towards 0 by the factor ``n / (λ + n)``. Two penalties, because users and items
    differ in how many ratings back them; hence ``l2_user``/``l2_item`` rather than ``l2``.

    It ranks items by ``b_i`` (``μ + b_u`` is the same for all of a user's items): a
    shrunk mean-rating ranking, not a personalised one.

    Parameters
    ----------
    epochs : int
        Alternations (one epoch = an item step and a user step).
    l2_user, l2_item : float
        λ_u and λ_i.
    backend, n_threads, seed
        CPU; unused (a few vectorised numpy passes); unused (nothing is random).
    """

    name = "bias-only"
    requirements = (Requirement("numpy"),)
    contests = (Contest.RATING,)
    floor = True
    hyperparameter_specs: ClassVar = {
        "l2_user": Hyperparameter(float, low=0),
        "l2_item": Hyperparameter(float, low=0),
    }

    def __init__(
        self,
        *,
        epochs: int = 10,
        l2_user: float = 15.0,
        l2_item: float = 10.0,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.epochs = epochs
        self.l2_user = l2_user
        self.l2_item = l2_item
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centred ratings ``r - μ`` (float64) and the rating counts of users and items."""
        centred = train.rating.astype(np.float64) - train.rating.mean(dtype=np.float64)
        n_user = np.bincount(train.user, minlength=train.n_users).astype(np.float64)
        n_item = np.bincount(train.item, minlength=train.n_items).astype(np.float64)
        return centred, n_user, n_item

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        centred, n_user, n_item = self._inputs(train)
        self.user_bias_ = np.zeros(train.n_users)
        self.item_bias_ = np.zeros(train.n_items)
        self.loss_history_: list[float] = []
        for epoch in range(1, self.epochs + 1):
            residual = centred - self.user_bias_[train.user]
            self.item_bias_ = _shrunk_sums(train.item, residual, n_item, self.l2_item)
            residual = centred - self.item_bias_[train.item]
            self.user_bias_ = _shrunk_sums(train.user, residual, n_user, self.l2_user)
            loss = self.objective(train, centred) / len(train)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(train), on_epoch)

    def objective(self, train: Ratings, centred: np.ndarray) -> float:
        """Squared error of ``centred = r - μ`` plus both penalties (see the class docstring)."""
        error = centred - self.user_bias_[train.user] - self.item_bias_[train.item]
        penalty = self.l2_user * self.user_bias_ @ self.user_bias_
        return float(error @ error + penalty + self.l2_item * self.item_bias_ @ self.item_bias_)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return (self.global_mean_ + self.user_bias_[users])[:, None] + self.item_bias_

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_bias_, self.item_bias_]


def _shrunk_sums(
    codes: np.ndarray, residual: np.ndarray, counts: np.ndarray, l2: float
) -> np.ndarray:
    """Per code, the sum of its residuals over ``l2 + count``: the ridge solution of a bias.

    A code with no rating gets 0 (also when ``l2 = 0``, where the division would be 0/0).
    """
    sums = np.bincount(codes, weights=residual, minlength=len(counts))
    denominator = l2 + counts
    return np.divide(sums, denominator, out=np.zeros_like(sums), where=denominator > 0)
