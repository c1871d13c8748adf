"""The data cache folder, and parsed data sets stored there in a compact binary form."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from suite.data.ratings import Ratings
from suite.errors import InputError

log = logging.getLogger("mfbench")

#: Bump when the stored layout changes; older files are then rebuilt, never misread.
CACHE_VERSION = 1


def cache_dir() -> Path:
    """``$MFBENCH_DATA`` if set, else ``~/.cache/mfbench``."""
    return Path(os.environ.get("MFBENCH_DATA") or Path.home() / ".cache" / "mfbench")


def save_parsed(ratings: Ratings, path: Path, fingerprint: dict[str, Any]) -> None:
    """Store ``ratings`` as an uncompressed ``.npz`` (written to a temporary name, then renamed)."""
    header = {
        "version": CACHE_VERSION,
        "fingerprint": fingerprint,
        "name": ratings.name,
        "metadata": ratings.metadata,
        "n_users": ratings.n_users,
        "n_items": ratings.n_items,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        np.savez(
            out,
            header=np.array(json.dumps(header)),
            user=ratings.user,
            item=ratings.item,
            rating=ratings.rating,
            timestamp=ratings.timestamp if ratings.timestamp is not None else np.empty(0, np.int64),
            user_ids=_storable(ratings.user_ids),
            item_ids=_storable(ratings.item_ids),
        )
    os.replace(partial, path)


def load_parsed(path: Path, fingerprint: dict[str, Any]) -> Ratings | None:
    """The cached ``Ratings`` at ``path``, or ``None`` when absent, stale or unreadable.

    A file that cannot be read back intact (truncated, corrupt, from another cache version or
    another source file) is reported and removed so that the caller rebuilds it.
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            header = json.loads(str(stored["header"]))
            if header.get("version") != CACHE_VERSION or header.get("fingerprint") != fingerprint:
                log.info("%s: cache is stale, rebuilding", path)
                path.unlink()
                return None
            timestamp = stored["timestamp"]
            return Ratings(
                stored["user"],
                stored["item"],
                stored["rating"],
                n_users=header["n_users"],
                n_items=header["n_items"],
                timestamp=timestamp if len(timestamp) else None,
                user_ids=stored["user_ids"],
                item_ids=stored["item_ids"],
                name=header["name"],
                metadata=header["metadata"],
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, InputError) as exc:
        log.warning("%s: cache unreadable (%s), rebuilding", path, exc)
        path.unlink(missing_ok=True)
        return None


def _storable(ids: np.ndarray) -> np.ndarray:
    """Raw ids as a non-object array (``np.load`` refuses pickled objects)."""
    return ids.astype(str) if ids.dtype == object else ids
