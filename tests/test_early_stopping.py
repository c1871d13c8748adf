"""Early stopping: validation carved from training data only, one rule, the best epoch kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_helpers import assert_one_line_error, config_file, ratings_file
from model_helpers import model_backends, quick, tiny_ratings

from suite import models, runner
from suite.config import load_config
from suite.data import splits, synthetic
from suite.early_stopping import EarlyStopping
from suite.errors import InputError
from suite.models.base import StopTraining


def pairs(ratings) -> set[tuple[int, int]]:
    return set(zip(ratings.user.tolist(), ratings.item.tolist(), strict=True))


def test_validation_is_carved_from_the_training_half_and_never_meets_the_test_half() -> None:
    ratings = synthetic.planted(200, 120, 6000, rank=4, seed=1)
    for train, test in splits.kfold(ratings, folds=5, seed=0):
        fit, validation = splits.validation(train, 0.1, seed=0)
        assert pairs(validation) <= pairs(train) and not pairs(validation) & pairs(test)
        assert not pairs(fit) & pairs(validation) and len(fit) + len(validation) <= len(train)
        assert 0.08 * len(train) <= len(validation) <= 0.1 * len(train) + 1
        assert fit.users_seen()[validation.user].all() and fit.items_seen()[validation.item].all()
    again = splits.validation(train, 0.1, seed=0)[1]
    assert pairs(again) == pairs(validation)  # the same seed, the same draw
    assert pairs(splits.validation(train, 0.1, seed=1)[1]) != pairs(validation)
    with pytest.raises(InputError, match=r"validation fraction 1\.5"):
        splits.validation(train, 1.5)


@pytest.mark.parametrize(("name", "backend"), model_backends())
def test_a_callback_can_end_training_after_any_epoch(name: str, backend: str) -> None:
    if not models.get(name).available(backend)[0]:
        pytest.skip(models.get(name).available(backend)[1])
    if not models.get(name).epoch_curve:
        pytest.skip(f"{name}: its library trains every epoch in one call")
    params = quick(name, epochs=5) if "epochs" in models.hyperparameters(name) else quick(name)

    def stop_at_two(epoch: int, model: models.Model) -> None:
        if epoch == 2:
            raise StopTraining

    model = models.create(name, backend=backend, n_threads=1, seed=0, **params)
    model.fit(tiny_ratings(), on_epoch=stop_at_two)
    assert model.epochs_run_ == 2 or ("epochs" not in params and model.epochs_run_ <= 2)
    assert np.isfinite(model.score_items(np.arange(3))[:, :5]).all()  # usable afterwards


class Scripted(EarlyStopping):
    """Early stopping that reads its validation scores from a script (RMSE: lower is better)."""

    def __init__(self, scores: list[float], patience: int) -> None:
        ratings = tiny_ratings()
        super().__init__(ratings, ratings, patience)
        self.scores = iter(scores)

    def score(self, model: models.Model) -> float:
        return next(self.scores)


def test_training_stops_once_stale_and_keeps_the_best_epoch() -> None:
    stopper = Scripted([1.0, 0.9, 0.95, 0.97, 0.99, 0.5], patience=2)
    states = {}

    def watch(epoch: int, model: models.Model) -> None:
        states[epoch] = model.user_factors_.copy()
        stopper.on_epoch(epoch, model)

    model = models.create("numba-sgd", n_threads=1, seed=0, **quick("numba-sgd", epochs=6))
    model.fit(tiny_ratings(), on_epoch=watch)
    assert (model.epochs_run_, stopper.best_epoch, stopper.stopped) == (4, 2, True)
    stopper.finish(model)
    assert np.array_equal(model.user_factors_, states[2])  # the best epoch's state is back
    assert not np.array_equal(states[2], states[4])
    assert model.epochs_run_ == 4  # it still says how far it ran


def test_an_improving_model_runs_every_epoch() -> None:
    stopper = Scripted([1.0, 0.9, 0.8], patience=1)
    model = models.create("numba-sgd", n_threads=1, seed=0, **quick("numba-sgd", epochs=3))
    model.fit(tiny_ratings(), on_epoch=stopper.on_epoch)
    stopper.finish(model)
    assert (model.epochs_run_, stopper.best_epoch, stopper.stopped) == (3, 3, False)


EARLY = """
[[models]]
name = "torch-biased-mf"
params = { epochs = 30, factors = 4, batch_size = 64, lr = 0.05 }
[[models]]
name = "surprise-svd"
params = { epochs = 5, factors = 4 }
"""


def test_the_harness_records_what_early_stopping_did(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MFBENCH_DATA", str(tmp_path / "cache"))
    config = config_file(tmp_path, ratings_file(tmp_path), EARLY, seeds="[0]")
    config.write_text(
        config.read_text().replace(
            "n_threads = 1", "n_threads = 1\nrepeats = 2\nearly_stopping = 2"
        )
    )
    out = runner.run_grid(load_config(str(config)), tmp_path / "run", in_process=True)
    frame = pd.read_csv(out / "results.csv").set_index("model")
    torch_row, svd = frame.loc["torch-biased-mf"], frame.loc["surprise-svd"]
    assert torch_row["status"] == "ok" and torch_row["patience"] == 2
    assert 1 <= torch_row["best_epoch"] <= torch_row["epochs"] < 30  # random data: stale soon
    assert torch_row["epochs"] - torch_row["best_epoch"] == 2  # stopped after 2 stale epochs
    assert torch_row["n_validation"] > 0 and np.isfinite(torch_row["validation_score"])
    assert torch_row["n_train"] > torch_row["ratings_processed"] / torch_row["epochs"]
    assert svd["status"] == "ok" and "not early-stopped" in svd["reason"]
    grid = load_config(str(config))
    stopped = runner.run_id("d", grid.datasets[0], 0, 0, "x", "cpu", {}, grid)
    grid.patience = None
    assert runner.run_id("d", grid.datasets[0], 0, 0, "x", "cpu", {}, grid) != stopped


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("patience = 0", "patience = 0: must be a whole number of epochs >= 1"),
        ("early_stopping = 0", "patience = 0: must be a whole number of epochs >= 1"),  # old
        ("early_stopping = 2\npatience = 2", "'early_stopping' is the old name of 'patience'"),
        ("validation_fraction = 1.0", "validation_fraction = 1.0: must be a number strictly"),
    ],
)
def test_bad_early_stopping_settings_are_one_line_errors(
    tmp_path: Path, capsys, setting, needle
) -> None:
    config = config_file(tmp_path, ratings_file(tmp_path), EARLY, seeds="[0]")
    config.write_text(config.read_text().replace("n_threads = 1", f"n_threads = 1\n{setting}"))
    assert_one_line_error(["run", "--config", config, "--out", tmp_path / "run"], capsys, needle)


def test_a_bad_early_stopping_flag_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    data = ratings_file(tmp_path)
    argv = ["run", "--dataset", data, "--model", "numba-sgd", "--early-stopping", "0"]
    assert_one_line_error([*argv, "--out", tmp_path / "run"], capsys, "--early-stopping")


def test_a_score_that_only_creeps_has_stopped_improving() -> None:
    from suite.early_stopping import MIN_IMPROVEMENT, EarlyStopping

    class Creeping:
        """Validation RMSE falling by a hundredth of the margin each epoch, for ever."""

        epoch_curve = True
        contests = ("rating",)

    stopper = EarlyStopping.__new__(EarlyStopping)
    stopper.patience, stopper.best_score, stopper.best_epoch = 3, float("nan"), 0
    stopper.last_score, stopper.stopped, stopper._best_state = float("nan"), False, None
    scores = iter(0.92 * (1 - MIN_IMPROVEMENT / 100) ** n for n in range(100))
    stopper.score = lambda model: next(scores)
    stopper.metric = staticmethod(lambda model: __import__("suite").metrics.primary("rating"))
    model = Creeping()
    model.snapshot = lambda: {}
    with pytest.raises(StopTraining):
        for epoch in range(1, 100):
            stopper.on_epoch(epoch, model)
    assert stopper.best_epoch == 1 and epoch == 4
