"""Ratings: validation on construction, raw-id coding, duplicates, conversions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from suite.data.ratings import Ratings
from suite.errors import InputError


def test_stores_compact_dtypes_and_sizes() -> None:
    ratings = Ratings([0, 1, 2], [1, 0, 1], [5, 3.5, 1], timestamp=[3, 2, 1], name="tiny")
    assert ratings.user.dtype == np.int32 and ratings.item.dtype == np.int32
    assert ratings.rating.dtype == np.float32 and ratings.timestamp.dtype == np.int64
    assert (ratings.n_users, ratings.n_items, len(ratings)) == (3, 2, 3)
    assert ratings.density == pytest.approx(0.5)
    assert "3 ratings" in repr(ratings) and "3 users × 2 items" in repr(ratings)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": [0, 1], "item": [0], "rating": [1, 2]}, "lengths differ"),
        ({"user": [], "item": [], "rating": []}, "no ratings"),
        ({"user": [0, 3], "item": [0, 1], "rating": [1, 2], "n_users": 3}, "user codes span"),
        ({"user": [0, 1], "item": [-1, 1], "rating": [1, 2]}, "item codes span"),
        ({"user": [0, 1], "item": [0, 1], "rating": [1, np.nan]}, "rating #1 is nan"),
        ({"user": [0, 1], "item": [0, 1], "rating": [np.inf, 1]}, "rating #0 is inf"),
        ({"user": [0], "item": [0], "rating": [1], "timestamp": [1, 2]}, "lengths differ"),
    ],
)
def test_rejects_invalid_arrays(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Ratings(**kwargs)


def test_from_frame_codes_raw_ids_in_sorted_order() -> None:
    frame = pd.DataFrame({"user": [30, 10, 20], "item": ["b", "a", "b"], "rating": [1.0, 2, 3]})
    ratings = Ratings.from_frame(frame, name="coded")
    assert list(ratings.user_ids) == [10, 20, 30] and list(ratings.item_ids) == ["a", "b"]
    assert ratings.user.tolist() == [2, 0, 1] and ratings.item.tolist() == [1, 0, 1]
    assert ratings.user_codes([20, 99]).tolist() == [1, -1]
    assert ratings.item_codes(["b"]).tolist() == [1]


def test_duplicates_keep_latest_by_timestamp() -> None:
    frame = pd.DataFrame(
        {
            "user": [1, 1, 1, 2],
            "item": [5, 5, 5, 5],
            "rating": [1.0, 2, 3, 4],
            "timestamp": [100, 300, 200, 50],
        }
    )
    ratings = Ratings.from_frame(frame)
    assert ratings.metadata["n_duplicates_dropped"] == 2
    kept = dict(zip(ratings.user.tolist(), ratings.rating.tolist(), strict=True))
    assert kept == {0: 2.0, 1: 4.0}  # user 1's latest rating (t=300) is 2


def test_duplicates_without_timestamps_keep_the_last() -> None:
    frame = pd.DataFrame({"user": [1, 1, 2], "item": [5, 5, 5], "rating": [1.0, 2, 4]})
    ratings = Ratings.from_frame(frame)
    assert ratings.metadata["n_duplicates_dropped"] == 1
    assert sorted(ratings.rating.tolist()) == [2.0, 4.0]


def test_conversions_agree(small_ratings: Ratings) -> None:
    csr = small_ratings.to_csr()
    assert csr.shape == (60, 40) and csr.nnz == len(small_ratings)
    assert csr[small_ratings.user[5], small_ratings.item[5]] == small_ratings.rating[5]
    users, items, values = small_ratings.to_torch()
    assert users.dtype == torch.int64 and values.dtype == torch.float32
    assert torch.equal(items, torch.from_numpy(small_ratings.item.astype(np.int64)))


def test_subset_keeps_code_space(small_ratings: Ratings) -> None:
    part = small_ratings.subset(np.arange(10), extra=1)
    assert (part.n_users, part.n_items) == (60, 40) and len(part) == 10
    assert part.metadata["extra"] == 1 and part.timestamp is not None


def test_describe_has_histogram_and_time_span(small_ratings: Ratings) -> None:
    facts = small_ratings.describe()
    assert facts["ratings"] == 900 and facts["users"] == 60
    assert sum(facts["rating histogram"].values()) == 900
    assert set(facts["rating histogram"]) == {"1", "2", "3", "4", "5"}
    assert facts["time span"] == "1970-01-01 .. 1970-01-01"
