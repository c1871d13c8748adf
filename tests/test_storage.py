"""The one on-disk form of Ratings: round trips, several parts, refused foreign files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from suite.data import storage
from suite.data.ratings import Ratings


def same(a: Ratings, b: Ratings) -> bool:
    return (
        (a.name, a.n_users, a.n_items, a.metadata) == (b.name, b.n_users, b.n_items, b.metadata)
        and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("user", "item", "rating"))
        and np.array_equal(a.user_ids, b.user_ids)
        and np.array_equal(a.item_ids, b.item_ids)
        and (a.timestamp is None) == (b.timestamp is None)
        and (a.timestamp is None or np.array_equal(a.timestamp, b.timestamp))
    )


def test_parts_and_header_round_trip(tmp_path: Path, small_ratings: Ratings) -> None:
    named = Ratings(
        [0, 1, 1],
        [1, 0, 2],
        [4.5, 3.0, 1.0],
        user_ids=np.array(["ann", "bob"], dtype=object),
        item_ids=np.array(["x", "y", "z"], dtype=object),
        name="named",
        metadata={"source": "test", "generator": {"noise": np.float64(0.5), "rank": 3}},
    )
    train, test = small_ratings.subset(np.arange(800)), small_ratings.subset(np.arange(800, 900))
    path = tmp_path / "stored.npz"
    storage.save(path, {"train": train, "test": test, "named": named}, {"fingerprint": {"a": 1}})
    parts, header = storage.load(path)
    assert header["fingerprint"] == {"a": 1}
    assert same(parts["train"], train) and same(parts["test"], test)
    assert parts["named"].user_ids.tolist() == ["ann", "bob"]
    assert parts["named"].metadata["generator"] == {"noise": 0.5, "rank": 3}
    assert parts["named"].timestamp is None and parts["train"].timestamp is not None
    assert not list(tmp_path.glob("*.partial"))  # written under a temporary name, then renamed


def test_another_format_version_is_refused(tmp_path: Path, small_ratings: Ratings) -> None:
    path = tmp_path / "old.npz"
    np.savez(path, header=np.array(json.dumps({"version": 1, "parts": {}})))
    with pytest.raises(storage.FormatVersionError, match="format version 1, this mfbench reads"):
        storage.load(path)


def test_a_truncated_file_is_unreadable(tmp_path: Path, small_ratings: Ratings) -> None:
    path = tmp_path / "cut.npz"
    storage.save(path, {"ratings": small_ratings})
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(storage.UNREADABLE):
        storage.load(path)
