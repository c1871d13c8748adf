"""Explicit biased ALS in PyTorch (``torch-als``): ``numpy-als``'s model, solved on the device."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, ModelFitError
from suite.models.torch.base import TorchContender


@dataclass(frozen=True)
class Side:
    """The ratings as one side's half-step reads them: rows = the side being solved."""

    pattern: torch.Tensor  # sparse CSR of ones, rows × columns
    centred: torch.Tensor  # r - μ of each stored rating, in the pattern's order
    crow: torch.Tensor
    columns: torch.Tensor  # the column of each stored rating
    counts: torch.Tensor  # ratings per row (float)


def _side(matrix: sp.csr_matrix, device: str) -> Side:
    crow = torch.from_numpy(matrix.indptr.astype(np.int64)).to(device)
    columns = torch.from_numpy(matrix.indices.astype(np.int64)).to(device)
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.filterwarnings("ignore", "Sparse", UserWarning)
        pattern = torch.sparse_csr_tensor(
            crow, columns, torch.ones(matrix.nnz, device=device), size=matrix.shape
        )
    centred = torch.from_numpy(matrix.data.astype(np.float32)).to(device)
    counts = torch.from_numpy(np.diff(matrix.indptr).astype(np.float32)).to(device)
    return Side(pattern, centred, crow, columns, counts)


def half_step(
    side: Side, fixed: torch.Tensor, start: torch.Tensor, l2: float, steps: int
) -> torch.Tensor:
    """One ALS half-step over ``side``'s rows by ``steps`` warm-started CG steps per row.

    A row is ``[p, b]`` and a column ``[q, b']``: with the columns fixed, row ``u`` minimises
    ``Σ_j (r_uj - μ - b'_j - [q_j, 1]·[p_u, b_u])² + λ n_u ‖[p_u, b_u]‖²``, the ridge system
    ``(F_uᵀF_u + λ n_u I) x = F_uᵀ t_u`` with features ``F = [Q, 1]`` and targets
    ``t = r - μ - b'`` (``numpy_als.solve_rows``'s system). Its product with a vector needs
    ``F_uᵀ(F_u p)`` only: a sampled dense product on the rated cells (``sampled_addmm``)
    times ``F``, so no system is formed per row (Takács, Pilászy & Tikk, RecSys 2011, for
    ALS's systems by conjugate gradient). Rows without a rating get zeros.
    """
    features = torch.cat([fixed[:, :-1], fixed.new_ones(len(fixed), 1)], dim=1)
    targets = torch.sparse_csr_tensor(
        side.crow, side.columns, side.centred - fixed[side.columns, -1], size=side.pattern.shape
    )
    transposed = features.T.contiguous()
    weights = l2 * side.counts[:, None]

    def product(vectors: torch.Tensor) -> torch.Tensor:
        along = torch.sparse.sampled_addmm(side.pattern, vectors, transposed, beta=0.0)
        return along @ features + weights * vectors

    rated = (side.counts > 0)[:, None]
    x = start * rated
    residual = targets @ features - product(x)
    direction = residual.clone()
    norms = (residual * residual).sum(1)
    for _ in range(steps):
        applied = product(direction)
        curvature = (direction * applied).sum(1)
        step = torch.where(curvature > 0, norms / curvature, torch.zeros_like(norms))
        x = x + step[:, None] * direction
        residual = residual - step[:, None] * applied
        new_norms = (residual * residual).sum(1)
        ratio = torch.where(norms > 0, new_norms / norms, torch.zeros_like(norms))
        direction = residual + ratio[:, None] * direction
        norms = new_norms
    return x * rated


