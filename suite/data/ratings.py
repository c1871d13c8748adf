"""``Ratings``: the one in-memory form of a ratings data set that every model receives.

What a ``Ratings`` may hold (checked on construction, so no model, split or summary ever
sees anything else):

* **Codes** (``user``, ``item``): whole numbers in ``[0, n_users)`` / ``[0, n_items)``,
  stored as ``int32``, so at most ``MAX_CODE + 1`` users or items. Float arrays are
  accepted only when every value is whole; a value that would wrap or be truncated by the
  conversion is refused, naming the field.
* **Ratings**: finite, with ``|rating| <= RATING_LIMIT`` (10⁶), stored as ``float32``. The
  limit is far beyond any rating scale (stars, 1-100 scores, play counts), keeps every
  whole rating exact in ``float32`` (below 2²⁴), and keeps sums of squares over a billion
  ratings (10²¹) far inside ``float32``'s range (3.4·10³⁸), so no mean, loss or gradient
  overflows. A larger value is far more likely a corrupt field than a rating.
* **Timestamps**: whole seconds since the epoch in ``TIMESTAMP_RANGE`` (1970-01-01 to
  2100-01-01), stored as ``int64``. Values in milliseconds or microseconds fall outside it
  and are refused rather than misread.
* **Side features** (optional, ``user_features`` / ``item_features``): a ``Features`` with one
  row per code of its side (``n_users`` / ``n_items`` rows), so row ``c`` describes code ``c``
  in this data set and in every subset or split half of it.
* **One rating per (user, item) pair**: a pair given twice is refused (``Ratings.from_frame``
  and the file reader keep the latest of duplicates instead, and count them), so that a
  split never puts one pair in both halves. Arrays are one-dimensional; sizes are whole
  numbers; the raw id maps hold each id once.

``digest()`` identifies the content (codes, ratings, timestamps, sizes, features), whatever
file or generator it came from: run ids and provenance use it.
"""

from __future__ import annotations

import hashlib
import itertools
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from suite.data.features import Features
from suite.errors import InputError

if TYPE_CHECKING:
    import torch

#: Largest code (``int32``): at most ``MAX_CODE + 1`` users or items.
MAX_CODE = int(np.iinfo(np.int32).max)

#: Largest ``|rating|`` accepted (see the module docstring).
RATING_LIMIT = 1e6

#: Accepted timestamps, in seconds since the epoch: 1970-01-01 to 2100-01-01.
TIMESTAMP_RANGE = (0, 4_102_444_800)


