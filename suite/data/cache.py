"""The data cache folder, and parsed data sets kept there in ``suite.data.storage``'s form.

A parsed ratings file is served from the cache only while the file holds what was parsed.
The truth is the file's content (its SHA-256, recorded when it was parsed); its ``stat``
(device, inode, size, mtime and ctime in nanoseconds) is a shortcut that skips the hash
when it cannot have been forged:

* the **ctime** changes whenever the content (or mtime) does and, unlike the mtime, cannot
  be set back (``touch -r``, ``os.utime``, a restore from a backup, ``cp -p``, ``rsync -t``
  all leave a new ctime), so an unchanged ``stat`` means unchanged content;
* except for a file changed within one timestamp tick of the moment it was parsed (a
  rewrite in that tick keeps the ctime). A file last changed less than ``SETTLED_NS``
  before it was parsed is therefore checked by its hash on every reload.

So a reload costs a ``stat`` (plus, for a file whose ``stat`` changed with its size, or
that was parsed right after being written, one SHA-256 pass over it). A file that changes
while it is parsed is not cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suite.data import storage
from suite.data.ratings import Ratings
from suite.errors import InputError

log = logging.getLogger("mfbench")

#: A file whose ctime is at least this much older than the moment it was parsed is
#: "settled": a later change cannot keep its ctime (covers 2-second timestamps, as FAT's).
SETTLED_NS = 2_000_000_000


def cache_dir() -> Path:
    """``$MFBENCH_DATA`` if set, else ``~/.cache/mfbench``."""
    return Path(os.environ.get("MFBENCH_DATA") or Path.home() / ".cache" / "mfbench")


@dataclass(frozen=True)
class FileState:
    """What a source file looked like at one moment: its ``stat``, and whether it had settled.

    Take it *before* parsing the file, so that a change during the parse shows.
    """

    stat: dict[str, int]
    settled: bool

    @classmethod
    def of(cls, path: Path) -> FileState:
        """The state of ``path`` now."""
        now = time.time_ns()
        stat = file_stat(path)
        return cls(stat, now - stat["ctime_ns"] >= SETTLED_NS)


def file_stat(path: Path) -> dict[str, int]:
    """The ``stat`` fields that identify a file's content (see the module docstring)."""
    info = path.stat()
    return {
        "device": info.st_dev,
        "inode": info.st_ino,
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
    }


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes, hex."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def save_parsed(ratings: Ratings, path: Path, fingerprint: dict[str, Any]) -> None:
    """Keep ``ratings`` at ``path``, tagged with the ``fingerprint`` of its source.

    The cache only saves time: when it cannot be written (disk full, read-only) that is a
    warning, and the data are parsed again next time.
    """
    try:
        storage.save(path, {"ratings": ratings}, {"fingerprint": fingerprint})
    except InputError as exc:
        log.warning("%s; not cached", exc)


def load_parsed(path: Path, fingerprint: dict[str, Any]) -> Ratings | None:
    """The cached ``Ratings`` at ``path``, or ``None`` when absent, stale or unreadable.

    A file that cannot be read back intact (truncated, corrupt, from another format version
    or another source file) is reported and removed so that the caller rebuilds it.
    """
    return _load_if(path, lambda stored: stored == fingerprint)


def save_parsed_file(
    ratings: Ratings, path: Path, key: dict[str, Any], source: Path, before: FileState
) -> None:
    """Keep ``ratings`` parsed from ``source`` at ``path``, unless ``source`` changed meanwhile.

    Parameters
    ----------
    ratings : Ratings
        What was parsed.
    path : Path
        Where the cache keeps it.
    key : dict
        How it was parsed (path, format, parser version): a reload must match it exactly.
    source : Path
        The file parsed.
    before : FileState
        ``FileState.of(source)`` taken before parsing it.
    """
    digest = file_digest(source)
    if file_stat(source) != before.stat:
        log.warning("%s: changed while it was read; not cached", source)
        return
    fingerprint = {**key, "stat": before.stat, "settled": before.settled, "sha256": digest}
    save_parsed(ratings, path, fingerprint)


def load_parsed_file(path: Path, key: dict[str, Any], source: Path) -> Ratings | None:
    """The cached ``Ratings`` of ``source`` at ``path``, or ``None`` unless it still holds what
    was parsed (see the module docstring); a stale or unreadable copy is removed."""
    return _load_if(path, lambda stored: _same_source(stored, key, source))


def _same_source(stored: dict[str, Any], key: dict[str, Any], source: Path) -> bool:
    if any(stored.get(name) != value for name, value in key.items()):
        return False
    then, now = stored.get("stat") or {}, file_stat(source)
    if now.get("size") != then.get("size"):
        return False
    if now == then and stored.get("settled"):
        return True
    return file_digest(source) == stored.get("sha256")


def _load_if(path: Path, matches: Callable[[dict[str, Any]], bool]) -> Ratings | None:
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
    if "ratings" not in parts or not matches(header.get("fingerprint") or {}):
        log.info("%s: cache is stale, rebuilding", path)
        path.unlink()
        return None
    return parts["ratings"]
