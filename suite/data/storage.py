"""The one on-disk form of ``Ratings``: an uncompressed ``.npz`` holding one or more named parts.

The parse cache stores a data set as one part (``"ratings"``), the runner stores each shared
split as two (``"train"``, ``"test"``). Arrays are stored as they are in memory (no pickling,
loads in milliseconds); names, sizes and metadata go into a JSON header, beside whatever
the caller adds to it (the cache's fingerprint). Files are written under a temporary name
and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from suite import safe_io
from suite.data.ratings import Ratings
from suite.errors import InputError

#: Bump when the layout changes; files of another version are refused, never misread.
FORMAT_VERSION = 2


class FormatVersionError(ValueError):
    """The file was written in another layout (by an older or newer mfbench)."""


#: What reading a damaged, truncated or foreign file raises.
UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, InputError)

_FIELDS = ("user", "item", "rating", "timestamp", "user_ids", "item_ids")


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
            )
    return parts, header


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and arrays in metadata."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"metadata value {value!r} cannot be stored")
