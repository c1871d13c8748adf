"""LightFM with the WARP and BPR ranking losses, on the positive ratings."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from suite.data.features import side_matrix
from suite.data.feedback import positive_threshold, positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement
from suite.threads import resolve_threads


class _LightFM(Model):
    """LightFM (Kula, "Metadata Embeddings for User and Item Cold-start Recommendations",
    CBRecSys 2015) without side features: a factorization trained for ranking.

    It learns from ``suite.data.feedback.positives``: the ratings at least the data set's
    threshold (default 4, "liked" on a 1-5 scale, as in LightFM's own MovieLens example) are
    the interactions, the rest are dropped; the same threshold makes a test item relevant.
    Scores are ``p_u · q_i + b_i`` from LightFM's learned representations. Trained one epoch
    at a time with ``fit_partial`` so that convergence curves can be taken. With
    ``n_threads > 1`` LightFM trains Hogwild-style and runs are not bit-for-bit repeatable.

    Parameters
    ----------
    factors : int
        ``no_components``.
    epochs : int
        Passes over the positives.
    lr : float
        Initial learning rate (LightFM's ``learning_rate``).
    learning_schedule : {"adagrad", "adadelta"}
        LightFM's per-parameter schedule.
    l2 : float
        L2 penalty on the user and the item embeddings (LightFM's ``user_alpha`` and
        ``item_alpha``, both set to it).
    backend, n_threads, seed
        CPU only; ``num_threads``; ``random_state``.
    """

    loss: ClassVar[str]
    contests = (Contest.RANKING,)
    requirements = (
        Requirement("lightfm", install="built from source by `make install`: see the Makefile"),
    )
    method = "sgd"
    # LightFM's Hogwild fit runs at one of two speeds, the same for every worker of one
    # session (why was not found): eight sessions of the gate's config here gave lightfm-bpr
    # normalised fit times of 5.55-5.72 or 6.67-7.36 (max/min 1.33; a clean-clone CI run failed
    # on x1.37, re-measured x1.40), lightfm-warp 4.71-5.72 (1.21), implicit-als 1.37-1.82 (1.33).
    speed_tolerance = 1.6
    hyperparameter_specs: ClassVar = {
        "learning_schedule": Hyperparameter(str, choices=("adagrad", "adadelta")),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 30,
        lr: float = 0.05,
        learning_schedule: str = "adagrad",
        l2: float = 0.0,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.learning_schedule = learning_schedule
        self.l2 = l2
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> sp.coo_matrix:
        liked = positives(train)
        if not liked.nnz:
            raise InputError(
                f"{self.name}: no positive training rating (none >= {positive_threshold(train):g})"
            )
        return liked.tocoo()

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        from lightfm import LightFM

        positives = self._training_positives(train)
        self.model_ = LightFM(
            no_components=self.factors,
            loss=self.loss,
            learning_rate=self.lr,
            learning_schedule=self.learning_schedule,
            item_alpha=self.l2,
            user_alpha=self.l2,
            random_state=np.random.RandomState(self.seed),
        )
        threads = resolve_threads(self.n_threads)
        for epoch in range(1, self.epochs + 1):
            try:  # fit_partial checks every parameter is finite after the epoch
                self._fit_partial(positives, threads)
            except ValueError as exc:  # "Not all estimated parameters are finite"
                if "finite" not in str(exc):
                    raise
                self._check_loss(epoch, float("nan"))  # the ModelFitError every contender raises
            self._epoch_done(epoch, positives.nnz, on_epoch)

    def _training_positives(self, train: Ratings) -> sp.coo_matrix:
        """The interactions ``fit_partial`` gets (the prepared input)."""
        return self._inputs(train)

    def _fit_partial(self, positives: sp.coo_matrix, threads: int) -> None:
        """One epoch of LightFM's training."""
        self.model_.fit_partial(positives, epochs=1, num_threads=threads)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        _, user_embeddings = self.model_.get_user_representations()
        item_biases, item_embeddings = self.model_.get_item_representations()
        return user_embeddings[users] @ item_embeddings.T + item_biases

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.model_.user_embeddings, self.model_.item_embeddings]


class LightFMWarp(_LightFM):
    __doc__ = (
        (_LightFM.__doc__ or "")
        + """
    ``lightfm-warp``: the WARP loss (Weston, Bengio & Usunier, "WSABIE: Scaling Up to Large
    Vocabulary Image Annotation", IJCAI 2011), which optimises the top of the ranking.
    """
    )
    name = "lightfm-warp"
    loss = "warp"


class LightFMBPR(_LightFM):
    __doc__ = (
        (_LightFM.__doc__ or "")
        + """
    ``lightfm-bpr``: Bayesian Personalised Ranking (Rendle et al., "BPR: Bayesian
    Personalized Ranking from Implicit Feedback", UAI 2009).
    """
    )
    name = "lightfm-bpr"
    loss = "bpr"


class _LightFMHybrid(_LightFM):
    """LightFM's hybrid model (Kula, "Metadata Embeddings for User and Item Cold-start
    Recommendations", CBRecSys 2015): users and items as sums of feature embeddings.

    As ``_LightFM``, with ``train.user_features`` and ``train.item_features`` passed to
    LightFM's ``fit_partial``: each side's matrix is ``suite.data.features.side_matrix`` of them,
    i.e. one identity column per user (item) first, then the features as given — LightFM's
    default convention; rows are not normalised (LightFM does not normalise; features that
    should count as a whole, e.g. several genres, can be normalised by whoever builds them,
    ``Features.normalised``). A side without features is the identity alone: pure
    collaborative filtering on that side, so with no features this is the plain contender.

    Scores are ``u_repr · i_repr + i_bias`` from ``get_user_representations`` and
    ``get_item_representations`` with the same matrices (LightFM's ``predict`` without the
    user bias, which changes no ranking). An item without training ratings is scored from
    its features (``_score_items``), though ``Model.score_items`` gives cold items ``-inf``.
    """

    uses_features = True

    def _prepare(self, train: Ratings) -> tuple[sp.coo_matrix, sp.csr_matrix, sp.csr_matrix]:

        return (
            super()._prepare(train),
            side_matrix(train.user_features, train.n_users),
            side_matrix(train.item_features, train.n_items),
        )

    def _training_positives(self, train: Ratings) -> sp.coo_matrix:
        """The interactions; keeps both sides' feature matrices for training and scoring."""
        liked, self.user_features_, self.item_features_ = self._inputs(train)
        return liked

    def _fit_partial(self, positives: sp.coo_matrix, threads: int) -> None:
        self.model_.fit_partial(
            positives,
            user_features=self.user_features_,
            item_features=self.item_features_,
            epochs=1,
            num_threads=threads,
        )

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        _, user_embeddings = self.model_.get_user_representations(self.user_features_[users])
        item_biases, item_embeddings = self.model_.get_item_representations(self.item_features_)
        return user_embeddings @ item_embeddings.T + item_biases


class LightFMWarpHybrid(_LightFMHybrid):
    __doc__ = (
        (_LightFMHybrid.__doc__ or "")
        + """
    ``lightfm-warp-hybrid``: with the WARP loss, as ``lightfm-warp``.
    """
    )
    name = "lightfm-warp-hybrid"
    loss = "warp"


class LightFMBPRHybrid(_LightFMHybrid):
    __doc__ = (
        (_LightFMHybrid.__doc__ or "")
        + """
    ``lightfm-bpr-hybrid``: with the BPR loss (Rendle et al., "BPR: Bayesian Personalized
    Ranking from Implicit Feedback", UAI 2009), as ``lightfm-bpr``.
    """
    )
    name = "lightfm-bpr-hybrid"
    loss = "bpr"