class Ratings:
    """Explicit ratings as parallel arrays of integer codes, validated on construction.

    Parameters
    ----------
    user, item : array-like of int
        Codes in ``[0, n_users)`` and ``[0, n_items)``; stored as ``int32``. Floats are
        accepted when they are whole numbers.
    rating : array-like of float
        Finite ratings within ``±RATING_LIMIT``; stored as ``float32``.
    n_users, n_items : int, optional
        Sizes of the code spaces (default: one more than the largest code). Train and test
        halves of a split share the parent's sizes, so a code means the same user in both.
    timestamp : array-like of int, optional
        Whole seconds since the epoch within ``TIMESTAMP_RANGE``, stored as ``int64``;
        needed by temporal splits.
    user_ids, item_ids : array-like, optional
        Raw identifier of each code (``user_ids[code] == raw id``); default: the codes.
    name : str
        Data set name, carried into result records.
    metadata : dict, optional
        Free-form facts about the data (source, checksum, noise floor, split counts, ...).
    user_features, item_features : Features, optional
        Side features, row ``c`` for code ``c`` (``n_users`` / ``n_items`` rows).
    unique_pairs : bool
        The caller vouches that no (user, item) pair repeats (a subset of a ``Ratings``):
        the check is skipped.

    Raises
    ------
    InputError
        When the arrays differ in length, are empty or not one-dimensional, when a code,
        rating, timestamp or size breaks the rules of the module docstring (the message
        names the field), when a (user, item) pair or a raw id repeats, or when a side's
        features do not have one row per code of that side.
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
        user_features: Features | None = None,
        item_features: Features | None = None,
        unique_pairs: bool = False,
    ) -> None:
        self.name = name
        self._digest: str | None = None
        self.user = _codes(user, "user", name)
        self.item = _codes(item, "item", name)
        self.rating = _ratings(rating, name)
        self.timestamp = None if timestamp is None else _timestamps(timestamp, name)
        self.metadata = dict(metadata or {})
        self._check_lengths()
        self.n_users = _size(n_users, "n_users", name, self.user)
        self.n_items = _size(n_items, "n_items", name, self.item)
        self._check_codes()
        self.user_ids = _id_map(user_ids, self.n_users, "user", name)
        self.item_ids = _id_map(item_ids, self.n_items, "item", name)
        if not unique_pairs:
            _refuse_duplicate_pairs(self.user, self.item, self.n_items, self.user_ids, name)
        self.user_features = _side_features(user_features, self.n_users, "user", name)
        self.item_features = _side_features(item_features, self.n_items, "item", name)

    # -- validation -------------------------------------------------------------------------
    def _check_lengths(self) -> None:
        lengths = {len(self.user), len(self.item), len(self.rating)}
        if self.timestamp is not None:
            lengths.add(len(self.timestamp))
        if len(lengths) != 1:
            raise InputError(f"{self.name}: user, item, rating (and timestamp) lengths differ")
        if len(self.user) == 0:
            raise InputError(f"{self.name}: no ratings")

    def _check_codes(self) -> None:
        for codes, size, what in (
            (self.user, self.n_users, "user"),
            (self.item, self.n_items, "item"),
        ):
            low, high = int(codes.min()), int(codes.max())
            if high >= size or size > MAX_CODE + 1:
                raise InputError(
                    f"{self.name}: {what} codes span [{low}, {high}], outside [0, {size})"
                    + (f" (more than {MAX_CODE + 1} {what}s)" if size > MAX_CODE + 1 else "")
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
        in ``metadata["n_duplicates_dropped"]``. Fractional timestamps are truncated to whole
        seconds. Columns are popped from ``frame`` as they are converted, so a large file
        needs little more than its compact form in memory.
        """
        user, user_ids = pd.factorize(frame.pop("user"), sort=True)
        user = user.astype(np.int32)
        item, item_ids = pd.factorize(frame.pop("item"), sort=True)
        item = item.astype(np.int32)
        rating = frame.pop("rating").to_numpy()  # converted to float32 once checked
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
            unique_pairs=True,  # the duplicates were just dropped
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

    def sample_users(self, n_users: int, seed: int = 0) -> Ratings:
        """The ratings of at most ``n_users`` users drawn at random (all, if there are fewer)."""
        users = np.unique(self.user)
        if len(users) <= n_users:
            return self
        chosen = np.random.default_rng(seed).choice(users, size=n_users, replace=False)
        return self.subset(np.isin(self.user, chosen))

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
            user_features=self.user_features,
            item_features=self.item_features,
            unique_pairs=True,  # a subset of pairs that were unique
        )

    def with_features(
        self, *, user_features: Features | None, item_features: Features | None
    ) -> Ratings:
        """These ratings (arrays shared, not copied) with the given side features instead."""
        return Ratings(
            self.user,
            self.item,
            self.rating,
            n_users=self.n_users,
            n_items=self.n_items,
            timestamp=self.timestamp,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            name=self.name,
            metadata=self.metadata,
            user_features=user_features,
            item_features=item_features,
            unique_pairs=True,
        )

    def digest(self) -> str:
        """A SHA-256 of the content (computed once): sizes, codes, ratings, timestamps and
        side features — what a model could learn from, not where it was read from."""
        if self._digest is None:
            hashed = hashlib.sha256(f"{self.n_users} {self.n_items} {len(self)}".encode())
            arrays = [self.user, self.item, self.rating]
            arrays += [] if self.timestamp is None else [self.timestamp]
            for array in arrays:
                hashed.update(array.tobytes())
            for side, features in (("user", self.user_features), ("item", self.item_features)):
                if features is not None:
                    matrix = features.matrix
                    hashed.update(f"{side} {matrix.shape} {'|'.join(features.names)}".encode())
                    for part in (matrix.indptr, matrix.indices, matrix.data):
                        hashed.update(np.ascontiguousarray(part).tobytes())
            self._digest = hashed.hexdigest()
        return self._digest

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
            "rating mean ± std": (
                f"{self.rating.mean(dtype=np.float64):.3f} ± "
                f"{self.rating.std(dtype=np.float64):.3f}"
            ),
            "rating histogram": {_label(v): int(c) for v, c in zip(values, counts, strict=True)},
        }
        if self.timestamp is not None:
            first, last = pd.to_datetime([self.timestamp.min(), self.timestamp.max()], unit="s")
            facts["time span"] = f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}"
        for side, features in (("user", self.user_features), ("item", self.item_features)):
            if features is not None:
                facts[f"{side} features"] = features.n_features
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

    Returns ``None`` when there are no duplicates (the common case, checked by one hashing
    pass). Otherwise only the repeated rows are sorted (by pair, time, file position), so
    a few duplicates in a large file cost little.
    """
    key = user.astype(np.int64) * n_items + item.astype(np.int64)
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return None
    rows = np.flatnonzero(repeated)
    stamps = np.zeros(len(rows), dtype=np.int64) if timestamp is None else timestamp[rows]
    order = np.lexsort((rows, stamps, key[rows]))  # by pair, then time, then file order
    pairs = key[rows][order]
    last_of_pair = np.append(pairs[1:] != pairs[:-1], True)
    keep = ~repeated
    keep[rows[order[last_of_pair]]] = True
    return keep


def _size(given: Any, field: str, name: str, codes: np.ndarray) -> int:
    """A side's size: ``given`` if it is a whole number, else one more than the largest code."""
    if given is None:
        return int(codes.max()) + 1
    if isinstance(given, bool | np.bool_) or not isinstance(given, numbers.Integral):
        raise InputError(f"{name}: {field}={given!r} must be a whole number")
    return int(given)


