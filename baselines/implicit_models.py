"""The ``implicit`` library's factorizations (ALS, BPR, logistic MF) on the positive ratings.

Each adapter hands implicit the users × items matrix of ``suite.data.feedback.positives``
(a rating at least the data set's threshold is a positive, nothing else is), so that every
ranking contender learns from the signal the ranking metrics judge it on, and scores items by
``user_factors @ item_factors.T``, the very scores implicit's ``recommend`` ranks by (BPR and
LMF keep their biases as extra factor columns; see each class).
"""

from __future__ import annotations

import importlib.util
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from suite.data.feedback import positive_threshold, positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement
from suite.threads import resolve_threads


class _ImplicitModel(Model):
    """What the implicit adapters share: input, threads, per-epoch callback and scoring.

    A subclass builds the library's model in ``_library_model`` and may turn the positives
    into its input in ``_signal``. implicit calls back after every epoch (ALS: every sweep);
    the factors are copied then only when the caller asked for ``on_epoch``.
    """

    backends: ClassVar[tuple[str, ...]] = ("cpu", "cuda")
    contests = (Contest.RANKING,)
    requirements = (Requirement("implicit"),)
    #: The implicit module of the model, imported before BLAS is limited (it loads a BLAS).
    library: ClassVar[str]

    factors: int
    epochs: int

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        ok, reason = super().available(backend)
        if not ok:
            return ok, reason
        if backend == "cuda":
            import implicit.gpu

            if not implicit.gpu.HAS_CUDA:
                return False, "implicit was built without CUDA (its PyPI wheel is CPU-only)"
        return True, ""

    @abstractmethod
    def _library_model(self) -> Any:
        """A new, unfitted implicit model with this adapter's settings."""

    def _signal(self, liked: sp.csr_matrix) -> sp.csr_matrix:
        """The matrix implicit trains on, from the positives (default: them, as 1s)."""
        return liked

    def _num_threads(self) -> int:
        return resolve_threads(self.n_threads)

    def _prepare(self, train: Ratings) -> sp.csr_matrix:
        liked = positives(train)
        if not liked.nnz:
            raise InputError(
                f"{self.name}: no positive training rating (none >= {positive_threshold(train):g})"
            )
        return self._signal(liked)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        user_items = self._inputs(train)
        importlib.import_module(self.library)  # its BLAS must be loaded to be limited
        with threadpool_limits(limits=1, user_api="blas"):  # implicit's advice
            self.model_ = self._library_model()

            def after_epoch(epoch: int, *_progress: Any) -> None:
                if self.backend == "cpu" and not np.isfinite(self.model_.item_factors).all():
                    self._check_loss(epoch + 1, float("nan"))
                if on_epoch is not None:
                    self._copy_factors()
                self._epoch_done(epoch + 1, user_items.nnz, on_epoch)

            self.model_.fit(user_items, show_progress=False, callback=after_epoch)
        self._copy_factors()

    def _copy_factors(self) -> None:
        model = self.model_.to_cpu() if self.backend == "cuda" else self.model_
        self.user_factors_ = np.array(model.user_factors)
        self.item_factors_ = np.array(model.item_factors)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_]


class ImplicitALS(_ImplicitModel):
    """Implicit-feedback ALS from the ``implicit`` library (``implicit-als``), a ranking model.

    Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM
    2008), solved by conjugate gradient (Takács, Pilászy & Tikk, RecSys 2011) in implicit's
    compiled code. The preference ``p_ui`` is binary: 1 for a positive
    (``suite.data.feedback``), with confidence ``c_ui = 1 + alpha``; 0 for every other pair,
    rated lower or unrated, with confidence 1 — the paper's eq. 6 with a 0/1 observation, as
    in Rendle et al., "Revisiting the Performance of iALS on Item Recommendation Benchmarks"
    (RecSys 2022). It learns *which* items a user likes, not the rating, so it predicts no
    ratings.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        ALS sweeps, each a user and an item step (implicit's ``iterations``).
    l2 : float
        L2 penalty λ on the factors (implicit's ``regularization``), not scaled by counts.
    alpha : float
        Extra confidence of a positive over an unobserved pair.
    backend : {"cpu", "cuda"}
        ``cuda`` needs an implicit build with CUDA.
    n_threads : int, optional
        implicit's ``num_threads`` (BLAS is held at one thread, as implicit advises).
    seed : int
        implicit's ``random_state`` (factor initialisation); results are deterministic.

    The defaults are ``torch-ials``'s, the same model: 64 factors, 15 sweeps, ``l2=25``,
    ``alpha=2`` (picked on ML-100K): implicit's own ``regularization=0.01`` barely
    regularises 64 factors, which then rank below popularity on small planted sets
    (``tests/test_defaults_at_scale.py`` holds the defaults to popularity at several sizes).
    """

    name = "implicit-als"
    method = "als"
    library = "implicit.als"
    hyperparameter_specs: ClassVar = {
        # Confidence-weighted ALS penalises on another scale than SGD: tens, not tenths.
        "l2": Hyperparameter(float, low=0, search=(0.01, 1000.0), log=True),
        "alpha": Hyperparameter(float, low=0, search=(0.1, 100.0), log=True),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 15,
        l2: float = 25.0,
        alpha: float = 2.0,
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

    def _signal(self, liked: sp.csr_matrix) -> sp.csr_matrix:
        liked.data[:] = 1.0 + self.alpha  # implicit reads each stored value as c_ui
        return liked

    def _library_model(self) -> Any:
        from implicit.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.l2,
            alpha=1.0,  # the confidence above already holds alpha
            iterations=self.epochs,
            use_gpu=self.backend == "cuda",
            num_threads=self._num_threads(),
            random_state=self.seed,
        )


