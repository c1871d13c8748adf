"""Data sets by name or path: ``load`` returns the ``Ratings`` every model receives.

A name is answered by a registered data source (``suite.data.catalogue``: the generated
sets, the MovieLens releases); anything else is read as a ratings file (``suite.data.files``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from suite.data import cache, catalogue
from suite.data.files import PARSER_VERSION, read_ratings
from suite.data.ratings import Ratings
from suite.errors import InputError

__all__ = ["Ratings", "fetch", "load", "names"]

names = catalogue.names
fetch = catalogue.fetch


def has_features(name: str) -> bool:
    """Whether ``load(name, features=True)`` can give side features (ml-100k, planted sets)."""
    source = catalogue.source_of(name)
    return source is not None and source.has_features(name)


def load(
    name_or_path: str | Path,
    *,
    seed: int = 0,
    format: str | None = None,
    use_cache: bool = True,
    features: bool = False,
) -> Ratings:
    """Load a data set by name (synthetic or MovieLens) or from a ratings file.

    Parameters
    ----------
    name_or_path : str or Path
        One of ``names()``, or the path of a file in a format ``suite.data.files`` reads.
    seed : int
        Seed of generated data sets (ignored for files).
    format : str, optional
        Force the file format (see ``suite.data.files.FORMATS``).
    use_cache : bool
        Reuse (and write) the parsed binary copy in the cache folder.
    features : bool
        Also load side features (``user_features``, ``item_features``): the users' and
        movies' attributes for ``ml-100k`` (encoding in ``suite.data.movielens``), group
        one-hots carrying part of the signal for the planted sets
        (``synthetic.FEATURE_OPTIONS``; their ratings then differ from the plain set's).

    Raises
    ------
    InputError
        Unknown name (the message lists valid ones), a file that cannot be read or
        breaks a rule of ``suite.data.files`` (the message names file and line), or
        ``features`` asked of a data set that has none.
    """
    key = str(name_or_path)
    source = catalogue.source_of(key)
    if source is not None:
        return source.load(key, seed=seed, features=features, use_cache=use_cache)
    if features:
        with_features = ", ".join(name for name in names() if has_features(name))
        raise InputError(f"{key}: side features come only with the data sets {with_features}")
    path = Path(name_or_path)
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise InputError(f"{path}: not a regular file (a pipe, socket or device); copy it to one")
    if path.exists():  # a directory is refused by the reader, naming it
        return _load_file(path, format, use_cache)
    if path.suffix or len(path.parts) > 1:  # meant as a path, not a name
        raise InputError(f"{path}: no such file")
    raise InputError(f"unknown data set {key!r}: not a file, and not one of {', '.join(names())}")


def _load_file(path: Path, format: str | None, use_cache: bool) -> Ratings:
    """Parse ``path``, or take its parse from the cache while the file is unchanged."""
    if not use_cache or path.is_dir():
        return read_ratings(path, format=format)
    resolved = str(path.resolve())
    key = {"path": resolved, "format": format, "parser": PARSER_VERSION}
    digest = hashlib.sha1(resolved.encode()).hexdigest()[:16]
    parsed = cache.cache_dir() / "parsed" / f"file-{digest}.npz"
    before = cache.FileState.of(path)
    ratings = cache.load_parsed_file(parsed, key, path)
    if ratings is None:
        ratings = read_ratings(path, format=format)
        cache.save_parsed_file(ratings, parsed, key, path, before)
    return ratings
