"""``Ratings``: the one in-memory form of a ratings data set that every model receives."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from suite.errors import InputError

if TYPE_CHECKING:
    import torch


class Ratings:
    """Explicit ratings as parallel arrays of integer codes, validated on construction.

    Parameters
    ----------
    user, item : array-like of int
        Codes in ``[0, n_users)`` and ``[0, n_items)``; stored as ``int32``.
    rating : array-like of float
        Finite ratings; stored as ``float32``.
    n_users, n_items : int, optional
        Sizes of the code spaces (default: one more than the largest code). Train and test
        halves of a split share the parent's sizes, so a code means the same user in both.
    timestamp : array-like of int, optional
        Seconds since the epoch, stored as ``int64``; needed by temporal splits.
    user_ids, item_ids : array-like, optional
        Raw identifier of each code (``user_ids[code] == raw id``); default: the codes.
    name : str
        Data set name, carried into result records.
    metadata : dict, optional
        Free-form facts about the data (source, checksum, noise floor, split counts, ...).

    Raises
    ------
    InputError
        When the arrays differ in length, are empty, hold codes out of range or hold
        non-finite ratings.
    """

    def __init__(
        self,
        user: Sequence[int] | np.ndarray,
        item: Sequence[int] | np.ndarray,
        rating: Sequence[float] | np.ndarray,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
        timestamp: Sequence[int] | np.ndarray | None = None,
        user_ids: Sequence[Any] | np.ndarray | None = None,
        item_ids: Sequence[Any] | np.ndarray | None = None,
        name: str = "ratings",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.user = np.ascontiguousarray(user, dtype=np.int32)
        self.item = np.ascontiguousarray(item, dtype=np.int32)
        self.rating = np.ascontiguousarray(rating, dtype=np.float32)
        self.timestamp = (
            None if timestamp is None else np.ascontiguousarray(timestamp, dtype=np.int64)
        )
        self.name = name
        self.metadata = dict(metadata or {})
        self._check_lengths()
        self.n_users = int(n_users) if n_users is not None else int(self.user.max()) + 1
        self.n_items = int(n_items) if n_items is not None else int(self.item.max()) + 1
        self._check_values()
        self.user_ids = np.arange(self.n_users) if user_ids is None else np.asarray(user_ids)
        self.item_ids = np.arange(self.n_items) if item_ids is None else np.asarray(item_ids)
        if len(self.user_ids) != self.n_users or len(self.item_ids) != self.n_items:
            raise InputError(
                f"{name}: id maps have {len(self.user_ids)} users / {len(self.item_ids)} items, "
                f"expected {self.n_users} / {self.n_items}"
            )

    # -- validation -------------------------------------------------------------------------
    def _check_lengths(self) -> None:
        lengths = {len(self.user), len(self.item), len(self.rating)}
        if self.timestamp is not None:
            lengths.add(len(self.timestamp))
        if len(lengths) != 1:
            raise InputError(f"{self.name}: user, item, rating (and timestamp) lengths differ")
        if len(self.user) == 0:
            raise InputError(f"{self.name}: no ratings")

    def _check_values(self) -> None:
        for codes, size, what in (
            (self.user, self.n_users, "user"),
            (self.item, self.n_items, "item"),
        ):
            low, high = int(codes.min()), int(codes.max())
            if low < 0 or high >= size:
                raise InputError(
                    f"{self.name}: {what} codes span [{low}, {high}], outside [0, {size})"
                )
        finite = np.isfinite(self.rating)
        if not finite.all():
            first = int(np.flatnonzero(~finite)[0])
            raise InputError(
                f"{self.name}: rating #{first} is {self.rating[first]}, ratings must be finite"
            )

    # -- raw ids -> codes -------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, name: str = "ratings", metadata: dict[str, Any] | None = None
    ) -> Ratings:
        """Build from raw ids in columns ``user, item, rating[, timestamp]``, consuming ``frame``.

        Codes are assigned in sorted order of the raw ids, so the same file always yields the
        same codes. Of duplicate (user, item) pairs the latest by timestamp is kept (the last
        in row order when there are no timestamps or they tie); the number dropped is stored
        in ``metadata["n_duplicates_dropped"]``. Columns are popped from ``frame`` as they are
        converted, so a large file needs little more than its compact form in memory.
        """
        user, user_ids = pd.factorize(frame.pop("user"), sort=True)
        user = user.astype(np.int32)
        item, item_ids = pd.factorize(frame.pop("item"), sort=True)
        item = item.astype(np.int32)
        rating = frame.pop("rating").to_numpy(dtype=np.float32)
        timestamp = (
            frame.pop("timestamp").to_numpy(dtype=np.int64) if "timestamp" in frame else None
        )
        keep = latest_of_duplicates(user, item, len(item_ids), timestamp)
        meta = {**(metadata or {}), "n_duplicates_dropped": 0}
        if keep is not None:
            meta["n_duplicates_dropped"] = int(len(keep) - keep.sum())
            user, item, rating = user[keep], item[keep], rating[keep]
            timestamp = None if timestamp is None else timestamp[keep]
        return cls(
            user,
            item,
            rating,
            n_users=len(user_ids),
            n_items=len(item_ids),
            timestamp=timestamp,
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_ids),
            name=name,
            metadata=meta,
        )

    def user_codes(self, raw_ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Codes of raw user ids; -1 for ids this data set does not know."""
        return pd.Index(self.user_ids).get_indexer(np.asarray(raw_ids))

    def item_codes(self, raw_ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Codes of raw item ids; -1 for ids this data set does not know."""
        return pd.Index(self.item_ids).get_indexer(np.asarray(raw_ids))

    # -- views ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rating)

    @property
    def density(self) -> float:
        """Fraction of the user × item matrix that holds a rating."""
        return len(self) / (self.n_users * self.n_items)

    def subset(self, rows: np.ndarray, *, name: str | None = None, **metadata: Any) -> Ratings:
        """The ratings at ``rows`` (indices or boolean mask), in the same code space."""
        return Ratings(
            self.user[rows],
            self.item[rows],
            self.rating[rows],
            n_users=self.n_users,
            n_items=self.n_items,
            timestamp=None if self.timestamp is None else self.timestamp[rows],
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            name=name or self.name,
            metadata={**self.metadata, **metadata},
        )

    def to_coo(self) -> sp.coo_matrix:
        """Users × items sparse matrix of ratings (``float32``)."""
        return sp.coo_matrix(
            (self.rating, (self.user, self.item)), shape=(self.n_users, self.n_items)
        )

    def to_csr(self) -> sp.csr_matrix:
        """Users × items CSR matrix of ratings (``float32``), rows = users."""
        return self.to_coo().tocsr()

    def to_torch(
        self, device: str | torch.device = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(users, items, ratings)`` tensors on ``device``: int64, int64, float32."""
        import torch

        return (
            torch.from_numpy(self.user.astype(np.int64)).to(device),
            torch.from_numpy(self.item.astype(np.int64)).to(device),
            torch.from_numpy(self.rating).to(device),
        )

    def users_seen(self) -> np.ndarray:
        """Boolean mask over user codes: True where the user has at least one rating here."""
        return np.bincount(self.user, minlength=self.n_users) > 0

    def items_seen(self) -> np.ndarray:
        """Boolean mask over item codes: True where the item has at least one rating here."""
        return np.bincount(self.item, minlength=self.n_items) > 0

    def describe(self) -> dict[str, Any]:
        """Facts for ``mfbench data info``: sizes, activity, rating histogram, time span."""
        per_user = np.bincount(self.user, minlength=self.n_users)
        per_item = np.bincount(self.item, minlength=self.n_items)
        values, counts = np.unique(self.rating, return_counts=True)
        if len(values) > 20:  # continuous ratings: ten equal-width bins
            counts, edges = np.histogram(self.rating, bins=10)
            values = [f"{lo:.2f}..{hi:.2f}" for lo, hi in itertools.pairwise(edges)]
        facts: dict[str, Any] = {
            "name": self.name,
            "ratings": len(self),
            "users": self.n_users,
            "items": self.n_items,
            "density": self.density,
            "ratings per user (min/median/max)": _spread(per_user),
            "ratings per item (min/median/max)": _spread(per_item),
            "rating mean ± std": f"{self.rating.mean():.3f} ± {self.rating.std():.3f}",
            "rating histogram": {_label(v): int(c) for v, c in zip(values, counts, strict=True)},
        }
        if self.timestamp is not None:
            first, last = pd.to_datetime([self.timestamp.min(), self.timestamp.max()], unit="s")
            facts["time span"] = f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}"
        facts.update({k: v for k, v in self.metadata.items() if not isinstance(v, dict)})
        return facts

    def __repr__(self) -> str:
        stamps = "" if self.timestamp is None else ", timestamps"
        return (
            f"Ratings({self.name!r}: {len(self):,} ratings, {self.n_users:,} users × "
            f"{self.n_items:,} items, density {self.density:.4%}{stamps})"
        )


def latest_of_duplicates(
    user: np.ndarray, item: np.ndarray, n_items: int, timestamp: np.ndarray | None
) -> np.ndarray | None:
    """Mask keeping one rating per (user, item) pair: the latest, ties broken by file order.

    Returns ``None`` when there are no duplicates (the common case, checked by hashing).
    """
    key = pd.Series(user.astype(np.int64) * n_items + item.astype(np.int64))
    if not key.duplicated().any():
        return None
    if timestamp is None:
        return ~key.duplicated(keep="last").to_numpy()
    order = np.argsort(timestamp, kind="stable")
    keep_sorted = ~key.iloc[order].duplicated(keep="last").to_numpy()
    keep = np.zeros(len(key), dtype=bool)
    keep[order[keep_sorted]] = True
    return keep


def _spread(counts: np.ndarray) -> str:
    return f"{counts.min()} / {np.median(counts):g} / {counts.max()}"


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
