"""Train/test splits shared by every model: random holdout, k-fold, per-user temporal.

Cold-start policy (one rule for every model): a test rating whose user or item has no rating
in the train half is removed from the test half, and counted in ``test.metadata["split"]``
(``n_test_cold_dropped``, ``n_cold_users``, ``n_cold_items``). Pure collaborative filtering
has nothing to say about such pairs, so scoring them would only measure each library's
fallback. Models still return finite values for codes without training data (see
``suite.models.base``), but the harness never scores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from suite.data.ratings import Ratings
from suite.errors import InputError

METHODS = ("holdout", "kfold", "temporal")


def holdout(ratings: Ratings, test_fraction: float = 0.2, seed: int = 0) -> tuple[Ratings, Ratings]:
    """A uniformly random ``test_fraction`` of the ratings is held out for testing."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction={test_fraction}: must lie strictly between 0 and 1")
    order = np.random.default_rng(seed).permutation(len(ratings))
    n_test = max(1, round(test_fraction * len(ratings)))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[:n_test]] = True
    return _split(
        ratings, is_test, {"method": "holdout", "test_fraction": test_fraction, "seed": seed}
    )


def kfold_assignment(n_ratings: int, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) of each rating: a seeded permutation dealt round-robin.

    NumPy's ``Generator.permutation`` (PCG64) gives the same folds for the same seed on every
    platform; fold sizes differ by at most one.
    """
    if not 2 <= k <= n_ratings:
        raise InputError(f"k={k}: k-fold needs 2 <= k <= number of ratings ({n_ratings})")
    folds = np.empty(n_ratings, dtype=np.int32)
    folds[np.random.default_rng(seed).permutation(n_ratings)] = np.arange(n_ratings) % k
    return folds


def kfold(ratings: Ratings, k: int = 5, seed: int = 0) -> Iterator[tuple[Ratings, Ratings]]:
    """The ``k`` (train, test) pairs of a k-fold split; every rating is tested exactly once."""
    folds = kfold_assignment(len(ratings), k, seed)
    for fold in range(k):
        yield _fold(ratings, folds, fold, seed)


def temporal(ratings: Ratings, leave_last: int = 1) -> tuple[Ratings, Ratings]:
    """Each user's ``leave_last`` most recent ratings are tested (ties: later in the data).

    Users with ``leave_last`` ratings or fewer stay wholly in train.
    """
    if ratings.timestamp is None:
        raise InputError(f"{ratings.name}: temporal split needs timestamps, the data has none")
    if leave_last < 1:
        raise InputError(f"leave_last={leave_last}: must be at least 1")
    order = np.lexsort((np.arange(len(ratings)), ratings.timestamp, ratings.user))
    counts = np.bincount(ratings.user, minlength=ratings.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(ratings)) - np.repeat(starts, counts)  # rank within the user
    from_end = np.repeat(counts, counts) - position  # 1 = the user's latest rating
    tested = (from_end <= leave_last) & (np.repeat(counts, counts) > leave_last)
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[tested]] = True
    return _split(ratings, is_test, {"method": "temporal", "leave_last": leave_last})


def split(
    ratings: Ratings,
    method: str,
    *,
    fold: int = 0,
    k: int = 5,
    seed: int = 0,
    test_fraction: float = 0.2,
    leave_last: int = 1,
) -> tuple[Ratings, Ratings]:
    """One (train, test) pair by method name; the runner's single entry point."""
    if method == "holdout":
        return holdout(ratings, test_fraction, seed)
    if method == "kfold":
        if not 0 <= fold < k:
            raise InputError(f"fold={fold}: must lie in [0, {k})")
        return _fold(ratings, kfold_assignment(len(ratings), k, seed), fold, seed)
    if method == "temporal":
        return temporal(ratings, leave_last)
    raise InputError(f"split {method!r}: unknown; choose from {', '.join(METHODS)}")


def _fold(ratings: Ratings, folds: np.ndarray, fold: int, seed: int) -> tuple[Ratings, Ratings]:
    k = int(folds.max()) + 1
    return _split(ratings, folds == fold, {"method": "kfold", "k": k, "fold": fold, "seed": seed})


def _split(ratings: Ratings, is_test: np.ndarray, info: dict[str, Any]) -> tuple[Ratings, Ratings]:
    """Train/test halves in the parent's code space, cold test pairs removed and counted."""
    if is_test.all() or not is_test.any():
        raise InputError(f"{ratings.name}: split {info} leaves an empty train or test half")
    train = ratings.subset(~is_test, name=ratings.name)
    user_known, item_known = train.users_seen(), train.items_seen()
    test_rows = np.flatnonzero(is_test)
    warm = user_known[ratings.user[test_rows]] & item_known[ratings.item[test_rows]]
    cold_rows = test_rows[~warm]
    info = {
        **info,
        "n_test_cold_dropped": len(cold_rows),
        "n_cold_users": len(
            np.unique(ratings.user[cold_rows][~user_known[ratings.user[cold_rows]]])
        ),
        "n_cold_items": len(
            np.unique(ratings.item[cold_rows][~item_known[ratings.item[cold_rows]]])
        ),
    }
    if not warm.any():
        raise InputError(
            f"{ratings.name}: split {info} leaves no test rating with a known user and item"
        )
    train.metadata["split"] = info
    test = ratings.subset(test_rows[warm], name=ratings.name, split=info)
    return train, test
