"""Every accuracy metric, defined once and computed by the same code for every model.

Rating metrics (RMSE, MAE) apply to models that predict ratings. Ranking metrics at ``k``
apply to all: for each test user, every item is scored, the user's training items are
excluded, and the top ``k`` are compared with the user's *relevant* test items — those
rated at least ``relevance_threshold`` (default 4 on a 1-5 scale). Users with no relevant
test item are skipped. Relevance is binary; precision divides by ``k``, recall by the number
of relevant items, NDCG is normalised by the best possible DCG for that user, and MAP@k
averages precision at each hit over ``min(k, n_relevant)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from suite.data.ratings import Ratings

if TYPE_CHECKING:
    from suite.models.base import Model

#: Whether a larger value is better, per metric (reports and the regression gate read this).
HIGHER_IS_BETTER = {
    "rmse": False,
    "mae": False,
    "precision_at_10": True,
    "recall_at_10": True,
    "ndcg_at_10": True,
    "map_at_10": True,
}

DEFAULT_RELEVANCE_THRESHOLD = 4.0


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error."""
    error = np.asarray(predicted, np.float64) - np.asarray(actual, np.float64)
    return float(np.sqrt(np.mean(error**2)))


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(predicted, np.float64) - actual)))


def rating_metrics(model: Model, test: Ratings) -> dict[str, float]:
    """RMSE and MAE of ``model`` on ``test`` (NaN for ranking models)."""
    if not model.predicts_ratings:
        return {"rmse": float("nan"), "mae": float("nan")}
    predicted = model.predict(test.user, test.item)
    return {"rmse": rmse(predicted, test.rating), "mae": mae(predicted, test.rating)}


def ranking_metrics(
    model: Model,
    train: Ratings,
    test: Ratings,
    *,
    k: int = 10,
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    batch_users: int = 1024,
) -> dict[str, float]:
    """Precision, recall, NDCG and MAP at ``k``, averaged over test users (see module doc)."""
    relevant = _relevant_matrix(test, relevance_threshold)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    seen = train.to_csr()
    totals = dict.fromkeys(("precision", "recall", "ndcg", "map"), 0.0)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for start in range(0, len(users), batch_users):
        batch = users[start : start + batch_users]
        scores = model.score_items(batch)
        rows, cols = seen[batch].nonzero()
        scores[rows, cols] = -np.inf
        top = top_k(scores, k)
        hits = np.take_along_axis(relevant[batch].toarray(), top, axis=1).astype(np.float64)
        n_relevant = np.diff(relevant.indptr)[batch].astype(np.float64)
        ideal = np.cumsum(discounts)[np.minimum(n_relevant, k).astype(int) - 1]
        precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
        totals["precision"] += float((hits.sum(axis=1) / k).sum())
        totals["recall"] += float((hits.sum(axis=1) / n_relevant).sum())
        totals["ndcg"] += float(((hits @ discounts) / ideal).sum())
        totals["map"] += float(
            ((precision_at * hits).sum(axis=1) / np.minimum(n_relevant, k)).sum()
        )
    n = max(len(users), 1)
    return {f"{name}_at_{k}": total / n for name, total in totals.items()} | {
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
    """Column indices of each row's ``k`` highest scores, best first (ties: lower index)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1)
