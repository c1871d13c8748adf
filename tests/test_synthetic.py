"""Synthetic data: the seed post's generator and the planted low-rank generator."""

from __future__ import annotations

import numpy as np
import pytest

from suite.data import synthetic


def test_seed_2017_is_the_posts_matrix() -> None:
    ratings = synthetic.seed_2017(seed=0)
    assert (ratings.n_users, ratings.n_items) == (1000, 1000)
    assert len(ratings) == 10_000  # density 0.01
    # randint(1, 5) excludes 5: the post's ratings are 1-4, kept that way on purpose.
    assert set(np.unique(ratings.rating).tolist()) == {1.0, 2.0, 3.0, 4.0}


def test_seed_2017_is_deterministic_per_seed() -> None:
    first, again, other = synthetic.seed_2017(3), synthetic.seed_2017(3), synthetic.seed_2017(4)
    assert np.array_equal(first.user, again.user) and np.array_equal(first.rating, again.rating)
    assert not np.array_equal(first.item, other.item)


def test_planted_continuous_noise_floor_matches_noise() -> None:
    ratings = synthetic.planted(
        500, 400, 40_000, rank=5, noise=0.3, rounded=False, clip=None, seed=1
    )
    assert ratings.metadata["noise_floor_rmse"] == pytest.approx(0.3, rel=0.03)
    assert ratings.metadata["noise_floor_mae"] == pytest.approx(0.3 * np.sqrt(2 / np.pi), rel=0.03)


def test_planted_noise_floor_is_zero_without_noise() -> None:
    ratings = synthetic.planted(50, 40, 500, noise=0.0, rounded=False, clip=None)
    assert ratings.metadata["noise_floor_rmse"] == pytest.approx(0.0, abs=1e-6)


def test_planted_rounding_and_clipping() -> None:
    ratings = synthetic.planted(300, 200, 10_000, seed=2)
    values = np.unique(ratings.rating)
    assert set(values.tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0} and len(values) == 5


def test_planted_noise_floor_counts_rounding() -> None:
    # Rounding to integers adds a uniform error of variance 1/12 to the Gaussian noise.
    ratings = synthetic.planted(500, 400, 40_000, noise=0.5, clip=None, seed=2)
    assert ratings.metadata["noise_floor_rmse"] == pytest.approx(np.sqrt(0.25 + 1 / 12), rel=0.03)


def test_planted_pairs_are_distinct_and_count_is_met() -> None:
    ratings = synthetic.planted(2_000, 500, 60_000, seed=3, chunk_size=7_000)
    keys = ratings.user.astype(np.int64) * ratings.n_items + ratings.item
    assert len(np.unique(keys)) == len(ratings)
    assert len(ratings) >= 0.99 * 60_000


def test_planted_activity_is_skewed() -> None:
    ratings = synthetic.planted(2_000, 1_000, 100_000, seed=4)
    per_user = np.bincount(ratings.user, minlength=2_000)
    per_item = np.bincount(ratings.item, minlength=1_000)
    assert per_user.max() > 5 * np.median(per_user)
    assert per_item.max() > 5 * np.median(per_item)


def test_planted_is_deterministic_per_seed() -> None:
    first, again = (
        synthetic.planted(300, 200, 5_000, seed=9),
        synthetic.planted(300, 200, 5_000, seed=9),
    )
    other = synthetic.planted(300, 200, 5_000, seed=10)
    assert np.array_equal(first.user, again.user) and np.array_equal(first.rating, again.rating)
    assert not np.array_equal(first.rating[:100], other.rating[:100])


def test_named_sets_are_reproducible_by_name_and_seed() -> None:
    first, again = (
        synthetic.named("synthetic-100k", seed=5),
        synthetic.named("synthetic-100k", seed=5),
    )
    assert first.name == "synthetic-100k" and len(first) >= 99_000
    assert np.array_equal(first.item, again.item)
    assert set(synthetic.names()) >= {"synthetic-seed-2017", "synthetic-1m", "synthetic-10m"}
