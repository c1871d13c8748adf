"""iALS in PyTorch (``torch-ials``): implicit's model, solved by batched Cholesky on any device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch

from suite.data import feedback
from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, ModelFitError
from suite.models.torch import wmf
from suite.models.torch.base import TorchContender


@dataclass(frozen=True)
class Positives:
    """The positives on the device, as the solver and the objective read them."""

    by_user: list[wmf.RowBatch]  # for the Cholesky solver
    by_item: list[wmf.RowBatch]
    user_pairs: wmf.Pairs  # for the conjugate-gradient solver and the objective
    item_pairs: wmf.Pairs | None
    nnz: int


class TorchIALS(TorchContender):
    """Weighted matrix factorization of implicit feedback by exact ALS (``torch-ials``).

    The model of Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback
    Datasets" (ICDM 2008), as implicit's ``AlternatingLeastSquares`` fits it: with
    ``p_ui = 1`` at a positive (``suite.data.feedback.positives``) and 0 elsewhere, and
    confidence ``c_ui = 1 + alpha`` at a positive and 1 elsewhere, it minimises
    ``Σ_(u,i) c_ui (p_ui - x_u·y_i)² + l2 (Σ‖x_u‖² + Σ‖y_i‖²)`` over all pairs
    (``suite.models.torch.wmf``). Each half-step solves every user's (then item's) normal
    equations exactly with the Gramian trick — ``YᵀY`` once, plus ``alpha·Y_IuᵀY_Iu`` over
    the user's positives — by batched Cholesky in PyTorch, so it runs on CUDA too; Rendle et
    al., "Revisiting the Performance of iALS on Item Recommendation Benchmarks" (RecSys 2022)
    show that this model, well tuned, ranks with the best. By default each half-step is
    ``cg_steps`` conjugate-gradient steps per row warm-started from the last sweep, as
    implicit solves (Takács, Pilászy & Tikk, RecSys 2011; ``suite.models.torch.wmf.cg_rows``); with
    ``solver="cholesky"`` it solves every system exactly (implicit's ``use_cg=False``). Either
    way the objective (``loss_history_``) does not increase.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        ALS sweeps: a user step, then an item step.
    l2 : float
        L2 penalty on all factors, unscaled (implicit's ``regularization``); > 0, so that
        every system is positive definite.
    alpha : float
        Extra confidence of a positive: ``c = 1 + alpha`` (0: every pair weighs the same).
    init_std : float
        Item factors start ~ N(0, init_std²), seeded (users are solved first, so their start
        does not matter). implicit draws uniform [0, 0.01); an exact first step forgets the
        scale of either.
    solver : {"cg", "cholesky"}
        Conjugate gradient (a few steps, warm-started) or exact batched Cholesky.
    cg_steps : int
        Conjugate-gradient steps per row and half-step (implicit's default: 3).
    batch_size : int
        Rows per batched solve, at most (performance only; a batch also stops before it
        gathers ``wmf.MAX_GATHERED_ROWS`` factor rows).
    backend : {"cpu", "cuda"}
        Device.
    n_threads : int, optional
        CPU threads (torch intra-op, BLAS).
    seed : int
        Seeds the initialisation (a ``torch.Generator`` on the CPU, so every device starts
        from the same factors).
    """

    name = "torch-ials"
    contests = (Contest.RANKING,)
    backends = ("cpu", "cuda")
    same_model_as = "implicit-als"  # the same iALS model, solved by implicit in C++
    method = "als"
    hyperparameter_specs: ClassVar = {
        "l2": Hyperparameter(float, low=0, low_open=True, search=(0.01, 1000.0), log=True),
        "alpha": Hyperparameter(float, low=0, search=(0.1, 100.0), log=True),
        "batch_size": Hyperparameter(int, low=1),
        "solver": Hyperparameter(str, choices=("cg", "cholesky")),
        "cg_steps": Hyperparameter(int, low=1),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 15,
        l2: float = 25.0,
        alpha: float = 2.0,
        init_std: float = 0.01,
        solver: str = "cg",
        cg_steps: int = 3,
        batch_size: int = 256,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.alpha = alpha
        self.init_std = init_std
        self.solver = solver
        self.cg_steps = cg_steps
        self.batch_size = batch_size
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> Positives:
        by_user = feedback.positives(train)
        exact = self.solver == "cholesky"
        by_item = by_user.T.tocsr()
        return Positives(
            by_user=wmf.plan_batches(by_user, self.batch_size, self.backend) if exact else [],
            by_item=wmf.plan_batches(by_item, self.batch_size, self.backend) if exact else [],
            user_pairs=wmf.pairs_of(by_user, self.backend),
            item_pairs=None if exact else wmf.pairs_of(by_item, self.backend),
            nnz=by_user.nnz,
        )

    def warm_up(self) -> None:
        """Create the device context and run the solver's kernels once on a tiny system."""
        fixed = torch.ones(3, 2, device=self.backend)
        columns = torch.zeros(2, 1, dtype=torch.int64, device=self.backend)
        wmf.solve_rows(fixed, [wmf.RowBatch(columns[:, 0], columns)], 2, alpha=1.0, l2=1.0)
        pairs = wmf.pairs_of(sp.identity(3, format="csr"), self.backend)
        wmf.cg_rows(fixed, pairs, fixed.new_zeros(3, 2), alpha=1.0, l2=1.0, steps=1)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        positives = self._inputs(train)
        generator = torch.Generator().manual_seed(self.seed)
        items = torch.empty(train.n_items, self.factors).normal_(
            0.0, self.init_std, generator=generator
        )
        self.item_factors_ = items.to(self.backend)
        self.user_factors_ = self.item_factors_.new_zeros(train.n_users, self.factors)
        self.loss_history_: list[float] = []
        for epoch in range(1, self.epochs + 1):
            self._sweep(positives, train)
            loss = wmf.pattern_objective(
                self.user_factors_, self.item_factors_, positives.user_pairs, self.alpha, self.l2
            )
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, positives.nnz, on_epoch)

    def _sweep(self, positives: Positives, train: Ratings) -> None:
        """One user step, then one item step."""
        if self.solver == "cg":
            self.user_factors_ = wmf.cg_rows(
                self.item_factors_,
                positives.user_pairs,
                self.user_factors_,
                self.alpha,
                self.l2,
                self.cg_steps,
            )
            self.item_factors_ = wmf.cg_rows(
                self.user_factors_,
                positives.item_pairs,
                self.item_factors_,
                self.alpha,
                self.l2,
                self.cg_steps,
            )
            return
        try:
            self.user_factors_ = wmf.solve_rows(
                self.item_factors_, positives.by_user, train.n_users, self.alpha, self.l2
            )
            self.item_factors_ = wmf.solve_rows(
                self.user_factors_, positives.by_item, train.n_items, self.alpha, self.l2
            )
        except wmf.NotPositiveDefinite as exc:
            raise ModelFitError(
                f"{self.name}: {exc} in epoch {self.epochs_run_ + 1} (params {self.params()}); "
                "try a larger l2"
            ) from exc

    @torch.no_grad()
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        chosen = self.user_factors_[torch.from_numpy(users).to(self.backend)]
        return (chosen @ self.item_factors_.T).float().cpu().numpy()

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_.cpu().numpy(), self.item_factors_.cpu().numpy()]
