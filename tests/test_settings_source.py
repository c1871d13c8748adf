"""The report's "where the settings come from": runs matched against their split's winners."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from suite.report import settings_section


def runs(*rows: tuple[str, str, int, dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"label": label, "model": model, "split": "kfold", "fold": fold, "seed": 0,
             "params": json.dumps(params)}
            for label, model, fold, params in rows
        ]
    )  # fmt: skip


def test_runs_at_their_splits_winners_are_tuned_and_a_flagged_winner_is_named(
    tuned_folder: Path,
) -> None:
    folder = tuned_folder / "ml-100k"
    folder.mkdir()
    (folder / "kfold2-fold0-seed0.toml").write_text(
        '"numba-sgd" = { factors = 40, lr = 0.01 }\n'
        '"numpy-als" = { factors = 9 }  # at the edge of its range: factors, l2\n'
    )
    (folder / "kfold2-fold1-seed0.toml").write_text('"numba-sgd" = { factors = 50, lr = 0.02 }\n')
    table = settings_section(
        "ml-100k",
        runs(
            ("numba-sgd", "numba-sgd", 0, {"factors": 40, "lr": 0.01, "l2": 0.1}),
            ("numba-sgd", "numba-sgd", 1, {"factors": 50, "lr": 0.02, "l2": 0.1}),
            ("numba-sgd (k=8)", "numba-sgd", 0, {"factors": 8, "lr": 0.01}),
            ("numpy-als", "numpy-als", 0, {"factors": 9}),
            ("numpy-als", "numpy-als", 1, {"factors": 9}),
            ("popularity", "popularity", 0, {}),
        ),
    )
    lines = {line.split("|")[1].strip(): line for line in table.splitlines() if "|" in line}
    assert "tuned on its own split (2 of 2)" in lines["numba-sgd"]
    assert "set by the config instead: factors" in lines["numba-sgd (k=8)"]
    assert "tuned on its own split (1 of 2)" in lines["numpy-als"]
    assert "fold 0: factors, l2" in lines["numpy-als"]
    assert "popularity" not in lines  # no tuned settings: class defaults and the config's


def test_no_tuned_settings_no_section(tuned_folder: Path) -> None:
    assert settings_section("ml-100k", runs(("numba-sgd", "numba-sgd", 0, {}))) == ""
