"""The benchmark grid and its config files (``suite/configs/*.toml``, or any TOML file).

A *config* is a TOML file that describes one grid; ``mfbench run --config NAME`` runs it and
``mfbench check --config NAME`` compares it with a reference (the command line's flags that
change a grid are turned into one in ``suite.commands.run``).

A config names data sets (each with its split, seeds, RMSE target and per-model settings)
and models (each with backends and hyperparameters)::

    name = "quick"
    n_threads = 0                  # 0: every core
    patience = 3                   # optional: stop after 3 epochs without a better score on
    validation_fraction = 0.1      # a validation part of the training half (never the test)
    spark_master = "spark://host:7077"  # optional: the Spark contenders' cluster (else local)
    eval_users = 20000             # optional: rank a seeded sample of test users (else all)
    cost_only = true               # optional: measures cost at fixed budgets, so the report
                                   # makes no accuracy verdict (scaling and speed grids)
    [[datasets]]
    name = "ml-100k"               # a data set name or a ratings file
    split = "kfold"                # holdout | kfold | temporal
    folds = 5
    seeds = [0]
    rating_target = 0.93           # the RMSE each contender's time to target is timed to
    ranking_target = 0.35          # the NDCG@10 likewise (on the curves' sample of users)
    [datasets.params.numpy-sgd]    # settings for one model on this data set only
    epochs = 10
    [[models]]
    name = "torch-biased-mf"
    backends = ["cpu", "cuda"]     # unavailable ones become skipped runs
    params = { lr = 0.005 }

A run's settings are layered from the model's defaults, the data set's tuned settings, the
config and the command line: ``suite.settings`` says in which order, and keeps the tuned ones.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from suite import data, models, settings
from suite.data import splits, synthetic
from suite.data.files import FORMATS
from suite.early_stopping import VALIDATION_FRACTION
from suite.errors import InputError
from suite.metrics import DEFAULT_RELEVANCE_THRESHOLD
from suite.models.base import MAX_SEED, TYPE_NAMES, conforms


def resolved_name(name: Any) -> Any:
    """A data set name as a grid keeps it: a named data set as it is, a ratings file as its
    absolute, resolved path (so a grid means the same file from any working directory)."""
    if not isinstance(name, str) or name in data.names():
        return name
    path = Path(name)
    return str(path.resolve()) if path.is_file() else name


@dataclass
class DatasetSpec:
    """One data set of the grid and how it is split."""

    name: str
    split: str = "holdout"
    folds: int = 5
    seeds: list[int] = field(default_factory=lambda: [0])
    test_fraction: float = 0.2
    leave_last: int = 1
    rating_target: float | None = None  # RMSE each contender's time to target is timed to
    ranking_target: float | None = None  # NDCG@10 (on the curve's user sample), likewise
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    format: str | None = None
    features: bool = False  # load side features (ml-100k, planted sets) for the hybrids
    target_on: str = "test"  # "validation": time to target read there, confirmed on test
    fresh_data: bool = False  # a generated set drawn anew for each seed (else seed 0's, split)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = resolved_name(self.name)

    @property
    def label(self) -> str:
        """How records and reports name this entry: the name, plus what sets it apart from
        the plain data set (``"ml-100k +features, cold items"``)."""
        marks = [*(["+features"] if self.features else [])]
        marks += ["cold items"] if self.split == "cold-items" else []
        return f"{self.name} {', '.join(marks)}" if marks else self.name

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
    n_threads: int | None = None  # its fastest thread count within the budget; None: the grid's
    rating_target: float | None = None  # its own target (a protocol pair's); None: the data set's
    ranking_target: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.datasets, list):
            self.datasets = [resolved_name(name) for name in self.datasets]


@dataclass
class Grid:
    """Everything ``mfbench run`` runs: data sets × splits × seeds × models × backends."""

    name: str
    datasets: list[DatasetSpec]
    models: list[ModelSpec]
    n_threads: int | None = None  # None: every core
    curve_users: int = 2000  # users sampled for the per-epoch ranking metrics of the curves
    eval_users: int | None = None  # users sampled for the final ranking metrics; None: all
    repeats: int = 1  # timed fits per run
    calibrate: bool = False  # time a calibration workload around each fit (for fit_norm)
    patience: int | None = None  # early stopping's patience in epochs; None: off
    validation_fraction: float = VALIDATION_FRACTION  # of each training half, to stop on
    spark_master: str | None = None  # Spark contenders' cluster (``master``); None: local
    cost_only: bool = False  # a cost grid (fixed small budgets): its report judges no accuracy
    remeasure: int = 0  # a run whose epochs were disturbed is measured again, at most this often
    cli_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def variants(
        self, dataset: DatasetSpec, model: ModelSpec, fold: int | None = None, seed: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        """``(label, hyperparameters)`` of each setting ``model`` runs with on ``dataset`` (on
        its ``fold`` and ``seed``, whose own tuned settings come first where they exist).

        Without a sweep that is one setting labelled with the model's label or name; a sweep
        gives one per combination of its values, labelled ``name[key=value, ...]``. Each
        setting's values are resolved by ``suite.settings.resolve``.
        """
        name = model.label or model.name
        combinations = itertools.product(*model.sweep.values())
        swept = [dict(zip(model.sweep, values, strict=True)) for values in combinations]
        return [
            (
                f"{name}[{', '.join(f'{k}={v}' for k, v in setting.items())}]" if setting else name,
                settings.resolve(settings.layers(self, dataset, model, setting, fold, seed)),
            )
            for setting in swept
        ]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Grid:
        raw = renamed(json.loads(text), "grid.json")
        raw["datasets"] = [DatasetSpec(**renamed(d, "grid.json")) for d in raw["datasets"]]
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
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: not a TOML file (not UTF-8 text)") from exc
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({exc.strerror})") from exc
    return parse_config(raw, label)


#: The top-level settings a config file may hold (besides ``description``).
_CONFIG_KEYS = (
    "name",
    "n_threads",
    "curve_users",
    "eval_users",
    "repeats",
    "calibrate",
    "patience",
    "validation_fraction",
    "spark_master",
    "cost_only",
    "remeasure",
    "datasets",
    "models",
)
#: Top-level settings passed to ``Grid`` as they are.
_GRID_SETTINGS = (
    "curve_users",
    "eval_users",
    "repeats",
    "calibrate",
    "patience",
    "validation_fraction",
    "spark_master",
    "cost_only",
    "remeasure",
)


#: Keys of configs (and saved grids) written by older versions, and their names now.
RENAMED_KEYS = {"early_stopping": "patience", "rmse_target": "rating_target"}


def renamed(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """``entry`` with each key of ``RENAMED_KEYS`` under its name now (both: refused)."""
    for old, new in RENAMED_KEYS.items():
        if old in entry:
            if new in entry:
                raise InputError(f"{where}: {old!r} is the old name of {new!r}; give one of them")
            entry = {(new if key == old else key): value for key, value in entry.items()}
    return entry


def parse_config(raw: dict[str, Any], label: str) -> Grid:
    """Build and validate a ``Grid`` from a parsed TOML document."""
    raw = renamed(raw, label)
    _check_keys(raw, {"description", *_CONFIG_KEYS}, label)
    _check_fields(raw, Grid, label)
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
    grid = Grid(
        name=raw.get("name", Path(label).stem),
        datasets=datasets,
        models=model_specs,
        n_threads=raw.get("n_threads", 0) or None,
        **{key: raw[key] for key in _GRID_SETTINGS if key in raw},
    )
    validate(grid, label)
    return grid


#: Every backend some contender may have; a model lacking one records a skipped run.
BACKENDS = ("cpu", "cuda", "mps")


def validate(grid: Grid, label: str) -> None:
    """Every setting has a valid type and value; names, splits and parameters all exist.

    Run on every grid, however it was made: read from a config (``parse_config``), built from
    command-line flags, or read back from a run folder's ``grid.json``. Each error is one
    line that names where the culprit is (``label``: a file, or "command line").
    """
    _check_fields(vars(grid), Grid, label)
    model_names = {m.name for m in grid.models}
    dataset_names = {d.name for d in grid.datasets}
    for dataset in grid.datasets:
        _check_dataset(dataset, f"{label}: data set {dataset.name!r}", model_names)
    entries = [dataset.label for dataset in grid.datasets]
    for name in sorted({entry for entry in entries if entries.count(entry) > 1}):
        raise InputError(
            f"{label}: two [[datasets]] entries are both {name!r} (same name, split kind and "
            "features): their runs would mix in results and reports; merge them"
        )
    for spec in grid.models:
        _check_model(spec, f"{label}: model {spec.name!r}", dataset_names)
    labels = [
        name for d in grid.datasets[:1] for m in grid.models for name, _ in grid.variants(d, m)
    ]
    duplicates = sorted({name for name in labels if labels.count(name) > 1})
    if duplicates:
        raise InputError(f"{label}: two entries are both named {duplicates[0]!r}; give one a label")
    _check_command_line_params(grid, label)
    _check_combinations(grid, label)


def _check_dataset(dataset: DatasetSpec, where: str, model_names: set[str]) -> None:
    """One data set's settings, its name, split and format, and its per-model parameters."""
    _check_fields(vars(dataset), DatasetSpec, where)
    if dataset.name not in data.names() and not Path(dataset.name).is_file():
        raise InputError(f"{where}: not a file, and not one of {', '.join(data.names())}")
    if dataset.fresh_data and dataset.name not in synthetic.SOURCE.names():
        raise InputError(
            f"{where}: fresh_data = true draws a generated set anew for each seed; "
            f"{dataset.name!r} is not generated (one of {', '.join(synthetic.SOURCE.names())})"
        )
    if dataset.features and not data.has_features(dataset.name):
        raise InputError(f"{where}: features = true, but only ml-100k and planted sets have any")
    if dataset.split not in splits.METHODS:
        raise InputError(
            f"{where}: split {dataset.split!r}; choose from {', '.join(splits.METHODS)}"
        )
    if dataset.format is not None and dataset.format not in FORMATS:
        raise InputError(f"{where}: format {dataset.format!r}; choose from {', '.join(FORMATS)}")
    if dataset.format is not None and dataset.name in data.names():
        raise InputError(
            f"{where}: format {dataset.format!r} applies to ratings files; {dataset.name!r} is "
            "a named data set, read by its own source"
        )
    _refuse_repeats(dataset.seeds, f"{where}: seeds")
    for model_name, params in dataset.params.items():
        if model_name not in model_names:
            raise InputError(f"{where}: params for {model_name!r}, which is not in the grid")
        models.check_params(model_name, params, f"{where}, params.{model_name}")


