"""The benchmark grid and its config files (``suite/configs/*.toml``, or any TOML file).

A *config* is a TOML file that describes one grid; ``mfbench run --config NAME`` runs it and
``mfbench check --config NAME`` compares it with a reference (the command line's flags that
change a grid are turned into one in ``suite.cli``).

A config names data sets (each with its split, seeds, RMSE target and per-model settings)
and models (each with backends and hyperparameters)::

    name = "quick"
    n_threads = 0                  # 0: every core
    [[datasets]]
    name = "ml-100k"               # a data set name or a ratings file
    split = "kfold"                # holdout | kfold | temporal
    folds = 5
    seeds = [0]
    rmse_target = 0.93             # for time-to-target
    [datasets.params.numpy-sgd]    # settings for one model on this data set only
    epochs = 10
    [[models]]
    name = "torch-biased-mf"
    backends = ["cpu", "cuda"]     # unavailable ones become skipped runs
    params = { lr = 0.005 }

Settings resolve in this order, later winning: the model's defaults, ``[[models]] params``,
``[datasets.params.<model>]``, the model's ``sweep``, then ``--epochs`` and ``--param`` on
the command line — which may not set a swept key (every variant would run the same value
under a label that says otherwise).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from suite import data, models
from suite.data import splits
from suite.errors import InputError
from suite.metrics import DEFAULT_RELEVANCE_THRESHOLD


@dataclass
class DatasetSpec:
    """One data set of the grid and how it is split."""

    name: str
    split: str = "holdout"
    folds: int = 5
    seeds: list[int] = field(default_factory=lambda: [0])
    test_fraction: float = 0.2
    leave_last: int = 1
    rmse_target: float | None = None
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    format: str | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def split_instances(self) -> list[tuple[int, int]]:
        """The (fold, seed) pairs this data set is split into."""
        folds = range(self.folds) if self.split == "kfold" else [0]
        return [(fold, seed) for seed in self.seeds for fold in folds]


@dataclass
class ModelSpec:
    """One contender of the grid (or several settings of it: ``sweep``)."""

    name: str
    backends: list[str] = field(default_factory=lambda: ["cpu"])
    params: dict[str, Any] = field(default_factory=dict)
    datasets: list[str] | None = None  # None: every data set
    label: str | None = None  # how results and reports name it (default: the name)
    sweep: dict[str, list[Any]] = field(default_factory=dict)  # every combination is a variant


@dataclass
class Grid:
    """Everything ``mfbench run`` runs: data sets × splits × seeds × models × backends."""

    name: str
    datasets: list[DatasetSpec]
    models: list[ModelSpec]
    n_threads: int | None = None  # None: every core
    curve_users: int = 2000  # users sampled for the per-epoch ranking metrics of the curves
    repeats: int = 1  # timed fits per run
    calibrate: bool = False  # time a calibration workload around each fit (for fit_norm)
    cli_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def variants(self, dataset: DatasetSpec, model: ModelSpec) -> list[tuple[str, dict[str, Any]]]:
        """``(label, hyperparameters)`` of each setting ``model`` runs with on ``dataset``.

        Without a sweep that is one setting labelled with the model's label or name; a sweep
        gives one per combination of its values, labelled ``name[key=value, ...]``.
        """
        name = model.label or model.name
        combinations = itertools.product(*model.sweep.values())
        settings = [dict(zip(model.sweep, values, strict=True)) for values in combinations]
        return [
            (
                f"{name}[{', '.join(f'{k}={v}' for k, v in setting.items())}]" if setting else name,
                {
                    **models.hyperparameters(model.name),
                    **model.params,
                    **dataset.params.get(model.name, {}),
                    **setting,
                    **self.cli_params.get(model.name, {}),
                },
            )
            for setting in settings
        ]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Grid:
        raw = json.loads(text)
        raw["datasets"] = [DatasetSpec(**d) for d in raw["datasets"]]
        raw["models"] = [ModelSpec(**m) for m in raw["models"]]
        return cls(**raw)


def config_names() -> list[str]:
    """Configs that ship with mfbench (``--config NAME``)."""
    return sorted(
        p.name.removesuffix(".toml")
        for p in resources.files("suite.configs").iterdir()
        if p.name.endswith(".toml")
    )


def load_config(name_or_path: str) -> Grid:
    """Read a config by name (``default``, ``quick``, ...) or path, and validate it."""
    if name_or_path in config_names():
        source = resources.files("suite.configs") / f"{name_or_path}.toml"
        label = f"suite/configs/{name_or_path}.toml"
    else:
        source, label = Path(name_or_path), name_or_path
        if not source.is_file():
            raise InputError(
                f"--config {name_or_path}: no such file, and not one of {', '.join(config_names())}"
            )
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{label}: {exc}") from exc
    return parse_config(raw, label)


def parse_config(raw: dict[str, Any], label: str) -> Grid:
    """Build and validate a ``Grid`` from a parsed TOML document."""
    _check_keys(
        raw,
        {
            "name",
            "description",
            "n_threads",
            "curve_users",
            "repeats",
            "calibrate",
            "datasets",
            "models",
        },
        label,
    )
    datasets = [
        _dataset(entry, f"{label}: [[datasets]] #{i + 1}")
        for i, entry in enumerate(raw.get("datasets", []))
    ]
    model_specs = [
        _model(entry, f"{label}: [[models]] #{i + 1}")
        for i, entry in enumerate(raw.get("models", []))
    ]
    if not datasets or not model_specs:
        raise InputError(f"{label}: needs at least one [[datasets]] and one [[models]] entry")
    n_threads = raw.get("n_threads", 0)
    grid = Grid(
        name=raw.get("name", Path(label).stem),
        datasets=datasets,
        models=model_specs,
        n_threads=n_threads or None,
        curve_users=raw.get("curve_users", 2000),
        repeats=raw.get("repeats", 1),
        calibrate=raw.get("calibrate", False),
    )
    if not isinstance(grid.repeats, int) or grid.repeats < 1:
        raise InputError(f"{label}: repeats = {grid.repeats!r}; must be a whole number >= 1")
    validate(grid, label)
    return grid


#: Every backend some contender may have; a model lacking one records a skipped run.
BACKENDS = ("cpu", "cuda", "mps")


def validate(grid: Grid, label: str) -> None:
    """Names, splits and parameters all exist (each error names where it is)."""
    model_names = {m.name for m in grid.models}
    dataset_names = {d.name for d in grid.datasets}
    for dataset in grid.datasets:
        where = f"{label}: data set {dataset.name!r}"
        if dataset.name not in data.names() and not Path(dataset.name).is_file():
            raise InputError(f"{where}: not a file, and not one of {', '.join(data.names())}")
        if dataset.split not in splits.METHODS:
            raise InputError(
                f"{where}: split {dataset.split!r}; choose from {', '.join(splits.METHODS)}"
            )
        for model_name, params in dataset.params.items():
            if model_name not in model_names:
                raise InputError(f"{where}: params for {model_name!r}, which is not in the grid")
            _check_params(model_name, params, f"{where}, params.{model_name}")
    for spec in grid.models:
        models.get(spec.name)  # unknown names raise, listing the valid ones
        _check_params(spec.name, spec.params, f"{label}: model {spec.name!r}")
        _check_params(spec.name, spec.sweep, f"{label}: model {spec.name!r} sweep")
        if not all(isinstance(values, list) and values for values in spec.sweep.values()):
            raise InputError(f"{label}: model {spec.name!r}: each sweep entry must be a list")
        for backend in spec.backends:
            if backend not in BACKENDS:
                raise InputError(
                    f"{label}: model {spec.name!r}: backend {backend!r}; "
                    f"choose from {', '.join(BACKENDS)}"
                )
        for name in spec.datasets or []:
            if name not in dataset_names:
                raise InputError(
                    f"{label}: model {spec.name!r}: data set {name!r} is not in "
                    f"the grid ({', '.join(sorted(dataset_names))})"
                )
    labels = [
        name for d in grid.datasets[:1] for m in grid.models for name, _ in grid.variants(d, m)
    ]
    duplicates = sorted({name for name in labels if labels.count(name) > 1})
    if duplicates:
        raise InputError(f"{label}: two entries are both named {duplicates[0]!r}; give one a label")
    for model_name, params in grid.cli_params.items():
        models.get(model_name)
        _check_params(model_name, params, f"--param {model_name}")
    for spec in grid.models:
        for key in sorted(set(spec.sweep) & set(grid.cli_params.get(spec.name, {}))):
            raise InputError(
                f"{spec.name}.{key} is set on the command line (--param/--epochs), but "
                f"{spec.label or spec.name} sweeps {key} over {spec.sweep[key]}: one value for "
                "all would contradict the variants' labels; drop the sweep or the setting"
            )


def _check_params(model_name: str, params: dict[str, Any], where: str) -> None:
    valid = models.hyperparameters(model_name)
    for key in params:
        if key not in valid:
            raise InputError(f"{where}: unknown parameter {key!r}; valid: {', '.join(valid)}")


def _dataset(entry: dict[str, Any], where: str) -> DatasetSpec:
    _check_keys(entry, {f.name for f in dataclasses.fields(DatasetSpec)}, where)
    if "name" not in entry:
        raise InputError(f"{where}: needs a name")
    return DatasetSpec(**entry)


def _model(entry: dict[str, Any], where: str) -> ModelSpec:
    _check_keys(entry, {f.name for f in dataclasses.fields(ModelSpec)}, where)
    if "name" not in entry:
        raise InputError(f"{where}: needs a name")
    return ModelSpec(**entry)


def _check_keys(entry: dict[str, Any], valid: set[str], where: str) -> None:
    unknown = sorted(set(entry) - valid)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(valid))}")
