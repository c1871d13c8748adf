"""implicit's AlternatingLeastSquares (CPU, or CUDA when implicit was built with it)."""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model


class ImplicitALS(Model):
    """Implicit-feedback ALS from the ``implicit`` library (``implicit-als``), a ranking model.

    Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM
    2008), solved by conjugate gradient (Takács, Pilászy & Tikk, RecSys 2011) in implicit's
    compiled code. Every rated pair is a positive with confidence ``c = 1 + alpha · rating``
    (the paper's eq. 6, with the rating as the observation count); unrated pairs are
    negatives with confidence 1. It learns *which* items a user rates, not the rating, so it
    predicts no ratings.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        ALS sweeps (implicit's ``iterations``).
    l2 : float
        L2 penalty λ on the factors (implicit's ``regularization``).
    alpha : float
        Confidence per rating point.
    backend : {"cpu", "cuda"}
        ``cuda`` needs an implicit build with CUDA.
    n_threads : int, optional
        implicit's ``num_threads`` (BLAS is held at one thread, as implicit advises).
    seed : int
        implicit's ``random_state`` (factor initialisation); results are deterministic.
    """

    name = "implicit-als"
    backends = ("cpu", "cuda")
    contests = (Contest.RANKING,)
    hyperparameter_specs: ClassVar = {"alpha": Hyperparameter(float, low=0)}

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 15,
        l2: float = 0.05,
        alpha: float = 1.0,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.alpha = alpha
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        ok, reason = super().available(backend)
        if not ok:
            return ok, reason
        if importlib.util.find_spec("implicit") is None:
            return False, "implicit is not installed (pip install implicit)"
        if backend == "cuda":
            import implicit.gpu

            if not implicit.gpu.HAS_CUDA:
                return False, "implicit was built without CUDA (its PyPI wheel is CPU-only)"
        return True, ""

    def _prepare(self, train: Ratings) -> sp.csr_matrix:
        confidence = train.to_csr()
        confidence.data = 1.0 + self.alpha * confidence.data
        return confidence

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        from implicit.als import AlternatingLeastSquares

        confidence = self._inputs(train)
        with threadpool_limits(limits=1, user_api="blas"):
            self.model_ = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.l2,
                alpha=1.0,  # the confidence above already holds alpha
                iterations=self.epochs,
                use_gpu=self.backend == "cuda",
                num_threads=self.n_threads or 0,
                random_state=self.seed,
            )

            def after_iteration(iteration: int, _elapsed: float, _loss: float | None) -> None:
                if on_epoch is not None:
                    self._copy_factors()
                self._epoch_done(iteration + 1, len(train), on_epoch)

            self.model_.fit(confidence, show_progress=False, callback=after_iteration)
        self._copy_factors()

    def _copy_factors(self) -> None:
        model = self.model_
        if self.backend == "cuda":
            model = model.to_cpu()
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_]