def _check_model(spec: ModelSpec, where: str, dataset_names: set[str]) -> None:
    """One model's settings: its name, parameters, each swept value, backends, data sets."""
    _check_fields(vars(spec), ModelSpec, where)
    models.get(spec.name)  # unknown names raise, listing the valid ones
    models.check_params(spec.name, spec.params, where)
    for key, values in spec.sweep.items():
        for value in values:
            models.check_params(spec.name, {key: value}, f"{where} sweep")
    for backend in spec.backends:
        if backend not in BACKENDS:
            raise InputError(f"{where}: backend {backend!r}; choose from {', '.join(BACKENDS)}")
    _refuse_repeats(spec.backends, f"{where}: backends")
    for key, values in spec.sweep.items():
        _refuse_repeats(values, f"{where}: sweep.{key}")
    for name in spec.datasets or []:
        if name not in dataset_names:
            raise InputError(
                f"{where}: data set {name!r} is not in the grid "
                f"({', '.join(sorted(dataset_names))})"
            )


def _refuse_repeats(values: list[Any], where: str) -> None:
    """One line naming the first value listed twice (each would run, and count, twice)."""
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise InputError(f"{where}: {value!r} is listed twice; list each once")
        seen.append(value)


def _check_command_line_params(grid: Grid, label: str) -> None:
    """``--param``/``--epochs`` settings: of a contender in the grid, valid, and not of a key a
    model sweeps."""
    in_grid = {spec.name for spec in grid.models}
    for model_name, params in grid.cli_params.items():
        if model_name not in in_grid:
            key = next(iter(params), "?")
            raise InputError(
                f"--param {model_name}.{key}: {model_name} is not a contender of this grid "
                f"({', '.join(sorted(in_grid))}); it would set nothing"
            )
        models.check_params(model_name, params, label)
    for spec in grid.models:
        for key in sorted(set(spec.sweep) & set(grid.cli_params.get(spec.name, {}))):
            raise InputError(
                f"{spec.name}.{key} is set on the command line (--param/--epochs), but "
                f"{spec.label or spec.name} sweeps {key} over {spec.sweep[key]}: one value for "
                "all would contradict the variants' labels; drop the sweep or the setting"
            )


