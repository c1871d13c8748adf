"""Surprise's SVD and SVD++ (scikit-surprise) as contenders, predicting in bulk."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement

if TYPE_CHECKING:
    from surprise import Trainset


def surprise_trainset(train: Ratings) -> Trainset:
    """``train`` as a Surprise ``Trainset`` whose inner ids are our codes.

    Built directly from the arrays (what ``Dataset.load_from_df(...).build_full_trainset()``
    builds, without the detour through a data frame): raw id = inner id = code, so the
    mapping between Surprise's ids and ours is the identity and the learned arrays are indexed
    by our codes. The arrays are sized ``n_users × n_items`` of the code space; codes without
    a training rating are unknown to Surprise (absent from ``ur``/``ir`` and the id maps).
    Ratings are visited user by user in code order, each user's in data order. The global
    mean is computed here, so that the fit does not pay for it.
    """
    from surprise import Trainset

    ur = _grouped(train.user, train.item, train.rating, train.n_users)
    ir = _grouped(train.item, train.user, train.rating, train.n_items)
    trainset = Trainset(
        ur=ur,
        ir=ir,
        n_users=train.n_users,
        n_items=train.n_items,
        n_ratings=len(train),
        rating_scale=(float(train.rating.min()), float(train.rating.max())),
        raw2inner_id_users={code: code for code in ur},
        raw2inner_id_items={code: code for code in ir},
    )
    _ = trainset.global_mean  # computed once and cached by Surprise
    return trainset


def _grouped(
    keys: np.ndarray, others: np.ndarray, ratings: np.ndarray, size: int
) -> defaultdict[int, list[tuple[int, float]]]:
    """``{key: [(other, rating), ...]}`` in data order; keys without a rating are absent."""
    order = np.argsort(keys, kind="stable")
    bounds = np.cumsum(np.bincount(keys, minlength=size))[:-1]
    other_lists = np.split(others[order].astype(np.int64), bounds)
    rating_lists = np.split(ratings[order].astype(np.float64), bounds)
    groups: defaultdict[int, list[tuple[int, float]]] = defaultdict(list)
    for key, (other, rating) in enumerate(zip(other_lists, rating_lists, strict=True)):
        if len(other):
            groups[key] = list(zip(other.tolist(), rating.tolist(), strict=True))
    return groups


class SurpriseFactors(Model):
    """What the Surprise contenders share: data conversion, fitting and bulk prediction.

    Surprise's SGD (Cython, one thread) has no per-epoch hook and no warm start, so the fit is
    one call to ``algorithm.fit`` with all ``epochs``, after which ``_epoch_done`` is called
    once per epoch so that the counters are right. Those calls only ever see the final
    model, so the class declares ``epoch_curve = False``: the harness takes no convergence
    curve and no per-epoch time for it. ``n_threads`` is accepted and recorded but has no
    effect (Surprise trains on one thread).

    Predictions do not go through Surprise's per-pair ``predict`` (a Python call per pair,
    which would dominate prediction time): they are computed in bulk from the learned arrays
    (``tests/test_rating_peers.py`` checks they equal ``predict(..., clip=False).est``).
    ``algorithm_`` is the fitted Surprise object; the learned arrays are its own.
    """

    contests = (Contest.RATING,)
    requirements = (Requirement("scikit-surprise", module="surprise"),)
    method = "sgd"
    epoch_curve = False  # one call fits every epoch: nothing to evaluate in between
    epochs: int

    def _algorithm(self) -> Any:
        """A new, unfitted Surprise algorithm with this model's hyperparameters."""
        raise NotImplementedError

    def _prepare(self, train: Ratings) -> tuple[Trainset, Any]:
        """The ``Trainset``, and whatever else ``_store`` needs to predict (here nothing)."""
        return surprise_trainset(train), None

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        trainset, extra = self._inputs(train)
        self.algorithm_ = self._algorithm().fit(trainset)
        self._store(self.algorithm_, extra)
        for epoch in range(1, self.epochs + 1):
            self._epoch_done(epoch, len(train), on_epoch)

    def _store(self, algorithm: Any, extra: Any) -> None:
        """Keep the learned arrays (Surprise's own, float64) and the constant term."""
        self.user_factors_, self.item_factors_ = algorithm.pu, algorithm.qi
        self.user_bias_, self.item_bias_ = algorithm.bu, algorithm.bi
        biased = getattr(algorithm, "biased", True)
        self.offset_ = float(algorithm.trainset.global_mean) if biased else 0.0

    def _user_vectors(self, users: np.ndarray) -> np.ndarray:
        """The vector each user's items are scored against: ``p_u``."""
        return self.user_factors_[users]

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self._user_vectors(users), self.item_factors_[items])
        return self.offset_ + self.user_bias_[users] + self.item_bias_[items] + dot

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self._user_vectors(users) @ self.item_factors_.T + self.item_bias_
        return scores + (self.offset_ + self.user_bias_[users])[:, None]

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_]


