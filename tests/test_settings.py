"""A run's settings: each value's layer, the runs matched against their splits' winners, threads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from suite import models, settings
from suite.config import parse_config
from suite.threads import resolve_threads

GRID = {
    "name": "t",
    "spark_master": "spark://head:7077",
    "datasets": [
        {"name": "ml-100k", "split": "kfold", "folds": 2, "params": {"spark-als": {"epochs": 4}}}
    ],
    "models": [{"name": "spark-als", "params": {"factors": 8}, "sweep": {"l2": [0.1, 0.2]}}],
}


def test_each_value_names_the_layer_that_set_it(tuned_folder: Path) -> None:
    (tuned_folder / "ml-100k").mkdir()
    tuned = tuned_folder / "ml-100k" / "kfold2-fold1-seed0.toml"
    tuned.write_text('"spark-als" = { factors = 16, l2 = 0.3, blocks = 3 }\n')
    grid = parse_config(GRID, "t.toml")
    grid.cli_params = {"spark-als": {"driver_memory": "2g"}}
    dataset, model = grid.datasets[0], grid.models[0]
    layered = settings.layers(grid, dataset, model, {"l2": 0.2}, fold=1, seed=0)
    where, resolved = settings.sources(layered), settings.resolve(layered)
    assert list(where) == list(resolved) == list(models.hyperparameters("spark-als"))
    assert where == {
        "factors": "config [[models]]",
        "epochs": "config [datasets.params]",
        "l2": "sweep",
        "blocks": str(tuned),
        "master": "spark_master",
        "driver_memory": "command line",
    }
    assert (resolved["factors"], resolved["epochs"], resolved["l2"]) == (8, 4, 0.2)
    assert (resolved["blocks"], resolved["master"]) == (3, "spark://head:7077")
    assert grid.variants(dataset, model, 1, 0)[1] == ("spark-als[l2=0.2]", resolved)
    # fold 0 has no winners of its own (nor has the data set): its tuned layer is absent
    assert [layer for layer, _ in settings.layers(grid, dataset, model, None, 0, 0)] == [
        "default", "spark_master", "config [[models]]", "config [datasets.params]", "sweep",
        "command line",
    ]  # fmt: skip
    assert settings.sources(settings.layers(grid, dataset, model, None, 0, 0))["blocks"] == (
        "default"
    )


def test_runs_are_matched_against_their_own_splits_winners(tuned_folder: Path) -> None:
    folder = tuned_folder / "ml-100k"
    folder.mkdir()
    (folder / "kfold2-fold0-seed0.toml").write_text(
        '"numba-sgd" = { factors = 40 }  # at the edge of its range: factors\n'
    )
    runs = pd.DataFrame(
        [
            {"label": label, "model": "numba-sgd", "split": "kfold", "fold": fold, "seed": 0,
             "params": json.dumps({"factors": factors})}
            for label, fold, factors in (("a", 0, 40), ("a", 1, 40), ("b", 0, 8))
        ]
    )  # fmt: skip
    matched = settings.tuned_runs("ml-100k", runs)
    assert matched.key == "ml-100k"
    a, b = matched.contenders
    assert (a.label, a.splits, a.tuned_splits, a.overridden) == ("a", 2, 1, ())
    assert a.flags == (settings.EdgeFlag(0, "factors"),) and not a.on_winners
    assert (b.splits, b.tuned_splits, b.overridden) == (1, 1, ("factors",))


def test_a_run_gets_the_threads_asked_for_or_every_usable_core() -> None:
    assert resolve_threads(3) == 3
    assert resolve_threads(None) == resolve_threads(0) >= 1
