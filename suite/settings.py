"""Tuned settings files, and the layered resolution of a run's settings with each value's source.

Settings resolve in this order, later winning: the model's defaults, the data set's tuned
settings (``suite/configs/tuned/<data set>.toml``, written by ``mfbench tune --save``),
``spark_master`` (as the ``master`` of the contenders that take one), ``[[models]] params``,
``[datasets.params.<model>]``, the model's ``sweep``, then
``--epochs`` and ``--param`` on the command line — which may not set a swept key (every
variant would run the same value under a label that says otherwise).

A folder's runs are matched against the tuned winners of their own split (``tuned_runs``)
for its report's "where the settings come from": a run counts as tuned when every value its
split's winner holds is the value the run recorded; a value the config or the command line
set instead is named. The tuned files read are today's: a folder measured on other tuned
settings shows them as not matching (and its provenance as stale).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from suite import data, models, results
from suite.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


class SplitSpec(Protocol):
    """What names one split of a data set (``suite.config.DatasetSpec`` is one)."""

    split: str
    folds: int
    test_fraction: float
    leave_last: int
    features: bool


class DatasetSettings(SplitSpec, Protocol):
    """A grid's data set as its settings' layers read it (``suite.config.DatasetSpec``)."""

    name: str
    params: dict[str, dict[str, Any]]


class ModelSettings(Protocol):
    """A grid's contender as its settings' layers read it (``suite.config.ModelSpec``)."""

    name: str
    params: dict[str, Any]


class GridSettings(Protocol):
    """A grid as its settings' layers read it (``suite.config.Grid``)."""

    spark_master: str | None
    cli_params: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Split:
    """One split of a data set named by itself (as a folder's records give it)."""

    split: str
    folds: int = 5
    test_fraction: float = 0.2
    leave_last: int = 1
    features: bool = False


# -- the tuned-settings store -------------------------------------------------------------------


def tuned_folder() -> Path:
    """Where each data set's tuned winners are kept (``<data set key>.toml``, see
    ``tuned_key``): the folder ``$MFBENCH_TUNED`` names, else ``suite/configs/tuned/``."""
    return Path(os.environ.get("MFBENCH_TUNED") or Path(__file__).parent / "configs" / "tuned")


def tuned_key(dataset: str) -> str:
    """The name a data set's tuned settings are kept under: a named data set's own name; a
    ratings file's content (``file-<SHA-256 of its bytes, 16 digits>``), so that every copy
    of one file shares its settings and two different files named ``u.data`` do not."""
    if dataset in data.names():
        return dataset
    path = Path(dataset)
    if not path.is_file():
        return path.name
    state = path.stat()
    return f"file-{_file_digest(str(path.resolve()), state.st_mtime_ns, state.st_size)[:16]}"


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, _mtime_ns: int, _size: int) -> str:
    hashed = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hashed.update(block)
    return hashed.hexdigest()


def tuned_settings(dataset: str, instance: str | None = None) -> dict[str, dict[str, Any]]:
    """The tuned hyperparameters of each contender on ``dataset``, or none; they come after a
    contender's defaults and before everything a config or the command line sets.

    With ``instance`` (``split_instance``: one fold of one split), the settings tuned on that
    split's own training half (``tuned_folder()/<key>/<instance>.toml``) where they exist,
    else the data set's (``tuned_folder()/<key>.toml``), under ``tuned_key``. Each value is
    checked against the contender's declared range.
    """
    source = tuned_file(dataset, instance)
    if source is None:
        return {}
    stat = source.stat()  # read and checked once per version of the file
    return _read_tuned(str(source), stat.st_mtime_ns, stat.st_size)


def tuned_file(dataset: str, instance: str | None = None) -> Path | None:
    """The file ``tuned_settings`` reads for ``dataset`` (and ``instance``), or None."""
    key = tuned_key(dataset)
    sources = [tuned_folder() / key / f"{instance}.toml"] if instance else []
    return next((s for s in [*sources, tuned_folder() / f"{key}.toml"] if s.is_file()), None)


