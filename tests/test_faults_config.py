"""Invalid settings are refused before anything runs: exit 2, one line naming where and what.

The catalogue of bad settings in a config file, on the command line and through the Python
API. Each is caught by the grid's own checks (``suite.config.validate``, and
``suite.models.check_params`` against the ``Hyperparameter`` specs each contender declares),
never recorded as a ``status=ok`` run of an untrained model, nor left to fail inside a worker
with a library's message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_helpers import assert_one_line_error

from suite import models
from suite.config import load_config, validate
from suite.errors import InputError
from suite.models.base import HARNESS_SETTINGS

#: A data set that validation knows by name and that needs no download.
DATASET = "synthetic-seed-2017"


def grid_file(
    folder: Path,
    *,
    top: str = "n_threads = 1",
    dataset: str = "",
    model: str = 'name = "torch-mf"',
    document: str | None = None,
) -> Path:
    """``folder/grid.toml``: one data set and one model, with the TOML lines given added."""
    path = folder / "grid.toml"
    path.write_text(
        document
        or f'name = "faults"\n{top}\n[[datasets]]\nname = "{DATASET}"\n{dataset}\n'
        f"[[models]]\n{model}\n"
    )
    return path


def torch_mf(params: str) -> dict[str, str]:
    """The parts of a grid whose one model is ``torch-mf`` with ``params = { PARAMS }``."""
    return {"model": f'name = "torch-mf"\nparams = {{ {params} }}'}


HYPERPARAMETER = "grid.toml: model 'torch-mf': torch-mf."
DATASET_ENTRY = "grid.toml: [[datasets]] #1: "
MODEL_ENTRY = "grid.toml: [[models]] #1: "

#: ``(parts of the grid file, what the one line must say)``.
CONFIG_CASES = {
    # hyperparameters: type and range, from the contender's specs
    "epochs-0": (
        torch_mf("epochs = 0"),
        [HYPERPARAMETER + "epochs=0: must be a whole number >= 1"],
    ),
    "epochs-negative": (torch_mf("epochs = -1"), [HYPERPARAMETER + "epochs=-1: must be"]),
    "lr-0": (torch_mf("lr = 0"), [HYPERPARAMETER + "lr=0: must be a number > 0"]),
    "lr-nan": (torch_mf("lr = nan"), [HYPERPARAMETER + "lr=nan: must be a number > 0"]),
    "lr-string": (torch_mf('lr = "abc"'), [HYPERPARAMETER + "lr='abc': must be a number"]),
    "factors-0": (torch_mf("factors = 0"), [HYPERPARAMETER + "factors=0: must be a whole"]),
    "factors-string": (torch_mf('factors = "abc"'), [HYPERPARAMETER + "factors='abc': must"]),
    "factors-bool": (torch_mf("factors = true"), [HYPERPARAMETER + "factors=True: must be"]),
    "factors-float": (torch_mf("factors = 8.5"), [HYPERPARAMETER + "factors=8.5: must be"]),
    "l2-negative": (torch_mf("l2 = -1"), [HYPERPARAMETER + "l2=-1: must be a number >= 0"]),
    "batch-size-0": (torch_mf("batch_size = 0"), [HYPERPARAMETER + "batch_size=0: must be"]),
    "lr-decay-growth": (torch_mf("lr_decay = 1.5"), [HYPERPARAMETER + "lr_decay=1.5: must be"]),
    "option-not-a-choice": (
        torch_mf('optimizer = "rmsprop"'),
        [HYPERPARAMETER + "optimizer='rmsprop'; choose from sgd, adagrad, adam, sparse_adam"],
    ),
    "options-that-cannot-train-together": (
        torch_mf('optimizer = "adam", sparse = true'),
        [f"grid.toml: torch-mf on data set '{DATASET}'", "cannot take sparse gradients"],
    ),
    "cap-0": (
        {"model": 'name = "torch-mf-seed"\nparams = { max_ratings = 0 }'},
        ["torch-mf-seed.max_ratings=0: must be a whole number >= 1"],
    ),
    "alpha-negative": (
        {"model": 'name = "implicit-als"\nparams = { alpha = -1 }'},
        ["model 'implicit-als': implicit-als.alpha=-1: must be a number >= 0"],
    ),
    "data-set-params": (
        {"dataset": "[datasets.params.torch-mf]\nepochs = 0"},
        [f"data set '{DATASET}', params.torch-mf: torch-mf.epochs=0: must be"],
    ),
    "sweep-value": (
        {"model": 'name = "torch-mf"\nsweep = { lr = [0.01, 0] }'},
        ["model 'torch-mf' sweep: torch-mf.lr=0: must be a number > 0"],
    ),
    "sweep-value-type": (
        {"model": 'name = "torch-mf"\nsweep = { factors = [8, "big"] }'},
        ["model 'torch-mf' sweep: torch-mf.factors='big': must be a whole number"],
    ),
    "sweep-not-a-list": (
        {"model": 'name = "torch-mf"\nsweep = { lr = 0.01 }'},
        [MODEL_ENTRY + 'sweep = {"lr": 0.01}: each sweep entry must be a list'],
    ),
    # the grid's settings: type and range, from the dataclasses' fields
    "threads-negative": ({"top": "n_threads = -4"}, ["grid.toml: n_threads = -4: must be"]),
    "threads-bool": ({"top": "n_threads = true"}, ["grid.toml: n_threads = true: must be"]),
    "curve-users-negative": (
        {"top": "curve_users = -1"},
        ["grid.toml: curve_users = -1: must be a whole number >= 1"],
    ),
    "repeats-0": ({"top": "repeats = 0"}, ["grid.toml: repeats = 0: must be a whole number >= 1"]),
    "calibrate-string": ({"top": 'calibrate = "yes"'}, ['calibrate = "yes": must be true or']),
    "seeds-number": (
        {"dataset": "seeds = 0"},
        [DATASET_ENTRY + "seeds = 0: must be a non-empty list of whole numbers from 0 to 42"],
    ),
    "seeds-empty": ({"dataset": "seeds = []"}, [DATASET_ENTRY + "seeds = []: must be"]),
    "seeds-string": ({"dataset": 'seeds = "0"'}, [DATASET_ENTRY + 'seeds = "0": must be']),
    "seeds-negative": ({"dataset": "seeds = [0, -1]"}, [DATASET_ENTRY + "seeds = [0, -1]: must"]),
    "folds-1": (
        {"dataset": 'split = "kfold"\nfolds = 1'},
        [DATASET_ENTRY + "folds = 1: must be a whole number >= 2"],
    ),
    "folds-0": ({"dataset": 'split = "kfold"\nfolds = 0'}, [DATASET_ENTRY + "folds = 0: must"]),
    "test-fraction-above-1": (
        {"dataset": "test_fraction = 1.5"},
        [DATASET_ENTRY + "test_fraction = 1.5: must be a number strictly between 0 and 1"],
    ),
    "leave-last-0": ({"dataset": "leave_last = 0"}, [DATASET_ENTRY + "leave_last = 0: must be"]),
    "rmse-target-string": (
        {"dataset": 'rating_target = "a"'},
        [DATASET_ENTRY + 'rating_target = "a": must be a number > 0'],
    ),
    "relevance-threshold-bool": (
        {"dataset": "relevance_threshold = true"},
        [DATASET_ENTRY + "relevance_threshold = true: must be a number"],
    ),
    "format-unknown": (
        {"dataset": 'format = "xml"'},
        [f"data set '{DATASET}': format 'xml'; choose from u.data"],
    ),
    "model-params-string": (
        {"model": 'name = "torch-mf"\nparams = "x"'},
        [MODEL_ENTRY + 'params = "x": must be a table'],
    ),
    "backends-string": (
        {"model": 'name = "torch-mf"\nbackends = "cpu"'},
        [MODEL_ENTRY + 'backends = "cpu": must be a non-empty list of strings'],
    ),
    "model-data-sets-string": (
        {"model": f'name = "torch-mf"\ndatasets = "{DATASET}"'},
        [MODEL_ENTRY + f'datasets = "{DATASET}": must be a non-empty list'],
    ),
    "datasets-not-an-array-of-tables": (
        {"document": f'datasets = {{ name = "{DATASET}" }}\n[[models]]\nname = "torch-mf"\n'},
        [f'grid.toml: datasets = {{"name": "{DATASET}"}}: must be an array of tables'],
    ),
}


@pytest.mark.parametrize(("parts", "needles"), CONFIG_CASES.values(), ids=CONFIG_CASES)
def test_a_bad_config_setting_is_one_line_naming_file_entry_and_value(
    parts: dict[str, str], needles: list[str], tmp_path: Path, capsys
) -> None:
    config = grid_file(tmp_path, **parts)
    assert_one_line_error(["run", "--config", config, "--out", tmp_path / "run"], capsys, *needles)


@pytest.mark.parametrize(
    ("param", "needle"),
    [
        ("torch-mf.lr=0", "command line: torch-mf.lr=0: must be a number > 0"),
        ("torch-mf.factors=abc", "command line: torch-mf.factors='abc': must be a whole number"),
        ("torch-mf.batch_size=0", "command line: torch-mf.batch_size=0: must be"),
        ("numpy-als.epochs=true", "command line: numpy-als.epochs=True: must be"),
    ],
)
def test_a_bad_param_flag_is_one_line_naming_it(
    param: str, needle: str, tmp_path: Path, capsys
) -> None:
    config = grid_file(tmp_path, model='name = "torch-mf"\n[[models]]\nname = "numpy-als"')
    argv = ["run", "--config", config, "--param", param, "--out", tmp_path / "run"]
    assert_one_line_error(argv, capsys, needle)


# -- the same checks for grids made elsewhere, and for the Python API ---------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seeds": []}, r"command line: data set '.*': seeds = \[\]: must be a non-empty list"),
        ({"split": "kfold", "folds": 1}, "folds = 1: must be a whole number >= 2"),
    ],
)
def test_a_command_line_grid_is_checked_the_same(change: dict, message: str) -> None:
    """``--seeds 0`` and ``--folds 1`` give such grids; ``validate`` refuses them."""
    grid = load_config("quick")
    for key, value in change.items():
        setattr(grid.datasets[0], key, value)
    with pytest.raises(InputError, match=message):
        validate(grid, "command line")


def test_a_saved_grid_with_a_bad_thread_count_is_refused() -> None:
    grid = load_config("quick")
    grid.n_threads = -2
    with pytest.raises(InputError, match=r"grid\.json: n_threads = -2: must be a whole number"):
        validate(grid, "grid.json")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("torch-mf", {"lr": 0}, r"^torch-mf.lr=0: must be a number > 0$"),
        ("torch-mf", {"factors": True}, r"^torch-mf.factors=True: must be a whole number >= 1$"),
        ("numpy-als", {"epochs": 2.5}, r"^numpy-als.epochs=2.5: must be a whole number >= 1$"),
        ("lightfm-warp", {"learning_schedule": "sgd"}, r"learning_schedule='sgd'; choose from"),
        ("torch-mf", {"optimizer": "sgd", "sparse": True}, r"trainer='fused' writes dense"),
        ("numpy-sgd", {"n_threads": 0}, r"^n_threads=0: must be a whole number >= 1 or None$"),
        ("numpy-sgd", {"seed": -1}, r"^seed=-1: must be a whole number >= 0 and <= 4294967295$"),
    ],
)
def test_create_refuses_an_invalid_value(name: str, params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        models.create(name, **params)


def test_an_int_passes_for_a_float_and_becomes_one() -> None:
    model = models.create("numba-sgd", lr=1, l2=0)
    assert model.lr == 1.0 and isinstance(model.lr, float) and isinstance(model.l2, float)


@pytest.mark.parametrize("name", models.names())
def test_every_hyperparameter_declares_its_type_and_range(name: str) -> None:
    """Each contender's ``__init__`` hyperparameters have specs, and its defaults pass them."""
    defaults, specs = models.hyperparameters(name), models.specs(name)
    assert set(specs) == set(defaults), f"{name}: no spec for {set(defaults) - set(specs)}"
    assert not set(specs) & set(HARNESS_SETTINGS)
    for key, default in defaults.items():
        assert specs[key].check(default, f"{name}.{key}") == default
