"""The data cache folder, and parsed data sets kept there in ``suite.data.storage``'s form."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from suite.data import storage
from suite.data.ratings import Ratings

log = logging.getLogger("mfbench")


def cache_dir() -> Path:
    """``$MFBENCH_DATA`` if set, else ``~/.cache/mfbench``."""
    return Path(os.environ.get("MFBENCH_DATA") or Path.home() / ".cache" / "mfbench")


def save_parsed(ratings: Ratings, path: Path, fingerprint: dict[str, Any]) -> None:
    """Keep ``ratings`` at ``path``, tagged with the ``fingerprint`` of its source."""
    storage.save(path, {"ratings": ratings}, {"fingerprint": fingerprint})


def load_parsed(path: Path, fingerprint: dict[str, Any]) -> Ratings | None:
    """The cached ``Ratings`` at ``path``, or ``None`` when absent, stale or unreadable.

    A file that cannot be read back intact (truncated, corrupt, from another format version
    or another source file) is reported and removed so that the caller rebuilds it.
    """
    if not path.exists():
        return None
    try:
        parts, header = storage.load(path)
    except storage.FormatVersionError:
        log.info("%s: cache is from another mfbench version, rebuilding", path)
        path.unlink()
        return None
    except storage.UNREADABLE as exc:
        log.warning("%s: cache unreadable (%s), rebuilding", path, exc)
        path.unlink(missing_ok=True)
        return None
    if header.get("fingerprint") != fingerprint or "ratings" not in parts:
        log.info("%s: cache is stale, rebuilding", path)
        path.unlink()
        return None
    return parts["ratings"]
