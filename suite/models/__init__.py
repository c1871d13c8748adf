"""The contenders' registry: ``names()``, ``get(name)``, ``lookup(name)``, ``create(name, ...)``.

``check_params`` checks hyperparameter values against the specs each class declares
(``Model.specs()``); ``create`` and config validation both call it. The class-fact queries
(``enters``, ``is_floor``, ``trains``, ``has_curve``, ``twin``, ``library``, ``is_pytorch``,
``code_lines``) read a contender's facts by name, leniently: results may name contenders
retired since.

Adding a contender is one file (a ``Model`` subclass, see ``suite.models.base``) plus one
line in ``REGISTRY``. Classes are imported on first use, so a missing optional library
only makes its model unavailable (``available()`` says why), never breaks the others.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from suite.errors import InputError
from suite.models.base import HARNESS_SETTINGS, HARNESS_SPECS, Contest, Hyperparameter, Model
from suite.models.code_lines import code_lines as count_code_lines
from suite.models.facts import Facts, recorded_facts, recorded_models

#: Registry name -> "module:Class".
REGISTRY: dict[str, str] = {
    "torch-mf": "suite.models.torch.mf:TorchMF",
    "torch-biased-mf": "suite.models.torch.mf:TorchBiasedMF",
    "torch-mf-seed": "suite.models.torch.mf:TorchMFSeed",
    "torch-bpr": "suite.models.torch.bpr:TorchBPR",
    "torch-ials": "suite.models.torch.ials:TorchIALS",
    "torch-als": "suite.models.torch.als:TorchALS",
    "torch-hybrid": "suite.models.torch.hybrid:TorchHybrid",
    "numpy-sgd": "baselines.numpy_sgd:NumpySGD",
    "numba-sgd": "baselines.numba_sgd:NumbaSGD",
    "numpy-als": "baselines.numpy_als:NumpyALS",
    "global-mean": "baselines.floors:GlobalMean",
    "bias-only": "baselines.floors:BiasOnly",
    "surprise-svd": "baselines.surprise_models:SurpriseSVD",
    "surprise-svdpp": "baselines.surprise_models:SurpriseSVDpp",
    "cornac-mf": "baselines.cornac_mf:CornacMF",
    "implicit-als": "baselines.implicit_models:ImplicitALS",
    "implicit-bpr": "baselines.implicit_models:ImplicitBPR",
    "implicit-lmf": "baselines.implicit_models:ImplicitLMF",
    "lightfm-warp": "baselines.lightfm_model:LightFMWarp",
    "lightfm-bpr": "baselines.lightfm_model:LightFMBPR",
    "lightfm-warp-hybrid": "baselines.lightfm_model:LightFMWarpHybrid",
    "lightfm-bpr-hybrid": "baselines.lightfm_model:LightFMBPRHybrid",
    "popularity": "baselines.popularity:Popularity",
    "torch-bpmf": "suite.models.torch.bpmf:TorchBPMF",
    "spark-als": "baselines.spark_als:SparkALS",
    "spark-ials": "baselines.spark_als:SparkIALS",
    "libmf-sgd": "baselines.libmf_sgd:LIBMFSGD",
    "libmf-bpr": "baselines.libmf_sgd:LIBMFBPR",
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


# -- class facts by name, read leniently (results may name contenders retired since) -------------


def facts(model: str) -> Facts | None:
    """``model``'s facts: as the folder being read recorded them (``facts.recorded``), else
    its class's; None for a name that is neither recorded nor registered."""
    found = recorded_facts(model)
    if found is not None:
        return found
    contender = lookup(model)
    return Facts.of(contender) if contender is not None else None


def enters(model: str, contest: Contest) -> bool:
    """Whether ``model`` enters ``contest`` (an unknown name enters every one)."""
    known = facts(model)
    return known is None or str(contest) in known.contests


def is_floor(model: str) -> bool:
    """Whether ``model`` is a contest's trivial reference (``Model.floor``)."""
    known = facts(model)
    return known is not None and known.floor


def trains(model: str) -> bool:
    """Whether ``model`` learns by training (``Model.trains``; some floors only count)."""
    known = facts(model)
    return known is None or known.trains


def has_curve(model: str) -> bool:
    """Whether ``model``'s runs take a per-epoch curve (``Model.epoch_curve``): without one,
    the time to a target is not measured, which is not the same as never reaching it."""
    known = facts(model)
    return known is None or known.epoch_curve


def caps_epochs(model: str) -> bool:
    """Whether an epoch of ``model`` may visit only part of the data (``Model.caps_epochs``)."""
    known = facts(model)
    return known is not None and known.caps_epochs