def split_instance(dataset: SplitSpec, fold: int, seed: int) -> str:
    """The name of one (split, fold, seed) of ``dataset``: what per-split tuned settings are
    kept under, e.g. ``kfold5-fold2-seed0``, ``holdout0.2-seed1`` or, with side features,
    ``cold-items0.2-seed1+features`` (settings found with features are not those without)."""
    if dataset.split == "kfold":
        instance = f"kfold{dataset.folds}-fold{fold}-seed{seed}"
    elif dataset.split == "temporal":
        instance = f"temporal{dataset.leave_last}"
    else:
        instance = f"{dataset.split}{dataset.test_fraction:g}-seed{seed}"
    return f"{instance}{FEATURES_MARK}" if dataset.features else instance


#: How a split instance with side features is told apart (``split_instance``).
FEATURES_MARK = "+features"


@functools.lru_cache(maxsize=16)
def _read_tuned(label: str, _mtime_ns: int, _size: int) -> dict[str, dict[str, Any]]:
    source = Path(label)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{label}: {exc}") from exc
    for name, params in raw.items():
        if not isinstance(params, dict):
            raise InputError(f"{label}: {name} must be a table of hyperparameters")
        try:
            models.create(name, **params)  # unknown names and out-of-range values fail
        except InputError as exc:
            raise InputError(f"{label}: {exc}") from exc
    return raw


# -- the layers of a run's settings -------------------------------------------------------------

#: How ``sources`` names each layer but the tuned one (named by its file's path).
DEFAULT = "default"
SPARK_MASTER = "spark_master"
MODELS_PARAMS = "config [[models]]"
DATASET_PARAMS = "config [datasets.params]"
SWEEP = "sweep"
COMMAND_LINE = "command line"


def layers(
    grid: GridSettings,
    dataset: DatasetSettings,
    model: ModelSettings,
    setting: Mapping[str, Any] | None = None,
    fold: int | None = None,
    seed: int = 0,
) -> list[tuple[str, dict[str, Any]]]:
    """``(layer, values)`` of each layer of the settings ``model`` runs with on ``dataset``,
    first to last (a later one wins; see the module docstring). The tuned layer is named by
    its file's path, and left out where there is no such file.

    Parameters
    ----------
    grid, dataset, model
        The grid, one of its data sets and one of its models.
    setting : mapping, optional
        One combination of the model's ``sweep`` (None: no sweep).
    fold, seed
        The split whose own tuned settings come first where they exist (``fold`` None: the
        data set's).
    """
    instance = None if fold is None else split_instance(dataset, fold, seed)
    source = tuned_file(dataset.name, instance)
    tuned = tuned_settings(dataset.name, instance).get(model.name, {})
    cluster = _cluster(grid.spark_master, model.name)
    return [
        (DEFAULT, models.hyperparameters(model.name)),
        *([(str(source), tuned)] if source is not None else []),
        (SPARK_MASTER, cluster),
        (MODELS_PARAMS, model.params),
        (DATASET_PARAMS, dataset.params.get(model.name, {})),
        (SWEEP, dict(setting or {})),
        (COMMAND_LINE, grid.cli_params.get(model.name, {})),
    ]