class SurpriseSVD(SurpriseFactors):
    """Surprise's ``SVD``: biased matrix factorization by SGD (``surprise-svd``).

    ``r̂ = μ + b_u + b_i + q_iᵀp_u``, Funk's Netflix-prize SVD as formulated by Koren, Bell &
    Volinsky ("Matrix Factorization Techniques for Recommender Systems", IEEE Computer 2009,
    eq. 5), trained by plain SGD over the ratings user by user (Hug, "Surprise: A Python
    library for recommender systems", JOSS 2020). The defaults are Surprise's own.

    Parameters
    ----------
    factors : int
        ``n_factors`` (Surprise's default 100).
    epochs : int
        ``n_epochs`` (20).
    lr : float
        ``lr_all``: the step of every parameter (0.005).
    l2 : float
        ``reg_all``: per-example L2 on every parameter, ``λ(b_u² + b_i² + ‖p_u‖² + ‖q_i‖²)``
        for each rating visited (0.02).
    init_std : float
        ``init_std_dev``: factors start ~ N(0, init_std²) (0.1); biases start at 0.
    biased : bool
        ``biased``: with False, ``r̂ = q_iᵀp_u`` (probabilistic MF, no μ or biases).
    backend, n_threads, seed
        CPU; accepted and recorded but no effect (one thread); ``random_state``.
    """

    name = "surprise-svd"
    hyperparameter_specs: ClassVar = {"biased": Hyperparameter(bool)}

    def __init__(
        self,
        *,
        factors: int = 100,
        epochs: int = 20,
        lr: float = 0.005,
        l2: float = 0.02,
        init_std: float = 0.1,
        biased: bool = True,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.init_std = init_std
        self.biased = biased
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _algorithm(self) -> Any:
        from surprise import SVD

        return SVD(
            n_factors=self.factors,
            n_epochs=self.epochs,
            biased=self.biased,
            init_std_dev=self.init_std,
            lr_all=self.lr,
            reg_all=self.l2,
            random_state=self.seed,
        )


class SurpriseSVDpp(SurpriseFactors):
    """Surprise's ``SVDpp``: SVD++, factors plus implicit feedback (``surprise-svdpp``).

    ``r̂ = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j)``, with ``N(u)`` the items
    ``u`` rated in training (Koren, "Factorization Meets the Neighborhood: a Multifaceted
    Collaborative Filtering Model", KDD 2008, section 4), trained by SGD (Hug, JOSS 2020).
    The implicit term is computed for all requested users at once, as a sparse product
    ``N Y`` with ``N`` the users × items matrix of ``|N(u)|^{-1/2}``. Slow to train: every
    rating updates the ``y_j`` of all the user's items. The defaults are Surprise's own.

    Parameters
    ----------
    factors : int
        ``n_factors`` (Surprise's default 20).
    epochs : int
        ``n_epochs`` (20).
    lr : float
        ``lr_all`` (0.007).
    l2 : float
        ``reg_all``: per-example L2 on every parameter, ``y_j`` included (0.02).
    init_std : float
        ``init_std_dev``: ``p_u``, ``q_i`` and ``y_j`` start ~ N(0, init_std²) (0.1).
    cache_ratings : bool
        ``cache_ratings``: keep each user's items in C arrays during the fit — faster, the
        same updates (Surprise's default False).
    backend, n_threads, seed
        CPU; accepted and recorded but no effect (one thread); ``random_state``.
    """

    name = "surprise-svdpp"
    hyperparameter_specs: ClassVar = {"cache_ratings": Hyperparameter(bool)}

    def __init__(
        self,
        *,
        factors: int = 20,
        epochs: int = 20,
        lr: float = 0.007,
        l2: float = 0.02,
        init_std: float = 0.1,
        cache_ratings: bool = False,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.init_std = init_std
        self.cache_ratings = cache_ratings
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _algorithm(self) -> Any:
        from surprise import SVDpp

        return SVDpp(
            n_factors=self.factors,
            n_epochs=self.epochs,
            init_std_dev=self.init_std,
            lr_all=self.lr,
            reg_all=self.l2,
            random_state=self.seed,
            cache_ratings=self.cache_ratings,
        )

    def _prepare(self, train: Ratings) -> tuple[Trainset, sp.csr_matrix]:
        return surprise_trainset(train), implicit_weights(train)

    def _store(self, algorithm: Any, extra: sp.csr_matrix) -> None:
        super()._store(algorithm, None)
        self.implicit_weights_, self.implicit_factors_ = extra, algorithm.yj

    def _user_vectors(self, users: np.ndarray) -> np.ndarray:
        """``p_u + |N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j`` for each of ``users`` (once per user)."""
        distinct, position = np.unique(users, return_inverse=True)
        implicit = self.implicit_weights_[distinct] @ self.implicit_factors_
        return (self.user_factors_[distinct] + implicit)[position]

    def _state_arrays(self) -> list[np.ndarray]:
        return [*super()._state_arrays(), self.implicit_factors_]


def implicit_weights(train: Ratings) -> sp.csr_matrix:
    """Users × items, ``|N(u)|^{-1/2}`` where ``u`` rated the item (a rating counted each time).

    Users without a rating have an empty row (their implicit term is 0).
    """
    counts = np.bincount(train.user, minlength=train.n_users)
    weights = 1.0 / np.sqrt(counts[train.user].astype(np.float64))
    shape = (train.n_users, train.n_items)
    return sp.csr_matrix((weights, (train.user, train.item)), shape=shape)
