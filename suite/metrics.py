"""Every accuracy metric, defined once and computed by the same code for every model.

``METRICS`` is the one registry: each entry names its results column, its label, its
direction, its cut-off ``k`` and the function that computes it. Record columns, summaries,
report tables, curves and the regression gate all derive from it, so adding a metric is one
entry (and, for a new kind of metric, one small function).

Rating metrics (RMSE, MAE) apply to models that predict ratings (``Contest.RATING``).
Ranking metrics at ``k`` apply to all: for each test user, every item is scored, the user's
training items are excluded, and the top ``k`` are compared with the user's *relevant* test
items — those rated at least ``relevance_threshold`` (default 4 on a 1-5 scale). Users with
no relevant test item are skipped. Relevance is binary; precision divides by ``k``, recall
by the number of relevant items, NDCG is normalised by the best possible DCG for that user,
and MAP@k averages precision at each hit over ``min(k, n_relevant)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from suite.data.feedback import DEFAULT_POSITIVE_THRESHOLD
from suite.data.ratings import Ratings
from suite.models.base import Contest

if TYPE_CHECKING:
    from suite.models.base import Model

#: A test item is relevant when rated at least this: the same threshold that makes a training
#: rating a positive for the ranking contenders (``suite.data.feedback``).
DEFAULT_RELEVANCE_THRESHOLD = DEFAULT_POSITIVE_THRESHOLD


# -- the definitions -----------------------------------------------------------------------------


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error."""
    error = np.asarray(predicted, np.float64) - np.asarray(actual, np.float64)
    return float(np.sqrt(np.mean(error**2)))


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(predicted, np.float64) - actual)))


def precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per user: relevant items among the top ``k`` (``hits`` is users × k, 0/1), over ``k``."""
    return hits.sum(axis=1) / hits.shape[1]


def recall(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per user: relevant items among the top ``k``, over the user's relevant items."""
    return hits.sum(axis=1) / n_relevant


