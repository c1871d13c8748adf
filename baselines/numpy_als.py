"""Explicit-feedback biased ALS in numpy: closed-form regularised least squares per row."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from suite.data.ratings import Ratings
from suite.models.base import EpochCallback, Requirement
from suite.models.biased_factors import BiasedFactorsModel


def solve_rows(targets: sp.csr_matrix, features: np.ndarray, l2: float) -> np.ndarray:
    """Ridge solution of every row of ``targets`` against the rows of ``features``.

    Row ``r`` observes targets ``t_rj`` at columns ``j``; with ``Y`` the features of those
    columns it gets ``x_r = (YᵀY + λ n_r I)⁻¹ Yᵀ t_r`` — the minimiser of
    ``Σ_j (t_rj - x_r·y_j)² + λ n_r ‖x_r‖²`` (weighted-λ regularisation, Zhou et al.,
    "Large-scale Parallel Collaborative Filtering for the Netflix Prize", 2008). Rows with no
    observation get zeros.
    """
    solution = np.zeros((targets.shape[0], features.shape[1]), dtype=features.dtype)
    identity = np.eye(features.shape[1], dtype=features.dtype)
    for row in range(targets.shape[0]):
        start, end = targets.indptr[row], targets.indptr[row + 1]
        if start == end:
            continue
        observed = features[targets.indices[start:end]]
        gram = observed.T @ observed + (l2 * (end - start)) * identity
        solution[row] = np.linalg.solve(gram, observed.T @ targets.data[start:end])
    return solution


class NumpyALS(BiasedFactorsModel):
    """Biased matrix factorization by alternating least squares (``numpy-als``).

    ``r̂ = μ + b_u + b_i + p_u · q_i`` on the same objective as ``numpy-sgd`` —
    ``Σ (r - r̂)² + λ Σ_u n_u(‖p_u‖² + b_u²) + λ Σ_i n_i(‖q_i‖² + b_i²)``, which is what
    per-example L2 sums to — minimised exactly over all users' ``(p_u, b_u)`` with the items
    fixed, then over all items' ``(q_i, b_i)`` (Zhou et al. 2008; Koren, Bell & Volinsky
    2009). Each half-step is a global minimum over its block, so the objective
    (``loss_history_``, divided by the number of ratings) never increases.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        Alternations (one epoch = a user step and an item step).
    l2 : float
        λ.
    init_std : float
        Item factors start ~ N(0, init_std²) (users are solved first).
    backend, n_threads, seed
        CPU; BLAS threads; seed of the initialisation.
    """

    name = "numpy-als"
    method = "als"
    requirements = (Requirement("numpy"),)

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 10,
        l2: float = 0.1,
        init_std: float = 0.1,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.init_std = init_std
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        by_user = train.to_csr().astype(np.float64)
        by_user.data -= train.rating.mean(dtype=np.float64)  # r - μ
        return by_user, by_user.T.tocsr()

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        rng = np.random.default_rng(self.seed)
        by_user, by_item = self._inputs(train)
        # Augmented rows: a user is [p_u, b_u], an item [q_i, b_i].
        items = np.zeros((train.n_items, self.factors + 1))
        items[:, :-1] = rng.normal(0, self.init_std, (train.n_items, self.factors))
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            users = solve_rows(_residuals(by_user, items[:, -1]), _as_features(items), self.l2)
            items = solve_rows(_residuals(by_item, users[:, -1]), _as_features(users), self.l2)
            self._store(users, items)
            loss = self.objective(train) / len(train)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(train), on_epoch)

    def _store(self, users: np.ndarray, items: np.ndarray) -> None:
        self.user_factors_, self.user_bias_ = users[:, :-1], users[:, -1]
        self.item_factors_, self.item_bias_ = items[:, :-1], items[:, -1]

    def objective(self, train: Ratings) -> float:
        """The training objective (sum of squared errors plus the weighted L2 penalty)."""
        error = train.rating - self._predict(train.user, train.item)
        n_user = np.bincount(train.user, minlength=train.n_users)
        n_item = np.bincount(train.item, minlength=train.n_items)
        user_norms = (self.user_factors_**2).sum(1) + self.user_bias_**2
        item_norms = (self.item_factors_**2).sum(1) + self.item_bias_**2
        return float(error @ error + self.l2 * (n_user @ user_norms + n_item @ item_norms))


def _residuals(matrix: sp.csr_matrix, column_bias: np.ndarray) -> sp.csr_matrix:
    """Targets of a half-step: each stored ``r - μ`` less its column's (fixed) bias."""
    residual = matrix.copy()
    residual.data -= column_bias[residual.indices]
    return residual


def _as_features(rows: np.ndarray) -> np.ndarray:
    """``[factors, bias]`` rows as regressors ``[factors, 1]``: the bias column multiplies 1."""
    features = rows.copy()
    features[:, -1] = 1.0
    return features
