"""Splits: partitions, determinism, the temporal rule and the shared cold-start policy."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from suite.data import splits
from suite.data.ratings import Ratings
from suite.errors import InputError


def keys(ratings: Ratings) -> set[tuple[int, int]]:
    return set(zip(ratings.user.tolist(), ratings.item.tolist(), strict=True))


def test_holdout_partitions_and_counts_cold_pairs(small_ratings: Ratings) -> None:
    train, test = splits.holdout(small_ratings, test_fraction=0.25, seed=0)
    info = test.metadata["split"]
    assert len(train) + len(test) + info["n_test_cold_dropped"] == len(small_ratings)
    assert len(train) == 675
    assert not keys(train) & keys(test)
    assert (train.n_users, train.n_items) == (test.n_users, test.n_items) == (60, 40)
    assert train.users_seen()[test.user].all() and train.items_seen()[test.item].all()


def test_holdout_is_deterministic_per_seed(small_ratings: Ratings) -> None:
    first = splits.holdout(small_ratings, seed=1)[1]
    again = splits.holdout(small_ratings, seed=1)[1]
    other = splits.holdout(small_ratings, seed=2)[1]
    assert keys(first) == keys(again) and keys(first) != keys(other)


def test_kfold_deals_the_ratings_into_k_folds_of_near_equal_size() -> None:
    folds = splits.kfold_assignment(1003, folds=5, seed=0)
    assert set(folds.tolist()) == set(range(5))
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1


def test_kfold_folds_are_the_same_on_every_machine() -> None:
    """Pinned: NumPy's PCG64 permutation is platform-independent, so these bytes never change."""
    folds = splits.kfold_assignment(20, folds=5, seed=0)
    assert folds.tolist() == KFOLD_20_5_SEED0
    digest = hashlib.sha256(
        splits.kfold_assignment(100_000, folds=5, seed=42).tobytes()
    ).hexdigest()
    assert digest == KFOLD_100K_5_SEED42_SHA256


def test_kfold_tests_every_rating_at_most_once_and_counts_the_rest(
    small_ratings: Ratings,
) -> None:
    tested, dropped = [], 0
    for train, test in splits.kfold(small_ratings, folds=4, seed=3):
        assert not keys(train) & keys(test)
        assert len(train) + len(test) + test.metadata["split"]["n_test_cold_dropped"] == 900
        tested += keys(test)
        dropped += test.metadata["split"]["n_test_cold_dropped"]
    assert len(tested) == len(set(tested))  # no rating is tested in two folds
    assert len(tested) + dropped == len(small_ratings)


def test_split_by_name_matches_kfold(small_ratings: Ratings) -> None:
    by_name = splits.split(small_ratings, "kfold", fold=2, folds=4, seed=3)[1]
    by_iteration = list(splits.kfold(small_ratings, folds=4, seed=3))[2][1]
    assert keys(by_name) == keys(by_iteration)


def test_temporal_leaves_each_users_latest_ratings() -> None:
    ratings = Ratings(
        user=[0, 0, 0, 1, 1, 2, 2, 2],
        item=[0, 1, 2, 0, 1, 2, 1, 0],
        rating=[1, 2, 3, 4, 5, 1, 2, 3],
        timestamp=[30, 10, 20, 5, 5, 1, 3, 2],
    )
    test = splits.temporal(ratings, leave_last=1)[1]
    # user 0: latest is item 0 (t=30); user 1 ties at t=5: the later row (item 1) is tested;
    # user 2: latest is item 1 (t=3).
    assert keys(test) == {(0, 0), (1, 1), (2, 1)}
    test2 = splits.temporal(ratings, leave_last=2)[1]
    assert {u for u, _ in keys(test2)} == {0, 2}  # user 1 has only 2 ratings: stays in train
    assert (0, 0) in keys(test2) and (0, 2) in keys(test2)


def test_cold_pairs_are_removed_and_counted() -> None:
    # Item 3 appears once: when that rating is tested, the item is unseen in train.
    ratings = Ratings(
        user=[0, 0, 1, 1, 2],
        item=[0, 1, 0, 3, 1],
        rating=[1, 2, 3, 4, 5],
        timestamp=[1, 2, 1, 9, 1],
    )
    train, test = splits.temporal(ratings, leave_last=1)
    info = test.metadata["split"]
    assert info["n_test_cold_dropped"] == 1 and info["n_cold_items"] == 1
    assert info["n_cold_users"] == 0
    assert (1, 3) not in keys(test) and (1, 3) not in keys(train)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: splits.holdout(r, test_fraction=1.5), "test_fraction=1.5"),
        (lambda r: splits.kfold_assignment(len(r), folds=1), "folds=1"),
        (lambda r: splits.split(r, "kfold", fold=7, folds=5), "fold=7"),
        (lambda r: splits.split(r, "random"), "split 'random': unknown; choose from holdout"),
        (lambda r: splits.temporal(r, leave_last=0), "leave_last=0"),
    ],
)
def test_bad_split_options(small_ratings: Ratings, call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call(small_ratings)


def test_temporal_needs_timestamps() -> None:
    with pytest.raises(InputError, match="needs timestamps"):
        splits.temporal(Ratings([0, 1], [0, 1], [1, 2]))


KFOLD_20_5_SEED0 = [0, 3, 3, 1, 0, 3, 2, 2, 4, 2, 3, 2, 1, 4, 1, 4, 0, 0, 4, 1]
KFOLD_100K_5_SEED42_SHA256 = "8e37695bac8c81157020e585781bea03947436bc9afd2bf7e2c0fe7bf7f93c03"
