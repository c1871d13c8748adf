"""Configs: the shipped ones load, sweeps expand into labelled variants, precedence holds."""

from __future__ import annotations

import re

import pytest

from suite import models
from suite.config import config_names, load_config, parse_config, validate
from suite.errors import InputError

GRID = {
    "name": "t",
    "datasets": [{"name": "synthetic-seed-2017", "params": {"numpy-als": {"epochs": 4}}}],
    "models": [
        {"name": "numpy-als", "params": {"factors": 8}, "sweep": {"l2": [0.1, 0.2]}},
        {"name": "numpy-als", "label": "als-big", "params": {"factors": 64}},
    ],
}


@pytest.mark.parametrize("name", config_names())
def test_every_shipped_config_is_valid(name: str) -> None:
    grid = load_config(name)
    assert grid.datasets and grid.models
    assert {spec.name for spec in grid.models} <= set(models.names())


def test_sweep_expands_into_labelled_variants_with_precedence() -> None:
    grid = parse_config(GRID, "t.toml")
    dataset = grid.datasets[0]
    swept = grid.variants(dataset, grid.models[0])
    assert [label for label, _ in swept] == ["numpy-als[l2=0.1]", "numpy-als[l2=0.2]"]
    params = dict(swept)["numpy-als[l2=0.2]"]
    assert params["l2"] == 0.2 and params["factors"] == 8 and params["epochs"] == 4
    assert params["init_std"] == models.hyperparameters("numpy-als")["init_std"]
    assert grid.variants(dataset, grid.models[1])[0][0] == "als-big"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sweep": {"speed": [1, 2]}}, "sweep: unknown parameter 'speed'"),
        ({"sweep": {"l2": 0.1}}, "each sweep entry must be a list"),
        ({"label": None, "sweep": {}}, "two entries are both named 'numpy-als'"),
    ],
)
def test_bad_sweeps_and_duplicate_names(change: dict, message: str) -> None:
    raw = {**GRID, "models": [{**GRID["models"][0], **change}, {"name": "numpy-als"}]}
    if "label" in change:
        raw["models"][0].pop("sweep")
    with pytest.raises(InputError, match=message):
        parse_config(raw, "t.toml")


def test_a_command_line_setting_of_a_swept_key_is_refused() -> None:
    grid = parse_config(GRID, "t.toml")
    grid.cli_params = {"numpy-als": {"l2": 0.5}}
    with pytest.raises(InputError, match=r"numpy-als.l2 is set on the command line .* sweeps l2"):
        validate(grid, "command line")


def test_a_command_line_setting_of_an_unswept_key_applies_to_every_variant() -> None:
    grid = parse_config(GRID, "t.toml")
    grid.cli_params = {"numpy-als": {"factors": 3}}
    validate(grid, "command line")
    assert {p["factors"] for _, p in grid.variants(grid.datasets[0], grid.models[0])} == {3}


def _with_datasets(*entries: dict) -> dict:
    return {"name": "t", "datasets": list(entries), "models": [{"name": "popularity"}]}


def test_features_and_cold_items_name_their_own_data_set_entry() -> None:
    grid = parse_config(
        _with_datasets(
            {"name": "ml-100k", "split": "kfold"},
            {"name": "ml-100k", "features": True},
            {"name": "ml-100k", "features": True, "split": "cold-items"},
        ),
        "grid.toml",
    )
    assert [d.label for d in grid.datasets] == [
        "ml-100k",
        "ml-100k +features",
        "ml-100k +features, cold items",
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"name": "synthetic-seed-2017", "features": True}],
            "features = true, but only ml-100k and planted sets have any",
        ),
        (
            [{"name": "ml-100k"}, {"name": "ml-100k", "split": "kfold"}],
            "two [[datasets]] entries are both 'ml-100k'",
        ),
    ],
)
def test_data_set_entries_that_cannot_work_are_refused(entries, message) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_config(_with_datasets(*entries), "grid.toml")
