"""Train/test splits shared by every model: random holdout, k-fold, per-user temporal, cold items.

Cold-start policy (one rule for every model): a test rating whose user or item has no rating
in the train half is removed from the test half, and counted in ``test.metadata["split"]``
(``n_test_cold_dropped``, ``n_cold_users``, ``n_cold_items``). Pure collaborative filtering
has nothing to say about such pairs, so scoring them would only measure each library's
fallback. Models still return finite values for codes without training data (see
``suite.models.base``), but the harness never scores them.

The one exception is ``cold_items`` (method ``"cold-items"``), whose point is cold items:
whole items are held out, so every test item is unseen in train and its test ratings are
kept (only a feature-based model can score them; ``n_cold_items`` then counts the held-out
items kept in test). Test ratings of users left without any train rating are still dropped
and counted in ``n_test_cold_dropped`` / ``n_cold_users``. Side features (``user_features``,
``item_features``) are kept on both halves of every split: same code space, same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from suite.data.ratings import Ratings
from suite.errors import InputError

METHODS = ("holdout", "kfold", "temporal", "cold-items")


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


def kfold_assignment(n_ratings: int, folds: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..folds-1) of each rating: a seeded permutation dealt round-robin.

    NumPy's ``Generator.permutation`` (PCG64) gives the same folds for the same seed on every
    platform; fold sizes differ by at most one.
    """
    if not 2 <= folds <= n_ratings:
        raise InputError(
            f"folds={folds}: a k-fold split needs 2 <= folds <= number of ratings ({n_ratings})"
        )
    assignment = np.empty(n_ratings, dtype=np.int32)
    order = np.random.default_rng(seed).permutation(n_ratings)
    assignment[order] = np.arange(n_ratings) % folds
    return assignment


def kfold(ratings: Ratings, folds: int = 5, seed: int = 0) -> Iterator[tuple[Ratings, Ratings]]:
    """The (train, test) pair of each of ``folds`` folds; every rating is tested exactly once."""
    assignment = kfold_assignment(len(ratings), folds, seed)
    for fold in range(folds):
        yield _fold(ratings, assignment, fold, seed)


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


def cold_items(
    ratings: Ratings, test_fraction: float = 0.2, seed: int = 0
) -> tuple[Ratings, Ratings]:
    """A random ``test_fraction`` of the rated items is held out whole: all their ratings test.

    No rating of a held-out item stays in train, so a pure collaborative-filtering model
    cannot score them; a model using item features can (LightFM's cold-start setting, Kula
    2015). Unlike the other splits, cold test items are kept (see the module docstring).
    ``test_fraction`` is a fraction of the items that have ratings (at least one item is
    held out, and at least one is kept for train).
    """
    if not 0.0 < test_fraction < 1.0:
        raise InputError(f"test_fraction={test_fraction}: must lie strictly between 0 and 1")
    rated = np.flatnonzero(ratings.items_seen())
    if len(rated) < 2:
        raise InputError(f"{ratings.name}: a cold-item split needs at least two rated items")
    n_held = min(max(1, round(test_fraction * len(rated))), len(rated) - 1)
    held = np.random.default_rng(seed).permutation(rated)[:n_held]
    is_held = np.zeros(ratings.n_items, dtype=bool)
    is_held[held] = True
    info = {
        "method": "cold-items",
        "test_fraction": test_fraction,
        "seed": seed,
        "n_items_held_out": int(n_held),
    }
    return _split(ratings, is_held[ratings.item], info, keep_cold_items=True)


def validation(train: Ratings, fraction: float = 0.1, seed: int = 0) -> tuple[Ratings, Ratings]:
    """``(fit, validation)``: a random ``fraction`` of a training half held out to tune on.

    Early stopping and tuning decide on the validation part and never see the test half:
    every validation rating is a training rating, so validation and test pairs are
    disjoint. Validation pairs whose user or item has no rating left in ``fit`` are
    dropped, as for a test half. The draw is seeded apart from the split's own (``seed``
    is combined with a fixed salt), so a validation set is not a shifted copy of a fold.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"validation fraction {fraction}: must lie strictly between 0 and 1")
    salted = int(np.random.SeedSequence([seed, VALIDATION_SALT]).generate_state(1)[0])
    order = np.random.default_rng(salted).permutation(len(train))
    held = np.zeros(len(train), dtype=bool)
    held[order[: max(1, round(fraction * len(train)))]] = True
    fit, held_out = _split(
        train, held, {"method": "validation", "fraction": fraction, "seed": seed}
    )
    fit.metadata["split"] = {
        **train.metadata.get("split", {}),
        "validation": held_out.metadata["split"],
    }
    return fit, held_out


#: Mixed into a validation draw's seed, so that it differs from the split's draw.
VALIDATION_SALT = 0x5EED_0FF


def split(
    ratings: Ratings,
    method: str,
    *,
    fold: int = 0,
    folds: int = 5,
    seed: int = 0,
    test_fraction: float = 0.2,
    leave_last: int = 1,
) -> tuple[Ratings, Ratings]:
    """One (train, test) pair by method name; the runner's single entry point."""
    if method == "holdout":
        return holdout(ratings, test_fraction, seed)
    if method == "kfold":
        if not 0 <= fold < folds:
            raise InputError(f"fold={fold}: must lie in [0, {folds})")
        return _fold(ratings, kfold_assignment(len(ratings), folds, seed), fold, seed)
    if method == "temporal":
        return temporal(ratings, leave_last)
    if method == "cold-items":
        return cold_items(ratings, test_fraction, seed)
    raise InputError(f"split {method!r}: unknown; choose from {', '.join(METHODS)}")


def _fold(
    ratings: Ratings, assignment: np.ndarray, fold: int, seed: int
) -> tuple[Ratings, Ratings]:
    info = {"method": "kfold", "folds": int(assignment.max()) + 1, "fold": fold, "seed": seed}
    return _split(ratings, assignment == fold, info)


def _split(
    ratings: Ratings, is_test: np.ndarray, info: dict[str, Any], *, keep_cold_items: bool = False
) -> tuple[Ratings, Ratings]:
    """Train/test halves in the parent's code space, cold test pairs removed and counted.

    With ``keep_cold_items`` only pairs with a cold user are removed; cold items stay in test.
    """
    if is_test.all() or not is_test.any():
        raise InputError(f"{ratings.name}: split {info} leaves an empty train or test half")
    train = ratings.subset(~is_test, name=ratings.name)
    user_known, item_known = train.users_seen(), train.items_seen()
    test_rows = np.flatnonzero(is_test)
    warm_user = user_known[ratings.user[test_rows]]
    warm = warm_user if keep_cold_items else warm_user & item_known[ratings.item[test_rows]]
    cold_rows = test_rows[~warm]
    counted_items = test_rows[warm] if keep_cold_items else cold_rows  # cold items kept/dropped
    info = {
        **info,
        "n_test_cold_dropped": len(cold_rows),
        "n_cold_users": len(
            np.unique(ratings.user[cold_rows][~user_known[ratings.user[cold_rows]]])
        ),
        "n_cold_items": len(
            np.unique(ratings.item[counted_items][~item_known[ratings.item[counted_items]]])
        ),
    }
    if not warm.any():
        known = "a known user" if keep_cold_items else "a known user and item"
        raise InputError(f"{ratings.name}: split {info} leaves no test rating with {known}")
    train.metadata["split"] = info
    test = ratings.subset(test_rows[warm], name=ratings.name, split=info)
    return train, test