class TorchALS(TorchContender):
    """Biased matrix factorization by alternating least squares, in PyTorch (``torch-als``).

    ``numpy-als``'s model and objective — ``r̂ = μ + b_u + b_i + p_u · q_i`` on
    ``Σ (r - r̂)² + λ Σ_u n_u(‖p_u‖² + b_u²) + λ Σ_i n_i(‖q_i‖² + b_i²)`` (weighted-λ, Zhou et
    al., "Large-scale Parallel Collaborative Filtering for the Netflix Prize", AAIM 2008) —
    alternating between all users' ``[p_u, b_u]`` and all items' ``[q_i, b_i]``, each
    half-step ``cg_steps`` conjugate-gradient steps per row warm-started from the last sweep
    (``half_step``): the post's "ALS is an elegant and more efficient method than SGD", in a
    deep learning framework, on any device. With enough steps each half-step is
    ``numpy-als``'s exact solve; with a few, every half-step still lowers the objective.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        Sweeps (a user step, then an item step).
    l2 : float
        λ, weighted by each row's number of ratings.
    init_std : float
        Item factors start ~ N(0, init_std²), seeded (users are solved first).
    cg_steps : int
        Conjugate-gradient steps per row and half-step.
    backend : {"cpu", "cuda"}
        Device.
    n_threads : int, optional
        CPU threads.
    seed : int
        Seeds the initialisation (a ``torch.Generator`` on the CPU).
    """

    name = "torch-als"
    contests = (Contest.RATING,)
    backends = ("cpu", "cuda")
    same_model_as = "numpy-als"  # the same model and objective, solved exactly in numpy
    method = "als"
    hyperparameter_specs: ClassVar = {
        "l2": Hyperparameter(float, low=0, low_open=True, search=(1e-3, 1.0), log=True),
        "epochs": Hyperparameter(int, low=1, search=(2, 50), log=True),
        "cg_steps": Hyperparameter(int, low=1, search=(1, 8)),
    }

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 10,
        l2: float = 0.1,
        init_std: float = 0.1,
        cg_steps: int = 3,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.init_std = init_std
        self.cg_steps = cg_steps
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> tuple[Side, Side, torch.Tensor]:
        by_user = train.to_csr().astype(np.float64)
        by_user.data -= train.rating.mean(dtype=np.float64)  # r - μ
        by_user.sort_indices()
        by_item = by_user.T.tocsr()
        by_item.sort_indices()
        rows = np.repeat(np.arange(train.n_users), np.diff(by_user.indptr))
        return (
            _side(by_user, self.backend),
            _side(by_item, self.backend),
            torch.from_numpy(rows.astype(np.int64)).to(self.backend),
        )

    def warm_up(self) -> None:
        """Create the device context and run the kernels once on a tiny problem."""
        tiny = _side(sp.identity(3, format="csr"), self.backend)
        fixed = torch.ones(3, 3, device=self.backend)
        half_step(tiny, fixed, torch.zeros(3, 3, device=self.backend), l2=1.0, steps=1)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        users_side, items_side, rows = self._inputs(train)
        generator = torch.Generator().manual_seed(self.seed)
        items = torch.zeros(train.n_items, self.factors + 1)
        items[:, :-1].normal_(0.0, self.init_std, generator=generator)
        items = items.to(self.backend)
        users = items.new_zeros(train.n_users, self.factors + 1)
        self.loss_history_: list[float] = []
        for epoch in range(1, self.epochs + 1):
            users = half_step(users_side, items, users, self.l2, self.cg_steps)
            items = half_step(items_side, users, items, self.l2, self.cg_steps)
            loss = self._objective(users_side, rows, users, items) / len(train)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._store(users, items)
            self._epoch_done(epoch, len(train), on_epoch)

    def _store(self, users: torch.Tensor, items: torch.Tensor) -> None:
        """The learned state as numpy views (copies from a GPU) of ``[factors, bias]`` rows."""
        users, items = users.cpu().numpy(), items.cpu().numpy()
        self.user_factors_, self.user_bias_ = users[:, :-1], users[:, -1]
        self.item_factors_, self.item_bias_ = items[:, :-1], items[:, -1]

    def _objective(
        self, side: Side, rows: torch.Tensor, users: torch.Tensor, items: torch.Tensor
    ) -> float:
        """The training objective: squared errors plus the weighted penalty (float64 sums)."""
        dot = torch.sparse.sampled_addmm(
            side.pattern, users[:, :-1], items[:, :-1].T.contiguous(), beta=0.0
        ).values()
        error = side.centred - users[rows, -1] - items[side.columns, -1] - dot
        n_item = torch.bincount(side.columns, minlength=len(items)).double()
        penalty = side.counts.double() @ (users.double() ** 2).sum(1)
        penalty += n_item @ (items.double() ** 2).sum(1)
        total = float((error.double() ** 2).sum() + self.l2 * penalty)
        if not np.isfinite(total):
            raise ModelFitError(f"{self.name}: the objective became {total}")
        return total

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items] + dot

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T + self.item_bias_
        return scores + (self.global_mean_ + self.user_bias_[users])[:, None]

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_]