def ndcg(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per user: DCG of the top ``k`` over the best DCG possible with ``n_relevant`` items."""
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, hits.shape[1]).astype(int) - 1]
    return (hits @ discounts) / ideal


def average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per user: mean of precision at each hit's rank, over ``min(k, n_relevant)``."""
    k = hits.shape[1]
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return (precision_at * hits).sum(axis=1) / np.minimum(n_relevant, k)


# -- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One accuracy metric.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"ndcg"``.
    label : str
        How tables and plots name it, without the cut-off (``"NDCG"``).
    higher_is_better : bool
        Its direction (summaries, findings and the regression gate read it).
    contest : Contest
        ``RATING``: computed from predicted ratings, ``compute(predicted, actual) -> float``,
        only for models that predict ratings. ``RANKING``: computed from each user's top
        ``k``, ``compute(hits, n_relevant) -> per-user values`` (``hits`` is users × k, 1
        where the item at that rank is relevant), averaged over users; for every model.
    compute : callable
        The definition (see ``contest``).
    cutoff : int, optional
        Cut-off of a ranking metric (the ``k`` of "@k").
    primary : bool
        The figure its contest is judged by: shown with its spread, drawn per epoch in the
        convergence curves, compared per seed by the regression gate.
    """

    name: str
    label: str
    higher_is_better: bool
    contest: Contest
    compute: Callable[..., float | np.ndarray]
    cutoff: int | None = None
    primary: bool = False

    @property
    def column(self) -> str:
        """Its column in results: ``"rmse"``, ``"ndcg_at_10"``."""
        return self.name if self.cutoff is None else f"{self.name}_at_{self.cutoff}"

    @property
    def title(self) -> str:
        """Its label with the cut-off: ``"RMSE"``, ``"NDCG@10"``."""
        return self.label if self.cutoff is None else f"{self.label}@{self.cutoff}"


METRICS: tuple[Metric, ...] = (
    Metric("rmse", "RMSE", False, Contest.RATING, rmse, primary=True),
    Metric("mae", "MAE", False, Contest.RATING, mae),
    Metric("precision", "P", True, Contest.RANKING, precision, cutoff=10),
    Metric("recall", "R", True, Contest.RANKING, recall, cutoff=10),
    Metric("ndcg", "NDCG", True, Contest.RANKING, ndcg, cutoff=10, primary=True),
    Metric("map", "MAP", True, Contest.RANKING, average_precision, cutoff=10),
)


def columns() -> list[str]:
    """The results column of every metric, in registry order."""
    return [metric.column for metric in METRICS]


def primary(contest: Contest) -> Metric:
    """The metric ``contest`` is judged by."""
    return next(m for m in METRICS if m.primary and m.contest == contest)


def primaries() -> list[Metric]:
    """The primary metric of each contest, in registry order."""
    return [metric for metric in METRICS if metric.primary]


def of_contest(contest: Contest, which: Iterable[Metric] | None = None) -> list[Metric]:
    """The metrics among ``which`` (default: all) that belong to ``contest``."""
    return [metric for metric in (METRICS if which is None else which) if metric.contest == contest]


# -- computing them ------------------------------------------------------------------------------


def evaluate(
    model: Model,
    train: Ratings,
    test: Ratings,
    *,
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    which: Iterable[Metric] | None = None,
) -> dict[str, float]:
    """Every metric of ``which`` (default: all) of a fitted ``model``; NaN where one does not
    apply (rating metrics of a model that only ranks)."""
    which = list(METRICS if which is None else which)
    return {
        **rating_metrics(model, test, which),
        **ranking_metrics(model, train, test, which, relevance_threshold=relevance_threshold),
    }


def rating_metrics(
    model: Model, test: Ratings, which: Iterable[Metric] | None = None
) -> dict[str, float]:
    """The rating metrics among ``which`` on ``test`` (NaN for a model that only ranks)."""
    chosen = of_contest(Contest.RATING, which)
    if not model.predicts_ratings:
        return {metric.column: float("nan") for metric in chosen}
    return rating_scores(model.predict(test.user, test.item), test.rating, chosen)


def rating_scores(
    predicted: np.ndarray, actual: np.ndarray, which: Iterable[Metric] | None = None
) -> dict[str, float]:
    """The rating metrics among ``which`` of ``predicted`` against ``actual`` ratings."""
    return {m.column: m.compute(predicted, actual) for m in of_contest(Contest.RATING, which)}


def ranking_metrics(
    model: Model,
    train: Ratings,
    test: Ratings,
    which: Iterable[Metric] | None = None,
    *,
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    batch_users: int = 1024,
    candidates: np.ndarray | None = None,
) -> dict[str, float]:
    """The ranking metrics among ``which``, averaged over test users (see the module doc).

    ``candidates`` (boolean, one per item) limits what is ranked: the cold-items split ranks
    only the held-out items, as the cold-start protocol of Kula (2015) does, since a model
    without features cannot score them and one with features would otherwise be judged on
    how it ranks new items against old ones.

    Also returns ``n_ranked_users``: the test users with at least one relevant item. With
    none (no test rating reaches ``relevance_threshold``) every ranking metric is NaN:
    undefined, not zero.
    """
    chosen = of_contest(Contest.RANKING, which)
    if not chosen:
        return {}
    relevant = _relevant_matrix(test, relevance_threshold)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    seen = train.to_csr()
    deepest = max(metric.cutoff for metric in chosen)
    totals = dict.fromkeys((metric.column for metric in chosen), 0.0)
    for start in range(0, len(users), batch_users):
        batch = users[start : start + batch_users]
        scores = model.score_items(batch)
        rows, cols = seen[batch].nonzero()
        scores[rows, cols] = -np.inf
        if candidates is not None:
            scores[:, ~candidates] = -np.inf
        top = top_k(scores, deepest)
        hits = np.zeros((len(batch), deepest))  # fewer items than k: the rest are misses
        hits[:, : top.shape[1]] = np.take_along_axis(relevant[batch].toarray(), top, axis=1)
        n_relevant = np.diff(relevant.indptr)[batch].astype(np.float64)
        for metric in chosen:
            totals[metric.column] += float(
                metric.compute(hits[:, : metric.cutoff], n_relevant).sum()
            )
    if not len(users):  # nothing relevant to find: the metrics are undefined, not zero
        return dict.fromkeys(totals, float("nan")) | {"n_ranked_users": 0}
    return {column: total / len(users) for column, total in totals.items()} | {
        "n_ranked_users": len(users)
    }


def _relevant_matrix(test: Ratings, threshold: float) -> sp.csr_matrix:
    keep = test.rating >= threshold
    ones = np.ones(int(keep.sum()), dtype=np.int8)
    matrix = sp.csr_matrix(
        (ones, (test.user[keep], test.item[keep])), shape=(test.n_users, test.n_items)
    )
    matrix.sum_duplicates()
    return matrix


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` highest scores, best first; ties go to lower indices.

    Ties matter (scores that are counts tie often): ``argpartition`` alone would pick among tied
    items at the cut-off in an order that depends on the CPU's SIMD code path, so the same
    model could score differently on two machines. Here every item above the row's k-th
    highest score is kept, and of the items equal to it, those with the lowest indices.
    """
    k = min(k, scores.shape[1])
    if np.isnan(scores).any():  # a NaN score never outranks a number
        scores = np.where(np.isnan(scores), -np.inf, scores)
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # each row's k-th highest score
    above = scores > kth
    tied = scores == kth
    keep = above | tied
    room = k - above.sum(axis=1)  # how many tied items fit
    crowded = np.flatnonzero(tied.sum(axis=1) > room)  # rows with more ties than room
    if len(crowded):
        first_tied = np.cumsum(tied[crowded], axis=1) <= room[crowded, None]
        keep[crowded] = above[crowded] | (tied[crowded] & first_tied)
    chosen = np.nonzero(keep)[1].reshape(len(scores), k)  # row-major: ascending index per row
    chosen_scores = np.take_along_axis(scores, chosen, axis=1)
    order = np.lexsort((chosen, -chosen_scores), axis=1)
    return np.take_along_axis(chosen, order, axis=1)
