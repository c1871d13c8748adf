"""Most-popular ranking: the floor every personalised model must beat."""

from __future__ import annotations

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import Contest, EpochCallback, Model, Requirement


class Popularity(Model):
    """Recommends every user the items rated most often in training (``popularity``).

    Non-personalised reference for the ranking metrics (cf. Cremonesi, Koren & Turrin,
    "Performance of Recommender Algorithms on Top-N Recommendation Tasks", RecSys 2010,
    where it is a strong baseline on MovieLens).

    Parameters
    ----------
    backend, n_threads, seed
        Accepted for the common interface; unused.
    """

    name = "popularity"
    requirements = (Requirement("numpy"),)
    contests = (Contest.RANKING,)
    trains = False  # it counts; throughput and speed-ups do not apply
    floor = True  # the ranking contest's trivial reference

    def __init__(self, *, backend: str = "cpu", n_threads: int | None = None, seed: int = 0):
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        self.counts_ = np.bincount(train.item, minlength=train.n_items).astype(np.float32)
        self._epoch_done(1, len(train), on_epoch)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(users), len(self.counts_))).copy()
