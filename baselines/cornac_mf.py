"""Cornac's ``MF`` (biased matrix factorization, Cython SGD) as a contender."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement
from suite.threads import resolve_threads

if TYPE_CHECKING:
    from cornac.data import Dataset
    from cornac.models import MF


def cornac_dataset(train: Ratings) -> Dataset:
    """``train`` as a Cornac ``Dataset`` whose user and item indices are our codes.

    Built directly from the arrays (what ``Dataset.from_uir`` builds from triplets, without
    the Python loop over them): the id maps are the identity over the whole code space, so
    Cornac's learned rows are indexed by our codes. Ratings stay float64 as in ``from_uir``
    (the global mean is computed from them); Cornac casts them to float32 for training.
    """
    from cornac.data import Dataset

    return Dataset(
        num_users=train.n_users,
        num_items=train.n_items,
        uid_map=OrderedDict((code, code) for code in range(train.n_users)),
        iid_map=OrderedDict((code, code) for code in range(train.n_items)),
        uir_tuple=(
            train.user.astype(np.int64),
            train.item.astype(np.int64),
            train.rating.astype(np.float64),
        ),
    )


class CornacMF(Model):
    """Cornac's ``MF``: ``r̂ = μ + b_u + b_i + u_uᵀv_i`` by SGD (``cornac-mf``).

    Biased matrix factorization (Koren, Bell & Volinsky, "Matrix Factorization Techniques for
    Recommender Systems", IEEE Computer 2009) as Cornac trains it on the CPU: one Cython SGD
    pass over the ratings in data order per epoch, per-example L2 on factors and biases
    (Salah, Truong & Lauw, "Cornac: A Comparative Framework for Multimodal Recommender
    Systems", JMLR 2020). The defaults are Cornac's own.

    The model is set up by ``MF.fit`` with ``trainable=False`` (no training), then each epoch
    is one call of Cornac's CPU trainer with ``max_iter=1``, which updates the same arrays in
    place: the very updates of one ``fit`` with ``max_iter=epochs`` (checked in
    ``tests/test_rating_peers.py``), with a real per-epoch callback. Cornac returns no loss, so
    there is no ``loss_history_``; a diverged fit is caught by the NaN check of ``Model.fit``.

    The factors are drawn here as Cornac draws them (``RandomState(seed)``, users first, then
    items, float32) and handed over as ``init_params``, so that ``init_std`` can be set and
    ``seed`` does not pin Cornac to one thread (Cornac forces ``num_threads=1`` whenever it
    is given a seed).

    Predictions and scores are computed in bulk from ``u_factors``, ``i_factors``,
    ``u_biases``, ``i_biases`` and ``global_mean`` of the fitted ``MF`` (``model_``), which
    equal its own ``score(u, i)``.

    Parameters
    ----------
    factors : int
        ``k`` (Cornac's default 10).
    epochs : int
        ``max_iter`` (20).
    lr : float
        ``learning_rate`` (0.01).
    l2 : float
        ``lambda_reg``: per-example L2 on the factors and biases of each rating visited (0.02).
    init_std : float
        Factors start ~ N(0, init_std²) (Cornac's fixed 0.01); biases start at 0.
    biased : bool
        ``use_bias``: with False, ``r̂ = u_uᵀv_i`` (no μ, no biases).
    hogwild : bool
        Run each epoch on ``n_threads`` threads (Cornac's OpenMP ``prange``, updates without
        locks, Niu et al., "Hogwild!", NIPS 2011): faster, not reproducible. False: one
        thread, what Cornac itself does when seeded.
    backend, n_threads, seed
        CPU; threads for Hogwild (None: all); seed of the initial factors.
    """

    name = "cornac-mf"
    requirements = (Requirement("cornac"),)
    method = "sgd"
    contests = (Contest.RATING,)
    hyperparameter_specs: ClassVar = {
        "biased": Hyperparameter(bool),
        "hogwild": Hyperparameter(bool),
    }

    def __init__(
        self,
        *,
        factors: int = 10,
        epochs: int = 20,
        lr: float = 0.01,
        l2: float = 0.02,
        init_std: float = 0.01,
        biased: bool = True,
        hogwild: bool = False,
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
        self.hogwild = hogwild
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> Dataset:
        return cornac_dataset(train)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        dataset = self._inputs(train)
        self.model_ = self._set_up(dataset)
        for epoch in range(1, self.epochs + 1):
            self.model_._fit_cpu(dataset, None)  # one epoch: max_iter=1
            self._store(self.model_)
            self._epoch_done(epoch, len(train), on_epoch)

    def _set_up(self, dataset: Dataset) -> MF:
        """An ``MF`` holding the initial parameters, fitted without training."""
        from cornac.models import MF
        from cornac.utils import get_rng
        from cornac.utils.init_utils import normal

        rng = get_rng(self.seed)
        shapes = [(dataset.num_users, self.factors), (dataset.num_items, self.factors)]
        users, items = (normal(shape, std=self.init_std, random_state=rng) for shape in shapes)
        model = MF(
            k=self.factors,
            max_iter=1,
            learning_rate=self.lr,
            lambda_reg=self.l2,
            use_bias=self.biased,
            num_threads=resolve_threads(self.n_threads) if self.hogwild else 1,
            trainable=False,
            init_params={"U": users, "V": items},
        )
        return model.fit(dataset)

    def _store(self, model: MF) -> None:
        """The fitted ``MF``'s arrays (float32, updated in place by every epoch)."""
        self.user_factors_, self.item_factors_ = model.u_factors, model.i_factors
        self.user_bias_, self.item_bias_ = model.u_biases, model.i_biases
        self.offset_ = float(model.global_mean)  # μ as float32, or 0 when not biased

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return self.offset_ + self.user_bias_[users] + self.item_bias_[items] + dot

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T + self.item_bias_
        return scores + (self.offset_ + self.user_bias_[users])[:, None]

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_]
