"""Tuning: equal seeded budgets, validation data only, winners with their provenance."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from harness_helpers import assert_one_line_error, ratings_file, run_cli
from model_helpers import tiny_ratings

from suite import models, tuning
from suite.data import splits
from suite.models.base import Hyperparameter
from suite.settings import tuned_key


@pytest.mark.parametrize("name", models.names())
def test_every_search_range_holds_only_valid_values(name: str) -> None:
    specs = models.get(name).specs()
    space = tuning.search_space(name)
    assert "epochs" not in space  # early stopping decides the epochs
    for key, spec in space.items():
        if spec.type in (int, float):
            low, high = spec.search
            assert low < high and (not spec.log or low > 0), f"{name}.{key}: {spec.search}"
        for value in spec.search:
            spec.check(value, f"{name}.{key}")  # raises if a bound is not a valid value
    assert set(space) <= set(specs)


def test_a_library_that_trains_in_one_call_gets_its_epochs_searched() -> None:
    assert "epochs" in tuning.search_space("surprise-svd", early_stopping=False)


@pytest.fixture(scope="module")
def halves():
    train, _ = splits.holdout(tiny_ratings(), 0.2, seed=0)
    return splits.validation(train, 0.2, seed=0)


def test_the_same_seed_gives_the_same_search_and_the_winner_is_its_best_trial(halves) -> None:
    fit, validation = halves
    first = tuning.tune("numba-sgd", fit, validation, n_trials=4, seed=3, max_epochs=20)
    again = tuning.tune("numba-sgd", fit, validation, n_trials=4, seed=3, max_epochs=20)
    assert [t["params"] for t in first.trials] == [t["params"] for t in again.trials]
    complete = [t for t in first.trials if t["state"] == "complete"]
    top = min(t["score"] for t in complete)  # RMSE: lower is better
    tied = [t for t in complete if t["score"] <= top * (1 + tuning.TIED)]
    winner = min(tied, key=lambda t: t["fit_s"])  # the fastest of those tied with the best
    assert first.top_score == pytest.approx(top)
    assert first.best_score == pytest.approx(winner["score"])
    assert first.best_params == {**winner["params"], "epochs": winner["best_epoch"]}
    assert 1 <= first.best_params["epochs"] <= 20


def test_every_search_starts_from_the_defaults_and_flags_a_winner_stopped_by_the_budget(
    halves,
) -> None:
    fit, validation = halves
    tuned = tuning.tune("numba-sgd", fit, validation, n_trials=2, seed=1, max_epochs=2)
    defaults = models.hyperparameters("numba-sgd")
    first = tuned.trials[0]["params"]
    assert set(first) == set(tuning.search_space("numba-sgd"))
    assert first == {name: defaults[name] for name in first}
    # Still improving at the last epoch allowed: the epoch budget may have cut it short.
    assert ("epochs" in tuned.on_edge) == (tuned.best_params["epochs"] == 2)


def test_a_winner_at_a_bound_of_its_range_is_flagged() -> None:
    spec = Hyperparameter(float, low=0, search=(1e-4, 1.0), log=True)
    assert tuning.at_edge(1e-4, spec) and tuning.at_edge(0.9, spec)
    assert not tuning.at_edge(0.01, spec)
    factors = Hyperparameter(int, low=1, search=(8, 256), log=True)
    assert tuning.at_edge(250, factors) and not tuning.at_edge(64, factors)


def test_the_settings_file_holds_the_winners_and_where_they_come_from(halves, tmp_path) -> None:
    fit, validation = halves
    tuned = tuning.tune("numba-sgd", fit, validation, n_trials=3, seed=0, max_epochs=10)
    provenance = {"data set": "tiny", "commit": "abc1234"}
    settings = tuning.write(tmp_path / "tuned", [tuned], provenance)
    parsed = tomllib.loads(settings.read_text())
    assert parsed["numba-sgd"] == pytest.approx(tuned.best_params)
    assert "# data set: tiny" in settings.read_text()
    assert "numba-sgd" in (tmp_path / "tuned" / "TUNING.md").read_text()
    trials = pd.read_csv(tmp_path / "tuned" / "trials.csv")
    assert len(trials) == 3 and trials["winner"].sum() == 1
    assert trials.loc[trials["winner"], "score"].item() == pytest.approx(tuned.best_score)
    assert (tmp_path / "tuned" / tuning.PLOT).stat().st_size > 0
    assert f"]({tuning.PLOT})" in (tmp_path / "tuned" / "TUNING.md").read_text()


def test_tune_on_the_command_line(tmp_path: Path, capsys) -> None:
    data = ratings_file(tmp_path)
    argv = ["tune", "--dataset", data, "--model", "numba-sgd", "--trials", "2"]
    code, out, err = run_cli([*argv, "--max-epochs", "5", "--out", tmp_path / "t"], capsys)
    assert code == 0, err
    assert "settings:" in out and (tmp_path / "t" / "settings.toml").exists()
    assert_one_line_error(
        ["tune", "--dataset", data, "--model", "torch-svd"], capsys, "unknown model 'torch-svd'"
    )


def test_a_warm_start_tries_the_splits_saved_winner_second(
    tuned_folder: Path, tmp_path: Path, capsys
) -> None:
    data = ratings_file(tmp_path)
    folder = tuned_folder / tuned_key(str(data))
    folder.mkdir()
    earlier = {"factors": 9, "lr": 0.0123, "l2": 0.0456, "init_std": 0.0789, "lr_decay": 0.9}
    values = ", ".join(f"{k} = {v}" for k, v in earlier.items())
    (folder / "kfold5-fold1-seed0.toml").write_text(f'"numba-sgd" = {{ {values} }}\n')
    argv = ["tune", "--dataset", data, "--split", "kfold", "--fold", "1", "--model", "numba-sgd"]
    for warm in (True, False):
        out = tmp_path / f"warm-{warm}"
        flags = ["--trials", "3", "--max-epochs", "3", "--out", out]
        code, _, err = run_cli([*argv, *flags, *(["--warm-start"] if warm else [])], capsys)
        assert code == 0, err
        trials = pd.read_csv(out / "trials.csv")
        second = ast.literal_eval(trials.loc[trials["number"] == 1, "params"].iloc[0])
        assert (second == earlier) is warm, second
        assert ("warm start" in (out / "settings.toml").read_text()) is warm


def test_saved_winners_are_every_grids_settings_until_a_config_or_flag_says_otherwise(
    tuned_folder: Path, tmp_path: Path
) -> None:
    from suite.config import DatasetSpec, Grid, ModelSpec
    from suite.settings import tuned_settings

    settings = tmp_path / "settings.toml"
    settings.write_text('"numba-sgd" = { factors = 48, lr = 0.004 }\n')
    tuning.save(settings, "ml-100k")
    settings.write_text('"numpy-als" = { factors = 16 }\n')
    saved = tuning.save(settings, "ml-100k")  # another contender: the first one's stay
    assert saved == tuned_folder / "ml-100k.toml"
    assert tuned_settings("ml-100k") == {
        "numpy-als": {"factors": 16},
        "numba-sgd": {"factors": 48, "lr": 0.004},
    }
    grid = Grid("g", [DatasetSpec("ml-100k")], [ModelSpec("numba-sgd", params={"lr": 0.01})])
    ((_, params),) = grid.variants(grid.datasets[0], grid.models[0])
    assert (params["factors"], params["lr"]) == (48, 0.01)  # tuned, then the config wins
    other = Grid("g", [DatasetSpec("synthetic-10k")], [ModelSpec("numba-sgd")])
    ((_, untuned),) = other.variants(other.datasets[0], other.models[0])
    assert untuned["factors"] == models.hyperparameters("numba-sgd")["factors"]


def test_saving_keeps_each_earlier_winner_under_the_search_that_chose_it(
    tuned_folder: Path, tmp_path: Path
) -> None:
    def search(commit: str, **winners: str) -> Path:
        entries = "".join(f'\n# validation\n"{name}" = {{ {v} }}\n' for name, v in winners.items())
        path = tmp_path / f"{commit}.toml"
        path.write_text(f"{tuning.TITLE} ...\n# commit: {commit}\n{entries}")
        return path

    tuning.save(search("first", **{"numba-sgd": "lr = 0.004", "numpy-als": "factors = 16"}), "x")
    tuning.save(search("second", **{"numpy-als": "factors = 8", "torch-mf": "lr = 0.1"}), "x")
    saved = tuning.save(search("third", **{"torch-mf": "lr = 0.2"}), "x")
    text = saved.read_text()
    third, second, first = (text.index(f"# commit: {c}") for c in ("third", "second", "first"))
    assert third < text.index('"torch-mf" = { lr = 0.2 }') < second
    assert second < text.index('"numpy-als" = { factors = 8 }') < first
    assert first < text.index('"numba-sgd" = { lr = 0.004 }')
    assert text.count('"torch-mf"') == text.count('"numpy-als"') == 1


def test_a_bad_tuned_settings_file_is_named(tuned_folder: Path, tmp_path: Path, capsys) -> None:
    data = ratings_file(tmp_path)  # a file's tuned settings are keyed by its content
    key = tuned_key(str(data))
    assert key.startswith("file-") and len(key) == len("file-") + 16
    (tuned_folder / f"{key}.toml").write_text('"numba-sgd" = { lr = -1.0 }\n')
    assert_one_line_error(
        ["run", "--dataset", data, "--model", "numba-sgd", "--out", tmp_path / "run"],
        capsys,
        f"{key}.toml",
        "lr=-1.0",
    )


def test_a_search_ends_once_it_stalls_but_not_before_its_minimum(halves) -> None:
    fit, validation = halves
    settings = {"seed": 0, "patience": 2, "max_epochs": 3, "n_threads": 1}
    tuned = tuning.tune(
        "numpy-als", fit, validation, n_trials=40, stall_trials=3, min_trials=8, **settings
    )
    assert 8 <= len(tuned.trials) < 40
    assert tuned.stopped == "after 3 trials without improvement (at least 8)"
    assert tuned.trials_to_best is not None and tuned.trials_to_best <= len(tuned.trials) - 3
    capped = tuning.tune("numpy-als", fit, validation, n_trials=4, stall_trials=3, **settings)
    assert len(capped.trials) == 4 or capped.stopped.startswith("after 3 trials")


def test_a_cold_items_split_is_tuned_on_whole_items_held_out_and_ranked_among_themselves() -> None:
    train, test = splits.cold_items(tiny_ratings(), 0.2, seed=1)
    fit, validation, candidates = tuning.validation_part(train, "cold-items", seed=1)
    assert len(fit) + len(validation) == len(train)
    assert not (fit.items_seen() & validation.items_seen()).any()  # whole items held out
    assert (candidates == validation.items_seen()).all()
    assert not (candidates & test.items_seen()).any()  # the split's test items stay unseen
    again = tuning.validation_part(train, "cold-items", seed=1)
    assert (again[1].item == validation.item).all()  # seeded
    fit, validation, candidates = tuning.validation_part(train, "holdout", seed=1)
    expected, _ = splits.validation(train, seed=1)
    assert candidates is None and (fit.item == expected.item).all()


def test_settings_tuned_with_features_on_a_cold_split_are_that_splits_alone(
    tuned_folder: Path, tmp_path: Path, capsys
) -> None:
    from suite.config import DatasetSpec, Grid, ModelSpec

    argv = ["tune", "--dataset", "synthetic-10k", "--features", "--split", "cold-items"]
    flags = ["--seed", "1", "--model", "torch-hybrid", "--trials", "2", "--max-epochs", "2"]
    code, out, err = run_cli([*argv, *flags, "--save", "--out", tmp_path / "t"], capsys)
    assert code == 0, err
    saved = tuned_folder / "synthetic-10k" / "cold-items0.2-seed1+features.toml"
    assert saved.is_file(), out
    header = saved.read_text()
    assert "synthetic-10k +features, cold items" in header
    assert "items held out whole (cold), ranked among themselves" in header
    winner = tomllib.loads(header)["torch-hybrid"]

    def settings(features: bool, split: str) -> dict:
        dataset = DatasetSpec("synthetic-10k", split=split, features=features, seeds=[1])
        grid = Grid("g", [dataset], [ModelSpec("torch-hybrid")])
        ((_, params),) = grid.variants(dataset, grid.models[0], fold=0, seed=1)
        return params

    assert all(settings(True, "cold-items")[k] == v for k, v in winner.items())
    assert settings(True, "holdout") == settings(False, "cold-items")  # neither read it
    assert_one_line_error(
        ["tune", "--dataset", "synthetic-seed-2017", "--features", "--model", "torch-hybrid"],
        capsys,
        "--features: synthetic-seed-2017 has no side features",
    )
