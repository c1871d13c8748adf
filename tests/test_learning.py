"""Every contender learns a planted low-rank model: far better than the trivial baselines."""

from __future__ import annotations

import numpy as np
import pytest

from suite import metrics, models
from suite.data import splits, synthetic

#: Settings for a 100-user × 60-item set (rank 2): capacity matched, enough steps to converge.
#: A contender that is not listed learns with its defaults.
LEARNING_PARAMS = {
    "torch-mf": {
        "factors": 4,
        "epochs": 40,
        "batch_size": 32,
        "lr": 0.01,
        "l2": 0.001,
        "lr_decay": 1.0,
    },
    "torch-biased-mf": {
        "factors": 4,
        "epochs": 40,
        "batch_size": 32,
        "lr": 0.01,
        "l2": 0.001,
        "lr_decay": 1.0,
    },
    "torch-mf-seed": {"factors": 4, "epochs": 8, "lr": 0.05, "max_ratings": None},
    "torch-bpr": {"factors": 4, "epochs": 40, "batch_size": 64},
    "torch-ials": {"factors": 4, "l2": 1.0},
    "numpy-sgd": {"factors": 4, "epochs": 40, "lr": 0.02, "l2": 0.001},
    "numba-sgd": {"factors": 4, "epochs": 40, "lr": 0.02, "l2": 0.001},
    "libmf-sgd": {"factors": 4, "epochs": 100, "lr": 0.2, "l2": 0.001},
    "numpy-als": {"factors": 4, "l2": 0.01},
    "surprise-svd": {"factors": 4, "epochs": 100, "lr": 0.02, "l2": 0.001},
    "surprise-svdpp": {"factors": 4, "epochs": 100, "lr": 0.02, "l2": 0.001},
    "cornac-mf": {"factors": 4, "epochs": 100, "lr": 0.02, "l2": 0.001},
    "implicit-als": {"factors": 4, "l2": 1.0},
    "implicit-bpr": {"factors": 4},
    "implicit-lmf": {"factors": 4},
    "lightfm-warp": {"factors": 4},
    "lightfm-bpr": {"factors": 4},
}


@pytest.fixture(scope="module")
def planted_split():
    """Continuous ratings, noise σ = 0.1; users rate what they like (selection = 2)."""
    ratings = synthetic.planted(
        100, 60, 2000, rank=2, noise=0.1, rounded=False, clip=None, selection=2.0, seed=0
    )
    train, test = splits.holdout(ratings, 0.2, seed=0)
    return ratings.metadata["noise_floor_rmse"], train, test


@pytest.fixture(scope="module")
def popularity_ndcg(planted_split) -> float:
    _, train, test = planted_split
    model = models.create("popularity").fit(train)
    return metrics.ranking_metrics(model, train, test)["ndcg_at_10"]


#: One rating at a time in Python: several seconds even on this tiny set.
SLOW_TO_LEARN = {"torch-mf-seed"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if n in SLOW_TO_LEARN else n
        for n in models.names()
        if models.get(n).trains and not models.get(n).floor  # floors are what they must beat
    ],
)
def test_model_learns_planted_structure(name, planted_split, popularity_ndcg) -> None:
    floor, train, test = planted_split
    model = models.create(name, n_threads=1, **LEARNING_PARAMS.get(name, {})).fit(train)
    ndcg = metrics.ranking_metrics(model, train, test)["ndcg_at_10"]
    assert ndcg > popularity_ndcg + 0.1, f"{name}: NDCG@10 {ndcg:.3f} vs popularity"
    if model.predicts_ratings:
        baseline = metrics.rmse(np.full(len(test), train.rating.mean()), test.rating)
        rmse = metrics.rating_metrics(model, test)["rmse"]
        closed = (baseline - rmse) / (baseline - floor)  # share of the gap to the noise floor
        assert rmse < 0.45 * baseline, f"{name}: RMSE {rmse:.3f} vs global mean {baseline:.3f}"
        assert closed > 0.6, (
            f"{name}: RMSE {rmse:.3f} closes {closed:.0%} of the gap to {floor:.3f}"
        )


def test_bias_only_beats_the_global_mean(planted_split) -> None:
    """The floors in order: user and item biases already explain part of the ratings."""
    _, train, test = planted_split
    mean_rmse = metrics.rating_metrics(models.create("global-mean").fit(train), test)["rmse"]
    bias_rmse = metrics.rating_metrics(models.create("bias-only").fit(train), test)["rmse"]
    assert bias_rmse < 0.9 * mean_rmse, f"bias-only {bias_rmse:.3f} vs mean {mean_rmse:.3f}"


def test_hogwild_learns_like_the_serial_loop(planted_split) -> None:
    _, train, test = planted_split
    params = {**LEARNING_PARAMS["numba-sgd"], "n_threads": 2}
    serial = models.create("numba-sgd", **params).fit(train)
    hogwild = models.create("numba-sgd", hogwild=True, **params).fit(train)
    serial_rmse = metrics.rating_metrics(serial, test)["rmse"]
    assert metrics.rating_metrics(hogwild, test)["rmse"] < serial_rmse + 0.05


def test_learning_settings_name_registered_contenders_and_their_parameters() -> None:
    for name, params in LEARNING_PARAMS.items():
        assert set(params) <= set(models.hyperparameters(name)), name
