"""Metrics: the registry's invariants, hand-computed values, and deterministic top-k ties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from suite import metrics
from suite.data.ratings import Ratings
from suite.models.base import Contest


class FixedScores:
    """Stands in for a fitted model: the same scores for every user."""

    predicts_ratings = False

    def __init__(self, scores: list[float]) -> None:
        self.scores = np.array(scores, dtype=np.float32)

    def score_items(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.scores, (len(users), 1))


def test_registry_has_unique_columns_and_one_primary_per_contest() -> None:
    columns = metrics.columns()
    assert len(columns) == len(set(columns))
    for contest in Contest:
        assert sum(m.primary for m in metrics.METRICS if m.contest == contest) == 1
        assert metrics.primary(contest).contest == contest
    for metric in metrics.METRICS:
        assert (metric.cutoff is None) == (metric.contest == Contest.RATING)
    assert metrics.primary(Contest.RANKING).column == "ndcg_at_10"
    assert metrics.primary(Contest.RANKING).title == "NDCG@10"


def test_ranking_metrics_match_a_hand_computed_example() -> None:
    # One user; item 0 was seen in training (excluded), items 1 and 4 are relevant in test.
    train = Ratings([0], [0], [5.0], n_users=1, n_items=6)
    test = Ratings([0, 0, 0], [1, 4, 5], [5.0, 4.0, 2.0], n_users=1, n_items=6)
    model = FixedScores([5, 4, 3, 2, 1, 0])  # after exclusion the top 3 are items 1, 2, 3
    at_3 = [
        metrics.Metric(m.name, m.label, m.higher_is_better, m.contest, m.compute, cutoff=3)
        for m in metrics.of_contest(Contest.RANKING)
    ]
    found = metrics.ranking_metrics(model, train, test, at_3)
    ideal = 1 + 1 / math.log2(3)
    assert found["precision_at_3"] == pytest.approx(1 / 3)
    assert found["recall_at_3"] == pytest.approx(1 / 2)
    assert found["ndcg_at_3"] == pytest.approx(1 / ideal)
    assert found["map_at_3"] == pytest.approx(1 / 2)  # precision 1 at the one hit, over min(3, 2)
    assert found["n_ranked_users"] == 1


def test_rating_metrics() -> None:
    predicted, actual = np.array([3.0, 4.0, 5.0]), np.array([4.0, 4.0, 3.0])
    found = metrics.rating_scores(predicted, actual)
    assert found == {"rmse": pytest.approx(math.sqrt(5 / 3)), "mae": pytest.approx(1.0)}


def test_a_ranking_model_gets_nan_rating_metrics() -> None:
    test = Ratings([0], [1], [4.0], n_users=1, n_items=3)
    assert all(math.isnan(v) for v in metrics.rating_metrics(FixedScores([1, 2, 3]), test).values())


def test_top_k_breaks_ties_by_lower_index_whatever_the_partition() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, k = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        scores = rng.integers(0, 4, size=(4, n)).astype(np.float32)
        scores[rng.random(scores.shape) < 0.2] = -np.inf
        for row, chosen in zip(scores, metrics.top_k(scores, k), strict=True):
            expected = sorted(range(n), key=lambda item: (-row[item], item))[: min(k, n)]
            assert chosen.tolist() == expected


def test_fewer_items_than_k_count_as_misses() -> None:
    train = Ratings([0], [0], [5.0], n_users=1, n_items=3)
    test = Ratings([0], [2], [5.0], n_users=1, n_items=3)
    found = metrics.ranking_metrics(FixedScores([3, 2, 1]), train, test)  # k = 10, 3 items
    assert found["precision_at_10"] == pytest.approx(1 / 10)  # one hit in a list of 10
    assert found["recall_at_10"] == pytest.approx(1.0)


def test_nan_scores_rank_last() -> None:
    scores = np.array([[np.nan, 1.0, np.nan, 0.5]])
    assert metrics.top_k(scores, 3).tolist() == [[1, 3, 0]]
