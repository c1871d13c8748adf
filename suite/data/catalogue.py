"""The named data sets: the protocol of a data source, and the registry of sources.

A data source gives names (``synthetic-1m``, ``ml-100k``) to data sets it can make or fetch.
``suite.data.load`` asks each registered source in turn, then falls back on reading a file;
``mfbench data fetch`` and ``mfbench list`` go through here too. Adding a source is one module
(an object following ``DataSource``) plus one line in ``SOURCES``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from suite.data.ratings import Ratings
from suite.errors import InputError


class DataSource(Protocol):
    """What a source of named data sets provides.

    ``names()``
        The data set names it answers to.
    ``load(name, *, seed, features, use_cache) -> Ratings``
        The data set (generated from ``seed``, or read from its cached files), with side
        features when ``features`` (an ``InputError`` where it has none).
    ``has_features(name) -> bool``
        Whether ``load(name, features=True)`` can give side features.
    ``fetch(name, *, force) -> Path or None``
        Download it into the cache (again with ``force``) and return the file; None for a
        data set that is generated, so that there is nothing to fetch.
    """

    def names(self) -> list[str]: ...

    def load(self, name: str, *, seed: int, features: bool, use_cache: bool) -> Ratings: ...

    def has_features(self, name: str) -> bool: ...

    def fetch(self, name: str, *, force: bool) -> Path | None: ...


#: Registry name -> "module:object" of each data source, asked in this order.
SOURCES: dict[str, str] = {
    "synthetic": "suite.data.synthetic:SOURCE",
    "movielens": "suite.data.movielens:SOURCE",
}


def sources() -> list[DataSource]:
    """Every registered data source, in ``SOURCES`` order."""
    found = []
    for target in SOURCES.values():
        module, _, attribute = target.partition(":")
        found.append(getattr(importlib.import_module(module), attribute))
    return found


def names() -> list[str]:
    """Every data set name a registered source answers to."""
    return [name for source in sources() for name in source.names()]


def source_of(name: str) -> DataSource | None:
    """The source that answers to ``name``, or None (a file path, or unknown)."""
    return next((source for source in sources() if name in source.names()), None)


def fetch(name: str, *, force: bool = False) -> Path | None:
    """Fetch the named data set into the cache; None when it is generated (nothing to fetch)."""
    source = source_of(name)
    if source is None:
        raise InputError(f"unknown data set {name!r}; choose from {', '.join(names())}")
    return source.fetch(name, force=force)