def twin(model: str) -> str | None:
    """The contender that trains the very same model differently (``Model.same_model_as``)."""
    known = facts(model)
    return known.same_model_as if known is not None else None


def library(model: str) -> str | None:
    """The library ``model`` is written with: its first requirement's import name, e.g.
    ``"torch"``, ``"implicit"`` (``Model.requirements``); None for an unknown name."""
    known = facts(model)
    return known.library if known is not None else None


def method(model: str) -> str:
    """How ``model`` optimises (``Model.method``: "sgd", "als", "gibbs"; "" when unknown)."""
    known = facts(model)
    return known.method if known is not None else ""


def code_lines(model: str) -> int | None:
    """Lines of code of ``model``'s model and training (``suite.models.code_lines``): as the
    folder being read recorded them, else counted in today's class; None for an unknown name."""
    known = recorded_facts(model)
    if known is not None and known.code_lines is not None:
        return known.code_lines
    contender = lookup(model)
    return count_code_lines(contender) if contender is not None else None


def is_pytorch(model: str) -> bool:
    """Whether ``model`` is written in PyTorch (the subject of the study)."""
    return library(model) == "torch"


def library_versions() -> dict[str, str | None]:
    """The installed version of every library a registered contender needs (and Java's,
    where Spark needs it): ``Model.library_versions`` over the registry."""
    versions: dict[str, str | None] = {}
    for name in REGISTRY:
        versions.update(get(name).library_versions())
    return versions


def speedup_baseline(contest: Contest) -> str | None:
    """The contender of ``contest`` that declares itself its speed baseline, if any: among the
    folder's recorded contenders first (``facts.recorded``), then the registry's."""
    for name in [*recorded_models(), *REGISTRY]:
        known = facts(name)
        if known is not None and known.speedup_baseline and str(contest) in known.contests:
            return name
    return None


def hyperparameters(name: str) -> dict[str, Any]:
    """A contender's documented hyperparameters and their defaults (not backend/threads/seed)."""
    signature = inspect.signature(get(name))
    return {
        p.name: p.default for p in signature.parameters.values() if p.name not in HARNESS_SETTINGS
    }


def specs(name: str) -> dict[str, Hyperparameter]:
    """The type and valid values of each of ``name``'s hyperparameters (``Model.specs()``)."""
    return get(name).specs()


def check_params(name: str, params: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """``params`` of contender ``name``, each checked against its ``Hyperparameter`` spec.

    Parameters
    ----------
    name : str
        A registered contender.
    params : mapping
        Some of its hyperparameters (not backend, n_threads or seed).
    where : str
        Where they were set, for messages (a file and entry, "command line").

    Returns
    -------
    dict
        ``params``, an int given for a float hyperparameter converted to float.

    Raises
    ------
    InputError
        An unknown name, or a value of the wrong type or out of range, in one line:
        ``"WHERE: torch-mf.lr=0: must be a number > 0"``.
    """
    valid, declared = hyperparameters(name), specs(name)
    prefix = f"{where}: " if where else ""
    checked = {}
    for key, value in params.items():
        if key not in valid:
            raise InputError(
                f"{prefix}unknown parameter {key!r} for {name}; valid: {', '.join(valid) or 'none'}"
            )
        spec = declared.get(key)
        checked[key] = spec.check(value, f"{prefix}{name}.{key}") if spec else value
    return checked


def check_combination(name: str, params: Mapping[str, Any], where: str = "") -> None:
    """Refuse settings of ``name`` that are each valid but cannot train together.

    ``params`` are some or all of its hyperparameters (the defaults fill in the rest), already
    passed through ``check_params``. The message is the class's, after ``where``.
    """
    try:
        get(name).check_combination({**hyperparameters(name), **params})
    except InputError as exc:
        raise InputError(f"{where}: {exc}" if where else str(exc)) from exc


def create(
    name: str, backend: str = "cpu", n_threads: int | None = None, seed: int = 0, **params: Any
) -> Model:
    """A new, unfitted ``name`` model; an unknown or invalid parameter raises ``InputError``.

    Every value is checked (``check_params``, ``check_combination``, and the harness's
    settings against ``HARNESS_SPECS``) before the model is built, so a bad setting fails
    here, naming it, rather than in training.
    """
    params = check_params(name, params)
    check_combination(name, params)
    harness = {"backend": backend, "n_threads": n_threads, "seed": seed}
    settings = {key: HARNESS_SPECS[key].check(value, key) for key, value in harness.items()}
    return get(name)(**settings, **params)
