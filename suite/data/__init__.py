"""Data sets by name or path: ``load`` returns the ``Ratings`` every model receives."""

from __future__ import annotations

import hashlib
from pathlib import Path

from suite.data import cache, movielens, synthetic
from suite.data.files import read_ratings
from suite.data.ratings import Ratings
from suite.errors import InputError

__all__ = ["Ratings", "load", "names"]


def names() -> list[str]:
    """Every data set name ``load`` accepts (besides file paths)."""
    return [*synthetic.names(), *movielens.RELEASES]


def load(
    name_or_path: str | Path,
    *,
    seed: int = 0,
    format: str | None = None,
    use_cache: bool = True,
) -> Ratings:
    """Load a data set by name (synthetic or MovieLens) or from a ratings file.

    Parameters
    ----------
    name_or_path : str or Path
        One of ``names()``, or the path of a file in a format ``suite.data.files`` reads.
    seed : int
        Seed of synthetic data sets (ignored for files).
    format : str, optional
        Force the file format (see ``suite.data.files.FORMATS``).
    use_cache : bool
        Reuse (and write) the parsed binary copy in the cache folder.

    Raises
    ------
    InputError
        Unknown name (the message lists valid ones) or unreadable file.
    """
    key = str(name_or_path)
    if key in synthetic.names():
        return synthetic.named(key, seed=seed)
    if key in movielens.RELEASES:
        return _load_release(key, use_cache)
    path = Path(name_or_path)
    if path.is_file():
        return _load_file(path, format, use_cache)
    raise InputError(f"unknown data set {key!r}: not a file, and not one of {', '.join(names())}")


def _load_release(name: str, use_cache: bool) -> Ratings:
    parsed = cache.cache_dir() / "parsed" / f"{name}.npz"
    fingerprint = {"release": name}
    ratings = cache.load_parsed(parsed, fingerprint) if use_cache else None
    if ratings is None:
        ratings_file = movielens.fetch(name)
        ratings = read_ratings(ratings_file, name=name)
        movielens.check_counts(ratings, name)  # before caching: never store a wrong copy
        if use_cache:
            cache.save_parsed(ratings, parsed, fingerprint)
    else:
        movielens.check_counts(ratings, name)
    return ratings


def _load_file(path: Path, format: str | None, use_cache: bool) -> Ratings:
    stat = path.stat()
    resolved = str(path.resolve())
    fingerprint = {
        "path": resolved,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "format": format,
    }
    digest = hashlib.sha1(resolved.encode()).hexdigest()[:16]
    parsed = cache.cache_dir() / "parsed" / f"file-{digest}.npz"
    ratings = cache.load_parsed(parsed, fingerprint) if use_cache else None
    if ratings is None:
        ratings = read_ratings(path, format=format)
        if use_cache:
            cache.save_parsed(ratings, parsed, fingerprint)
    return ratings