class ImplicitBPR(_ImplicitModel):
    """Bayesian Personalized Ranking from the ``implicit`` library (``implicit-bpr``).

    Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from
    Implicit Feedback" (UAI 2009): SGD on ``ln σ(x_ui − x_uj)`` for a positive ``i`` of user
    ``u`` and a sampled item ``j``, with ``x_ui = p_u · q_i + b_i``. implicit samples
    ``(u, i)`` and ``j`` uniformly from the positive pairs, so negatives are drawn in
    proportion to item popularity (implicit issue #255). An epoch is as many samples as there
    are positives; with ``n_threads > 1`` they run Hogwild-style and runs are not bit-for-bit
    repeatable.

    implicit keeps ``b_i`` as the last column of its item factors and a constant 1 as the last
    column of its user factors, so ``user_factors @ item_factors.T`` is exactly ``x_ui``,
    what its ``recommend`` ranks by, and what ``score_items`` returns.

    Parameters
    ----------
    factors : int
        Latent dimension (without the bias column).
    epochs : int
        SGD epochs (implicit's ``iterations``).
    lr : float
        SGD step (implicit's ``learning_rate``), constant.
    l2 : float
        L2 penalty on the factors and item biases (implicit's ``regularization``), applied in
        each update to the vectors it touches.
    verify_negative_samples : bool
        Skip a sample whose ``j`` is a positive of ``u`` (slower, usually better).
    backend : {"cpu", "cuda"}
        ``cuda`` needs an implicit build with CUDA.
    n_threads : int, optional
        implicit's ``num_threads``.
    seed : int
        implicit's ``random_state`` (initialisation and the samplers' seeds).
    """

    name = "implicit-bpr"
    method = "sgd"
    library = "implicit.bpr"
    hyperparameter_specs: ClassVar = {"verify_negative_samples": Hyperparameter(bool)}

    def __init__(
        self,
        *,
        factors: int = 100,
        epochs: int = 100,
        lr: float = 0.01,
        l2: float = 0.01,
        verify_negative_samples: bool = True,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.verify_negative_samples = verify_negative_samples
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _library_model(self) -> Any:
        from implicit.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.lr,
            regularization=self.l2,
            iterations=self.epochs,
            use_gpu=self.backend == "cuda",
            num_threads=self._num_threads(),
            verify_negative_samples=self.verify_negative_samples,
            random_state=self.seed,
        )


class ImplicitLMF(_ImplicitModel):
    """Logistic matrix factorization from the ``implicit`` library (``implicit-lmf``).

    Johnson, "Logistic Matrix Factorization for Implicit Feedback Data" (NIPS 2014 Workshop on
    Distributed Machine Learning and Matrix Computations): ``P(l_ui) = σ(x_u · y_i + β_u +
    β_i)``, fitted by alternating AdaGrad steps on the users and the items, with sampled
    items as the negatives. implicit samples them from the positive pairs (in proportion to
    popularity, without checking that they are not positives of the user), and implicit
    0.7.3 draws at most ``factors + 2`` of them per user (per item in the item step) and
    epoch, whatever ``neg_prop`` (its ``lmf_update`` reads the item count from the factor
    width; implicit issue #745), so ``neg_prop`` matters only for users and items with fewer
    than ``(factors + 2) / neg_prop`` positives. The paper's confidence ``alpha · r_ui`` is 1: the
    positives are binary. CPU only (implicit has no GPU version).

    implicit stores ``[x_u, 1, β_u]`` and ``[y_i, β_i, 1]``, so ``user_factors @
    item_factors.T`` is the logit, what its ``recommend`` ranks by and what ``score_items``
    returns.

    Parameters
    ----------
    factors : int
        Latent dimension (without the two bias columns).
    epochs : int
        Alternations of a user and an item step (implicit's ``iterations``).
    lr : float
        AdaGrad step (implicit's ``learning_rate``).
    l2 : float
        L2 penalty on the factors and biases (implicit's ``regularization``).
    neg_prop : int
        Negatives sampled per positive (capped as above).
    backend : {"cpu"}
        CPU only.
    n_threads : int, optional
        implicit's ``num_threads``; with more than one, runs are not bit-for-bit repeatable.
    seed : int
        implicit's ``random_state`` (initialisation and the samplers' seeds).
    """

    name = "implicit-lmf"
    method = "sgd"
    library = "implicit.lmf"
    backends: ClassVar[tuple[str, ...]] = ("cpu",)
    hyperparameter_specs: ClassVar = {
        "neg_prop": Hyperparameter(int, low=1),
        # implicit's default step is 1.0 (AdaGrad), the top of the shared lr range
        "lr": Hyperparameter(float, low=0, low_open=True, search=(1e-4, 10.0), log=True),
    }

    def __init__(
        self,
        *,
        factors: int = 30,
        epochs: int = 30,
        lr: float = 1.0,
        l2: float = 0.6,
        neg_prop: int = 30,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.neg_prop = neg_prop
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _library_model(self) -> Any:
        from implicit.lmf import LogisticMatrixFactorization

        return LogisticMatrixFactorization(
            factors=self.factors,
            learning_rate=self.lr,
            regularization=self.l2,
            iterations=self.epochs,
            neg_prop=self.neg_prop,
            num_threads=self._num_threads(),
            random_state=self.seed,
        )
