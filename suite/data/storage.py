"""The one on-disk form of ``Ratings``: an uncompressed ``.npz`` holding one or more named parts.

The parse cache stores a data set as one part (``"ratings"``), the runner stores each shared
split as two (``"train"``, ``"test"``). Arrays are stored as they are in memory (no pickling,
loads in milliseconds); names, sizes and metadata go into a JSON header, beside whatever
the caller adds to it (the cache's fingerprint). Side features are stored as the parts of
their CSR matrix (``<part>.<side>_features.data`` / ``.indices`` / ``.indptr`` / ``.shape``)
and their column names (``.names``). Files are written under a temporary name
and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from suite import safe_io
from suite.data.features import Features
from suite.data.ratings import Ratings
from suite.errors import InputError

#: Bump when the layout changes; files of another version are refused, never misread.
FORMAT_VERSION = 3  # 3: side features


class FormatVersionError(ValueError):
    """The file was written in another layout (by an older or newer mfbench)."""


#: What reading a damaged, truncated or foreign file raises.
UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, InputError)

_FIELDS = ("user", "item", "rating", "timestamp", "user_ids", "item_ids")

_SIDES = ("user_features", "item_features")

_CSR_PARTS = ("data", "indices", "indptr", "shape")


def save(path: Path, parts: dict[str, Ratings], header: dict[str, Any] | None = None) -> None:
    """Write ``parts`` (name → Ratings) and ``header`` to ``path``, atomically.

    A write the system refuses (disk full, read-only) raises ``InputError`` naming ``path``
    and leaves any earlier file there as it was.
    """
    described: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for part, ratings in parts.items():
        described[part] = {
            "name": ratings.name,
            "n_users": ratings.n_users,
            "n_items": ratings.n_items,
            "metadata": ratings.metadata,
        }
        for field in _FIELDS:
            value = getattr(ratings, field)
            if value is not None:
                arrays[f"{part}.{field}"] = value.astype(str) if value.dtype == object else value
        for side in _SIDES:
            features = getattr(ratings, side)
            if features is not None:
                arrays.update(_features_arrays(f"{part}.{side}", features))
    document = {**(header or {}), "version": FORMAT_VERSION, "parts": described}
    safe_io.make_folder(path.parent, "folder")
    with safe_io.replacing(path) as partial, partial.open("wb") as out:
        np.savez(out, header=np.array(json.dumps(document, default=_plain)), **arrays)


def load(path: Path) -> tuple[dict[str, Ratings], dict[str, Any]]:
    """The parts stored at ``path`` and its header.

    Raises one of ``UNREADABLE`` when the file is missing, damaged or holds arrays that do
    not make valid ``Ratings`` (``FormatVersionError``, one of them, for another layout).
    """
    with np.load(path, allow_pickle=False) as stored:
        header = json.loads(str(stored["header"]))
        if header.get("version") != FORMAT_VERSION:
            raise FormatVersionError(
                f"{path}: format version {header.get('version')}, this mfbench reads "
                f"{FORMAT_VERSION}"
            )
        parts = {}
        for part, facts in header["parts"].items():
            arrays = {f: stored[f"{part}.{f}"] for f in _FIELDS if f"{part}.{f}" in stored}
            parts[part] = Ratings(
                arrays["user"],
                arrays["item"],
                arrays["rating"],
                n_users=facts["n_users"],
                n_items=facts["n_items"],
                timestamp=arrays.get("timestamp"),
                user_ids=arrays.get("user_ids"),
                item_ids=arrays.get("item_ids"),
                name=facts["name"],
                metadata=facts["metadata"],
                **{side: _stored_features(stored, f"{part}.{side}") for side in _SIDES},
            )
    return parts, header


def _features_arrays(prefix: str, features: Features) -> dict[str, np.ndarray]:
    matrix = features.matrix
    return {
        f"{prefix}.data": matrix.data,
        f"{prefix}.indices": matrix.indices,
        f"{prefix}.indptr": matrix.indptr,
        f"{prefix}.shape": np.array(matrix.shape, dtype=np.int64),
        f"{prefix}.names": np.array(features.names, dtype=str),
    }


def _stored_features(stored: Any, prefix: str) -> Features | None:
    if f"{prefix}.names" not in stored:
        return None
    data, indices, indptr, shape = (stored[f"{prefix}.{p}"] for p in _CSR_PARTS)
    matrix = sp.csr_matrix((data, indices, indptr), shape=tuple(int(n) for n in shape))
    return Features(matrix, tuple(str(n) for n in stored[f"{prefix}.names"]))


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and arrays in metadata."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} cannot be stored")
