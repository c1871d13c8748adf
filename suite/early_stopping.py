"""Early stopping, one rule for every epoch-based contender, decided on validation data only.

After each epoch the contender's primary metric (RMSE for a rating model, NDCG@10 for a
ranking one) is measured on a validation part carved out of the training half
(``suite.data.splits.validation``); the test half is never looked at. Training stops once
``patience`` epochs in a row have not improved on the best score by more than
``MIN_IMPROVEMENT`` (relative: a score that creeps by less, as ALS's near its optimum, has
stopped improving for this purpose), and the model is put back
in the state it had after its best epoch (``Model.snapshot``/``restore``), as in Prechelt,
"Early Stopping — But When?" (Neural Networks: Tricks of the Trade, 1998). A contender whose
library trains every epoch in one call (``epoch_curve`` False) cannot be stopped: it runs
its epochs and the record says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suite import metrics
from suite.data.ratings import Ratings
from suite.models.base import Contest, Model, StopTraining

#: An epoch improves on the best validation score only by more than this share of it.
MIN_IMPROVEMENT = 1e-4

#: Share of the training half held out to stop on (``suite.data.splits.validation``).
VALIDATION_FRACTION = 0.1


class EarlyStopping:
    """``on_epoch`` callback: score the model on ``validation``, keep the best, stop when stale.

    Parameters
    ----------
    fit, validation : Ratings
        The part the model trains on, and the held-out part it is scored on.
    patience : int
        Epochs in a row without a better validation score before ``StopTraining``.
    relevance_threshold : float
        Validation ratings that count as relevant for a ranking metric.
    max_users : int
        Validation users sampled for a ranking metric (cheap on large data).
    seed : int
        Seeds that sample.
    candidates : numpy.ndarray, optional
        The items a ranking metric ranks (boolean, one per item; ``metrics.ranking_metrics``):
        on a validation part of cold items, those items only, as a cold-items run is judged.
    """

    def __init__(
        self,
        fit: Ratings,
        validation: Ratings,
        patience: int,
        *,
        relevance_threshold: float = metrics.DEFAULT_RELEVANCE_THRESHOLD,
        max_users: int = 2000,
        seed: int = 0,
        candidates: np.ndarray | None = None,
    ) -> None:
        self.fit, self.validation, self.patience = fit, validation, patience
        self.candidates = candidates
        self.relevance_threshold = relevance_threshold
        self.ranking_validation = validation.sample_users(max_users, seed)
        self.best_score = float("nan")
        self.last_score = float("nan")
        self.best_epoch = 0
        self.stopped = False
        self._best_state: dict[str, Any] | None = None

    def on_epoch(self, epoch: int, model: Model) -> None:
        """Score ``model`` after ``epoch``; raise ``StopTraining`` once it has gone stale."""
        if not model.epoch_curve:  # the library trained every epoch in one call
            return
        score = self.last_score = self.score(model)
        if self._better(score, model):
            self.best_score, self.best_epoch = score, epoch
            self._best_state = model.snapshot()
        elif epoch - self.best_epoch >= self.patience:
            self.stopped = True
            raise StopTraining

    def finish(self, model: Model) -> None:
        """After ``fit``: put ``model`` back in its best epoch's state if it ran past it."""
        if self._best_state is not None and model.epochs_run_ != self.best_epoch:
            model.restore(self._best_state)

    def score(self, model: Model) -> float:
        """The contender's primary metric on the validation part."""
        metric = self.metric(model)
        if metric.contest == Contest.RATING:
            return metrics.rating_metrics(model, self.validation, [metric])[metric.column]
        return metrics.ranking_metrics(
            model,
            self.fit,
            self.ranking_validation,
            [metric],
            relevance_threshold=self.relevance_threshold,
            candidates=self.candidates,
        )[metric.column]

    @staticmethod
    def metric(model: Model) -> metrics.Metric:
        """What ``model`` is stopped on: the primary metric of its first contest."""
        return metrics.primary(model.contests[0])

    def _better(self, score: float, model: Model) -> bool:
        if not np.isfinite(score):
            return False
        if not np.isfinite(self.best_score):
            return True
        higher = self.metric(model).higher_is_better
        margin = MIN_IMPROVEMENT * abs(self.best_score)
        return score > self.best_score + margin if higher else score < self.best_score - margin