def _check_combinations(grid: Grid, label: str) -> None:
    """Every variant's full settings go together (``Model.check_combination``)."""
    for dataset, spec in itertools.product(grid.datasets, grid.models):
        if spec.datasets is None or dataset.name in spec.datasets:
            for name, params in grid.variants(dataset, spec):
                models.check_combination(
                    spec.name, params, f"{label}: {name} on data set {dataset.name!r}"
                )


#: The settings of a data set entry that only one kind of split reads.
SPLIT_SETTINGS = {
    "folds": ("kfold",),
    "test_fraction": ("holdout", "cold-items"),
    "leave_last": ("temporal",),
}


def refuse_unread_split_setting(key: str, value: Any, split: str, where: str) -> None:
    """One line when ``key`` is set for a split that does not read it (it would be ignored)."""
    readers = SPLIT_SETTINGS.get(key, ())
    if readers and split not in readers:
        raise InputError(
            f"{where}: {key} = {value!r} is read by a {' or '.join(readers)} split only, and "
            f"this data set is split by {split}; drop it or change the split"
        )


def _dataset(entry: dict[str, Any], where: str) -> DatasetSpec:
    entry = renamed(entry, where)
    _check_keys(entry, {f.name for f in dataclasses.fields(DatasetSpec)}, where)
    if "name" not in entry:
        raise InputError(f"{where}: needs a name")
    _check_fields(entry, DatasetSpec, where)
    for key in SPLIT_SETTINGS:
        if key in entry:
            refuse_unread_split_setting(key, entry[key], entry.get("split", "holdout"), where)
    return DatasetSpec(**entry)


