"""Bayesian probabilistic matrix factorization in PyTorch (``torch-bpmf``), by Gibbs sampling."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, ModelFitError
from suite.models.torch.base import TorchContender

#: Factor entries gathered at once when predicting pairs (every kept sample's columns for
#: each pair of a block): the memory of prediction stays bounded whatever the test set.
GATHERED_ENTRIES = 1 << 22


@dataclass(frozen=True)
class _Ratings:
    """The training ratings as the sampler reads them: CSR matrices by user and by item."""

    mean: float
    user_rated: torch.Tensor  # n_users × n_items, 1 where rated
    user_residual: torch.Tensor  # rating - mean where rated
    item_rated: torch.Tensor  # the transposes
    item_residual: torch.Tensor


def _csr(rows: torch.Tensor, columns: torch.Tensor, values: torch.Tensor, shape) -> torch.Tensor:
    """A sparse CSR matrix of ``values`` at ``(rows, columns)`` (duplicates summed).

    CSR, not COO: PyTorch multiplies a CSR matrix with a dense one faster than a COO one.
    """
    indices = torch.stack((rows, columns))
    coo = torch.sparse_coo_tensor(indices, values, shape, check_invariants=True).coalesce()
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.filterwarnings("ignore", "Sparse CSR", UserWarning)
        return coo.to_sparse_csr()


class TorchBPMF(TorchContender):
    """Bayesian probabilistic matrix factorization by Gibbs sampling (``torch-bpmf``).

    The model of Salakhutdinov & Mnih, "Bayesian Probabilistic Matrix Factorization using
    Markov Chain Monte Carlo" (ICML 2008): ``r_ui ~ N(μ + x_u · y_i, 1 / alpha)`` with ``μ``
    the training mean; user factors ``x_u ~ N(μ_X, Λ_X⁻¹)``, item factors likewise, and on
    each ``(μ, Λ)`` a Gaussian–Wishart prior (``μ₀ = 0``, ``β₀ = 2``, ``W₀ = I``, ``ν₀ = k``,
    as in the paper). Nothing is tuned by a learning rate or a penalty: the priors are learned
    from the factors, and the prediction is the average over the posterior samples,
    ``μ + (1/S) Σ_s x_u^s · y_i^s``, which is what beats the point estimates of SGD and ALS.

    One epoch is one Gibbs sweep: user hyperparameters given the user factors, every user's
    factors given the items' (all users at once: their ``k × k`` precisions summed from the
    outer products of the items they rated, then batched Cholesky), and the same for items.
    The sweeps after ``burn_in`` join the average. The samples are kept side by side, so
    predicting and ranking stay matrix products of ``S · k`` columns.

    Parameters
    ----------
    factors : int
        Latent dimension ``k``.
    epochs : int
        Gibbs sweeps.
    burn_in : int
        Sweeps left out of the average (the chain's start); before the first sample is kept,
        the model predicts from the current sweep alone.
    alpha : float
        Precision of the ratings' noise (the paper's 2: a standard deviation of 0.71).
    init_std : float
        The chain starts from factors ~ N(0, init_std²).
    backend : {"cpu", "cuda"}
        Device.
    n_threads : int, optional
        CPU threads (torch intra-op).
    seed : int
        Seeds every draw (a ``torch.Generator`` on the CPU; no global RNG).
    """

    name = "torch-bpmf"
    method = "gibbs"
    contests = (Contest.RATING,)
    backends = ("cpu", "cuda")
    hyperparameter_specs: ClassVar = {
        "factors": Hyperparameter(int, low=1, search=(4, 128), log=True),
        "burn_in": Hyperparameter(int, low=0),
        "alpha": Hyperparameter(float, low=0, low_open=True, search=(0.5, 8.0), log=True),
        "init_std": Hyperparameter(float, low=0, low_open=True),
    }

    def __init__(
        self,
        *,
        factors: int = 10,
        epochs: int = 100,
        burn_in: int = 10,
        alpha: float = 2.0,
        init_std: float = 0.1,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.burn_in = burn_in
        self.alpha = alpha
        self.init_std = init_std
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> _Ratings:
        users, items, ratings = train.to_torch(self.backend)
        mean = float(ratings.double().mean())
        residual = ratings.double() - mean
        ones = torch.ones_like(residual)
        shape = (train.n_users, train.n_items)
        return _Ratings(
            mean,
            _csr(users, items, ones, shape),
            _csr(users, items, residual, shape),
            _csr(items, users, ones, shape[::-1]),
            _csr(items, users, residual, shape[::-1]),
        )

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        data = self._inputs(train)
        self.mean_ = data.mean
        self._generator = torch.Generator().manual_seed(self.seed)
        k = self.factors
        self.user_factors_ = self._normal((train.n_users, k)) * self.init_std
        self.item_factors_ = self._normal((train.n_items, k)) * self.init_std
        kept = max(self.epochs - self.burn_in, 0)
        self.user_samples_ = self.user_factors_.new_zeros(train.n_users, kept * k)
        self.item_samples_ = self.item_factors_.new_zeros(train.n_items, kept * k)
        self.n_samples_ = 0
        for epoch in range(1, self.epochs + 1):
            self.user_factors_ = self._sample_rows(
                self.user_factors_, self.item_factors_, data.user_rated, data.user_residual
            )
            self.item_factors_ = self._sample_rows(
                self.item_factors_, self.user_factors_, data.item_rated, data.item_residual
            )
            if epoch > self.burn_in:
                columns = slice(self.n_samples_ * k, (self.n_samples_ + 1) * k)
                self.user_samples_[:, columns] = self.user_factors_
                self.item_samples_[:, columns] = self.item_factors_
                self.n_samples_ += 1
            self._epoch_done(epoch, len(train), on_epoch)

    def _normal(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Standard normal draws from the model's generator, on its device, float64."""
        draws = torch.randn(shape, generator=self._generator, dtype=torch.float64)
        return draws.to(self.backend)

    def _sample_rows(
        self, own: torch.Tensor, other: torch.Tensor, rated: torch.Tensor, residual: torch.Tensor
    ) -> torch.Tensor:
        """A Gibbs draw of every row of ``own`` (users or items) given ``other``: the rows'
        prior ``(μ, Λ)`` given ``own``, then each row from its posterior (``row_posteriors``)."""
        prior_mean, prior_precision = self._sample_prior(own)
        return self._draw(
            *row_posteriors(prior_mean, prior_precision, other, rated, residual, self.alpha)
        )

    def _sample_prior(self, factors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, Λ)`` from their Gaussian–Wishart posterior given ``factors`` (one per row).

        With ``β₀ = 2``, ``ν₀ = k``, ``W₀ = I``, ``μ₀ = 0``: ``Λ ~ Wishart(W*, ν₀ + n)`` with
        ``W*⁻¹ = I + n S + β₀ n / (β₀ + n) · x̄ x̄ᵀ`` (``S`` the rows' covariance), drawn
        exactly as ``Σ z zᵀ`` over ``ν₀ + n`` draws ``z ~ N(0, W*)``; then
        ``μ ~ N(n x̄ / (β₀ + n), ((β₀ + n) Λ)⁻¹)``.
        """
        n, k = factors.shape
        beta0 = 2.0
        average = factors.mean(0)
        centred = factors - average
        eye = torch.eye(k, dtype=factors.dtype, device=factors.device)
        scale_inverse = (
            eye + centred.T @ centred + (beta0 * n / (beta0 + n)) * torch.outer(average, average)
        )
        scale = torch.cholesky_inverse(torch.linalg.cholesky(scale_inverse))
        z = self._normal((k + n, k)) @ torch.linalg.cholesky(scale).T
        precision = z.T @ z
        mean = self._draw((beta0 + n) * precision, precision @ (n * average))
        return mean, precision

    def _draw(self, precision: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``x ~ N(P⁻¹ b, P⁻¹)`` for a precision ``P`` and ``b`` (or a batch of them): with
        ``P = L Lᵀ``, ``x = P⁻¹ b + L⁻ᵀ z``, whose covariance is ``(L Lᵀ)⁻¹``."""
        try:
            lower = torch.linalg.cholesky(precision)
        except torch.linalg.LinAlgError as exc:
            raise ModelFitError(
                f"{self.name}: a posterior precision is not positive definite in epoch "
                f"{self.epochs_run_ + 1} (params {self.params()})"
            ) from exc
        mean = torch.cholesky_solve(target.unsqueeze(-1), lower)
        noise = torch.linalg.solve_triangular(
            lower.mT, self._normal((*target.shape, 1)), upper=True
        )
        return (mean + noise).squeeze(-1)

    def _averaged(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The factors predictions come from: the kept samples side by side (and their
        count), or the current sweep's before any is kept."""
        if self.n_samples_ == 0:
            return self.user_factors_, self.item_factors_, 1
        width = self.n_samples_ * self.factors
        return self.user_samples_[:, :width], self.item_samples_[:, :width], self.n_samples_

    @torch.no_grad()
    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        user_side, item_side, count = self._averaged()
        user = torch.from_numpy(users).to(self.backend)
        item = torch.from_numpy(items).to(self.backend)
        dots = user_side.new_empty(len(user))
        step = max(1, GATHERED_ENTRIES // user_side.shape[1])  # pairs per gathered block
        for start in range(0, len(user), step):
            pairs = slice(start, start + step)
            dots[pairs] = (user_side[user[pairs]] * item_side[item[pairs]]).sum(1)
        return (dots / count + self.mean_).float().cpu().numpy()

    @torch.no_grad()
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        user_side, item_side, count = self._averaged()
        chosen = user_side[torch.from_numpy(users).to(self.backend)]
        return (chosen @ item_side.T / count + self.mean_).float().cpu().numpy()

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_.cpu().numpy(), self.item_factors_.cpu().numpy()]


def row_posteriors(
    prior_mean: torch.Tensor,
    prior_precision: torch.Tensor,
    other: torch.Tensor,
    rated: torch.Tensor,
    residual: torch.Tensor,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's Gaussian posterior as ``(P, b)``, ``P`` its precision and ``P⁻¹ b`` its mean.

    ``P = Λ + alpha Σ y yᵀ`` and ``b = alpha Σ r y + Λ μ`` over the row's ratings ``r``
    (minus the training mean) of the other side's rows ``y``. ``y yᵀ`` depends on the other
    side's row only, so every row's ``Σ y yᵀ`` is one sparse product: ``rated`` (1 where a
    rating is) times the flattened outer products of ``other``'s rows.
    """
    n, k = rated.shape[0], other.shape[1]
    outer = (other.unsqueeze(2) * other.unsqueeze(1)).reshape(len(other), k * k)
    precision = (rated @ outer).reshape(n, k, k).mul_(alpha).add_(prior_precision)
    target = (residual @ other).mul_(alpha).add_(prior_precision @ prior_mean)
    return precision, target