def resolve(layered: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The settings a run gets from its ``layers``: merged in order, a later layer winning
    (each key where the first layer to hold it put it)."""
    resolved: dict[str, Any] = {}
    for _, values in layered:
        resolved.update(values)
    return resolved


def sources(layered: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """For each key of ``resolve(layered)``, the layer that set it: ``"default"``, the tuned
    file's path, ``"spark_master"``, ``"config [[models]]"``, ``"config [datasets.params]"``,
    ``"sweep"`` or ``"command line"``."""
    where: dict[str, str] = {}
    for layer, values in layered:
        where.update(dict.fromkeys(values, layer))
    return where


def _cluster(spark_master: str | None, model: str) -> dict[str, Any]:
    """``spark_master`` as the ``master`` of a contender that takes one."""
    if spark_master is None or "master" not in models.hyperparameters(model):
        return {}
    return {"master": spark_master}


# -- a folder's runs against their splits' tuned winners ----------------------------------------

#: The comment ``mfbench tune`` writes after a winner at a bound of its range (``tuning.write``).
_FLAGGED = re.compile(r'^"(?P<model>[^"]+)"\s*=\s*\{.*\}\s*#\s*at the edge of its range:\s*(.+)$')


def flags(path: Path) -> dict[str, str]:
    """What the search that wrote the tuned file ``path`` flagged, per contender: the names of
    its winner's values at the edge of their range (``epochs``: at the epoch cap)."""
    if not path.is_file():
        return {}
    found = (_FLAGGED.match(line.strip()) for line in path.read_text("utf-8").splitlines())
    return {match["model"]: match[2].strip() for match in found if match}


@dataclass(frozen=True)
class EdgeFlag:
    """What one split's search flagged of a contender's winner."""

    fold: int | None  # the fold of a k-fold split; None: a split of one fold
    values: str  # the winner's values at the edge of their range, e.g. "factors, l2"


@dataclass(frozen=True)
class ContenderSettings:
    """Where one contender's settings (one label) on a data set came from."""

    label: str  # how the runs name it
    model: str  # the registered contender
    splits: int  # the (fold, seed) splits its runs cover
    tuned_splits: int  # of them, those with a tuned winner for it
    overridden: tuple[str, ...]  # a winner's values some run set otherwise (config, command line)
    flags: tuple[EdgeFlag, ...]  # what the searches flagged, split by split

    @property
    def on_winners(self) -> bool:
        """Whether every run used its own split's tuned winner, every value of it."""
        return self.tuned_splits == self.splits and not self.overridden


@dataclass(frozen=True)
class TunedRuns:
    """A data set's runs matched against the winners tuned on their own splits."""

    key: str  # the data set's ``tuned_key``: its winners are under ``tuned_folder()/<key>/``
    contenders: tuple[ContenderSettings, ...]  # every label, in the runs' order


def tuned_runs(dataset: str, runs: pd.DataFrame, folds: int | None = None) -> TunedRuns:
    """The runs on ``dataset`` (a results frame: ``label``, ``model``, ``split``, ``fold``,
    ``seed``, ``params``) matched against the winners tuned on their own splits, as the tuned
    files hold them today. ``folds`` is the k of a k-fold split (default: the folds the runs
    cover)."""
    first = runs.iloc[0]
    spec = Split(str(first["split"]), folds=folds or max(2, runs["fold"].nunique()))
    splits = {}  # each split's winners and flags, read once for every contender
    for fold, seed in runs.groupby(["fold", "seed"]).groups:
        instance = split_instance(spec, int(fold), int(seed))
        tuned_path = tuned_folder() / tuned_key(dataset) / f"{instance}.toml"
        splits[fold, seed] = (tuned_settings(dataset, instance), flags(tuned_path))
    contenders = tuple(
        _contender(str(label), spec, own, splits)
        for label, own in runs.groupby("label", sort=False)
    )
    return TunedRuns(tuned_key(dataset), contenders)


def _contender(
    label: str,
    spec: Split,
    runs: pd.DataFrame,
    splits: dict[tuple[Any, Any], tuple[dict[str, dict[str, Any]], dict[str, str]]],
) -> ContenderSettings:
    """One contender's splits against their winners: how many have one, what its runs set
    otherwise and what the searches flagged. ``splits``: each (fold, seed)'s winners and
    flags."""
    model = str(runs["model"].iloc[0])
    tuned, overridden, flagged = 0, set(), []
    for (fold, seed), split_runs in runs.groupby(["fold", "seed"]):
        winners, split_flags = splits[fold, seed]
        winner = winners.get(model)
        if not winner:
            continue
        params = results.params_of(split_runs["params"].iloc[0])
        differ = {name for name, value in winner.items() if params.get(name) != value}
        tuned += 1
        overridden |= differ
        edge = split_flags.get(model)
        if edge:
            flagged.append(EdgeFlag(fold if spec.split == "kfold" else None, edge))
    return ContenderSettings(
        label=label,
        model=model,
        splits=runs.groupby(["fold", "seed"]).ngroups,
        tuned_splits=tuned,
        overridden=tuple(sorted(overridden)),
        flags=tuple(flagged),
    )