def _model(entry: dict[str, Any], where: str) -> ModelSpec:
    _check_keys(entry, {f.name for f in dataclasses.fields(ModelSpec)}, where)
    if "name" not in entry:
        raise InputError(f"{where}: needs a name")
    _check_fields(entry, ModelSpec, where)
    return ModelSpec(**entry)


def _check_keys(entry: dict[str, Any], valid: set[str], where: str) -> None:
    unknown = sorted(set(entry) - valid)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(valid))}")


# -- the type and range of each setting -------------------------------------------------------

#: ``(test, message)``: what a setting must be beyond the type its field declares. ``test``
#: takes a value of that type (None: any); ``message`` says what a valid value is, the type
#: included. A setting not listed here needs only its type.
Rule = tuple[Callable[[Any], bool] | None, str]


def _at_least(low: int) -> Rule:
    return (lambda n: n >= low, f"must be a whole number >= {low}")


RULES: dict[tuple[type, str], Rule] = {
    (Grid, "datasets"): (None, "must be an array of tables ([[datasets]])"),
    (Grid, "models"): (None, "must be an array of tables ([[models]])"),
    (Grid, "n_threads"): (
        lambda n: n is None or n >= 0,
        "must be a whole number >= 1 (or 0: every core)",
    ),
    (Grid, "curve_users"): _at_least(1),
    (Grid, "eval_users"): (lambda n: n is None or n >= 1, "must be a whole number >= 1"),
    (Grid, "repeats"): _at_least(1),
    (Grid, "patience"): (
        lambda n: n is None or n >= 1,
        "must be a whole number of epochs >= 1 (the patience)",
    ),
    (Grid, "validation_fraction"): (
        lambda fraction: 0 < fraction < 1,
        "must be a number strictly between 0 and 1",
    ),
    (Grid, "remeasure"): (lambda n: n >= 0, "must be a whole number >= 0"),
    (DatasetSpec, "target_on"): (
        lambda on: on in ("test", "validation"),
        'must be "test" or "validation"',
    ),
    (ModelSpec, "rating_target"): (lambda t: t is None or t > 0, "must be a number > 0"),
    (ModelSpec, "ranking_target"): (
        lambda t: t is None or 0 < t <= 1,
        "must be a number > 0 and <= 1",
    ),
    (ModelSpec, "n_threads"): (lambda n: n is None or n >= 1, "must be a whole number >= 1"),
    (DatasetSpec, "folds"): _at_least(2),
    (DatasetSpec, "seeds"): (
        lambda seeds: len(seeds) > 0 and min(seeds) >= 0 and max(seeds) <= MAX_SEED,
        f"must be a non-empty list of whole numbers from 0 to {MAX_SEED}",
    ),
    (DatasetSpec, "test_fraction"): (
        lambda fraction: 0 < fraction < 1,
        "must be a number strictly between 0 and 1",
    ),
    (DatasetSpec, "leave_last"): _at_least(1),
    (DatasetSpec, "rating_target"): (lambda t: t is None or t > 0, "must be a number > 0"),
    (DatasetSpec, "ranking_target"): (
        lambda t: t is None or 0 < t <= 1,
        "must be a number > 0 and <= 1",
    ),
    (ModelSpec, "backends"): (lambda b: len(b) > 0, "must be a non-empty list of strings"),
    (ModelSpec, "datasets"): (
        lambda names: names is None or len(names) > 0,
        "must be a non-empty list of data set names",
    ),
    (ModelSpec, "sweep"): (
        lambda sweep: all(sweep.values()),
        "each sweep entry must be a list (of one or more values)",
    ),
}


