"""The executors' registry: where a grid's runs happen (``mfbench run --executor NAME``).

Adding an executor is one module (a class following ``suite.executors.base.Executor``) plus
one line in ``REGISTRY``; the command line's ``--executor`` choices are read from here.
Classes are imported on first use, so an executor's optional library (Dask) is needed only
by the grids that use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from suite.errors import InputError

if TYPE_CHECKING:
    from suite.executors.base import Executor

#: Registry name -> "module:Class"; the first is the default.
REGISTRY: dict[str, str] = {
    "local": "suite.executors.local:LocalExecutor",
    "dask": "suite.executors.dask:DaskExecutor",
}


def names() -> list[str]:
    """Every registered executor, the default first."""
    return list(REGISTRY)


def get(name: str) -> type[Executor]:
    """The class registered as ``name``."""
    if name not in REGISTRY:
        raise InputError(f"--executor {name!r}: expected one of {', '.join(REGISTRY)}")
    module, _, attribute = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def create(name: str, *, threads_per_run: int, **options: Any) -> Executor:
    """The executor ``name``, not yet started, with the ``options`` set (not None or False).

    An option set that the executor does not take is refused in one line naming both, e.g.
    ``"--scheduler tcp://…: only goes with --executor dask"``.
    """
    executor = get(name)
    given = {key: value for key, value in options.items() if value not in (None, False)}
    for key, value in given.items():
        if key not in executor.options:
            takers = [other for other in REGISTRY if key in get(other).options]
            flag = f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")
            where = " or ".join(f"--executor {other}" for other in takers) or "no executor"
            raise InputError(f"{flag}: only goes with {where} (not --executor {name})")
    return executor(threads_per_run=threads_per_run, **given)