def _id_map(ids: Any, size: int, side: str, name: str) -> np.ndarray:
    """The raw id of each code of a side (default: the codes), each id once."""
    if ids is None:
        return np.arange(size)
    array = np.asarray(ids)
    if array.ndim != 1 or len(array) != size:
        raise InputError(
            f"{name}: the {side} id map has shape {array.shape}, expected one id per {side} "
            f"code ({size})"
        )
    repeated = pd.Index(array).duplicated()
    if repeated.any():
        raise InputError(f"{name}: {side} id {str(array[repeated][0])!r} names two {side} codes")
    return array


def _refuse_duplicate_pairs(
    user: np.ndarray, item: np.ndarray, n_items: int, user_ids: np.ndarray, name: str
) -> None:
    """``InputError`` naming the first (user, item) pair given twice, if any."""
    key = user.astype(np.int64) * n_items + item.astype(np.int64)
    repeated = pd.Series(key).duplicated().to_numpy()
    if repeated.any():
        first = int(np.flatnonzero(repeated)[0])
        raise InputError(
            f"{name}: the pair (user code {user[first]}, item code {item[first]}) is rated twice "
            f"(rating #{first}); give each pair once (files keep the latest of duplicates)"
        )


def _side_features(
    features: Features | None, n_codes: int, side: str, name: str
) -> Features | None:
    """``features`` if it has one row per ``side`` code; ``InputError`` naming the side if not."""
    if features is None:
        return None
    if not isinstance(features, Features):
        raise InputError(f"{name}: {side}_features must be a Features, got {type(features)}")
    if features.n_rows != n_codes:
        raise InputError(
            f"{name}: {side}_features has {features.n_rows} rows, expected one per {side} "
            f"code ({n_codes})"
        )
    return features


def _codes(values: Sequence[Any] | np.ndarray, field: str, name: str) -> np.ndarray:
    """``values`` as ``int32`` codes, refusing any that would wrap or be truncated."""
    codes = _whole_numbers(values, field, name)
    if codes.size and (codes.min() < 0 or codes.max() > MAX_CODE):
        low, high = int(codes.min()), int(codes.max())
        raise InputError(
            f"{name}: {field} codes span [{low}, {high}], outside [0, {MAX_CODE}] (int32)"
        )
    return np.ascontiguousarray(codes, dtype=np.int32)


def _timestamps(values: Sequence[Any] | np.ndarray, name: str) -> np.ndarray:
    """``values`` as ``int64`` seconds, refusing any outside ``TIMESTAMP_RANGE``."""
    seconds = np.ascontiguousarray(_whole_numbers(values, "timestamp", name), dtype=np.int64)
    low, high = TIMESTAMP_RANGE
    if seconds.size and not (low <= seconds.min() and seconds.max() <= high):
        first = int(np.flatnonzero((seconds < low) | (seconds > high))[0])
        raise InputError(
            f"{name}: timestamp #{first} is {seconds[first]}, timestamps must be seconds "
            f"since the epoch within [{low}, {high}] (1970..2100)"
        )
    return seconds


def _ratings(values: Sequence[Any] | np.ndarray, name: str) -> np.ndarray:
    """``values`` as ``float32``, refusing non-finite ones and those beyond ``RATING_LIMIT``.

    Checked before the conversion, so a value that ``float32`` would turn into ``inf`` is
    reported as it was given. (``min``/``max`` are NaN when any value is: refused too.)
    """
    given = np.asarray(values)
    if given.ndim != 1:
        raise InputError(f"{name}: ratings must be a 1-d array, got shape {given.shape}")
    if given.dtype.kind not in "iuf":
        raise InputError(f"{name}: ratings must be numbers, got an array of {given.dtype}")
    if given.size and not (given.min() >= -RATING_LIMIT and given.max() <= RATING_LIMIT):
        first = int(np.flatnonzero(~(np.abs(given) <= RATING_LIMIT))[0])
        raise InputError(
            f"{name}: rating #{first} is {given[first]}, ratings must be finite and "
            f"within ±{RATING_LIMIT:g}"
        )
    return np.ascontiguousarray(given, dtype=np.float32)


def _whole_numbers(values: Sequence[Any] | np.ndarray, field: str, name: str) -> np.ndarray:
    """``values`` as an integer array, or ``InputError`` naming ``field`` if any is not whole."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{name}: {field} must be a 1-d array, got shape {array.shape}")
    if array.size == 0 or array.dtype.kind in "iu":
        return array
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array)) & (np.abs(array) < 2.0**63)
        if not whole.all():
            first = int(np.flatnonzero(~whole)[0])
            raise InputError(f"{name}: {field} #{first} is {array[first]}, not a whole number")
        return array.astype(np.int64)
    raise InputError(f"{name}: {field} values must be integers, got an array of {array.dtype}")


def _spread(counts: np.ndarray) -> str:
    return f"{counts.min()} / {np.median(counts):g} / {counts.max()}"


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