def _check_fields(values: Mapping[str, Any], schema: type, where: str) -> None:
    """Each of ``values`` that is a field of dataclass ``schema`` has its type and ``RULES``.

    ``values`` are a TOML table (a config's entry) or ``vars()`` of a ``schema`` instance.
    Raises ``InputError``, e.g. ``"WHERE: seeds = 0: must be a non-empty list of ..."``.
    """
    hints = _hints(schema)
    for key, value in values.items():
        if key not in hints:
            continue
        test, message = RULES.get((schema, key), (None, f"must be {_describe(hints[key])}"))
        if not _conforms(value, hints[key]) or (test is not None and not test(value)):
            raise InputError(f"{where}: {key} = {_show(value)}: {message}")


@functools.cache
def _hints(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the annotated type ``hint``.

    Scalars as ``suite.models.base.conforms`` (a bool is no number); a dataclass stands for
    its TOML table (or an instance); lists, dicts with string keys, unions and ``Any``.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(_conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(key, str) and _conforms(item, args[1]) for key, item in value.items()
        )
    if dataclasses.is_dataclass(hint):
        return isinstance(value, dict | hint)
    return conforms(value, hint)


#: The plural of each scalar type's name in ``TYPE_NAMES``.
_PLURALS = {int: "whole numbers", float: "numbers", str: "strings", bool: "true or false values"}


def _describe(hint: Any, plural: bool = False) -> str:
    """``hint`` in words: ``list[int]`` is "a list of whole numbers" (None goes unsaid)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg, plural) for arg in args if arg is not type(None))
    if origin is list:
        return f"{'lists' if plural else 'a list'} of {_describe(args[0], plural=True)}"
    if origin is dict or dataclasses.is_dataclass(hint):
        table = "tables" if plural else "a table"
        inner = args[1] if args else Any
        return table if inner is Any else f"{table} of {_describe(inner, plural=True)}"
    if hint is Any:
        return "values" if plural else "a value"
    return _PLURALS[hint] if plural else TYPE_NAMES[hint]


def _show(value: Any) -> str:
    """``value`` as a config would write it (shortened to one short line)."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
