"""The contenders' registry: ``names()``, ``get(name)``, ``lookup(name)``, ``create(name, ...)``.

Adding a contender is one file (a ``Model`` subclass, see ``suite.models.base``) plus one
line in ``REGISTRY``. Classes are imported on first use, so a missing optional library
only makes its model unavailable (``available()`` says why), never breaks the others.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from suite.errors import InputError
from suite.models.base import Model

#: Registry name -> "module:Class".
REGISTRY: dict[str, str] = {
    "torch-mf": "suite.models.torch_mf:TorchMF",
    "torch-biased-mf": "suite.models.torch_mf:TorchBiasedMF",
    "torch-mf-seed": "suite.models.torch_mf:TorchMFSeed",
    "numpy-sgd": "baselines.numpy_sgd:NumpySGD",
    "numba-sgd": "baselines.numba_sgd:NumbaSGD",
    "numpy-als": "baselines.numpy_als:NumpyALS",
    "implicit-als": "baselines.implicit_als:ImplicitALS",
    "lightfm-warp": "baselines.lightfm_model:LightFMWarp",
    "lightfm-bpr": "baselines.lightfm_model:LightFMBPR",
    "popularity": "baselines.popularity:Popularity",
}


def names() -> list[str]:
    """Every registered contender."""
    return list(REGISTRY)


def get(name: str) -> type[Model]:
    """The class registered as ``name``."""
    if name not in REGISTRY:
        raise InputError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}")
    module, _, attribute = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def lookup(name: str) -> type[Model] | None:
    """The class registered as ``name``, or None for a name that is not (or no longer) one.

    For reading results, which may name contenders retired since (their facts default).
    """
    return get(name) if name in REGISTRY else None


def speedup_baseline() -> str | None:
    """The contender that declares itself the report's speed-up baseline, if any."""
    return next((name for name in REGISTRY if get(name).speedup_baseline), None)


def hyperparameters(name: str) -> dict[str, Any]:
    """A contender's documented hyperparameters and their defaults (not backend/threads/seed)."""
    signature = inspect.signature(get(name))
    harness = {"backend", "n_threads", "seed"}
    return {p.name: p.default for p in signature.parameters.values() if p.name not in harness}


def create(
    name: str, backend: str = "cpu", n_threads: int | None = None, seed: int = 0, **params: Any
) -> Model:
    """A new, unfitted ``name`` model; an unknown parameter raises ``InputError`` naming it."""
    valid = hyperparameters(name)
    for key in params:
        if key not in valid:
            raise InputError(
                f"unknown parameter {key!r} for {name}; valid: {', '.join(valid) or 'none'}"
            )
    return get(name)(backend=backend, n_threads=n_threads, seed=seed, **params)
