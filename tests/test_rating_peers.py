"""The rating floors and the Surprise/Cornac adapters agree with the libraries they wrap."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from model_helpers import tiny_ratings

from suite import models
from suite.data.ratings import Ratings

needs_surprise = pytest.mark.skipif(
    importlib.util.find_spec("surprise") is None, reason="scikit-surprise is not installed"
)
needs_cornac = pytest.mark.skipif(
    importlib.util.find_spec("cornac") is None, reason="cornac is not installed"
)

#: Small settings: enough epochs for the factors to move, little time (SVD++ is slow).
SMALL = {"factors": 6, "epochs": 5}


@pytest.fixture(scope="module")
def train() -> Ratings:
    return tiny_ratings(seed=4)


def sample_pairs(train: Ratings, size: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Rated pairs and unrated pairs of warm users and items (no cold code)."""
    rng = np.random.default_rng(0)
    rated = rng.choice(len(train), size // 2, replace=False)
    users = np.concatenate([train.user[rated], rng.choice(np.unique(train.user), size // 2)])
    items = np.concatenate([train.item[rated], rng.choice(np.unique(train.item), size // 2)])
    return users.astype(np.int64), items.astype(np.int64)


def assert_scores_are_predictions(model: models.Model, users: np.ndarray, n_items: int) -> None:
    """``_score_items`` rows are the ``_predict`` of every item (the same formula in bulk)."""
    every_user = np.repeat(users, n_items)
    every_item = np.tile(np.arange(n_items), len(users))
    expected = model._predict(every_user, every_item).reshape(len(users), n_items)
    np.testing.assert_allclose(model._score_items(users), expected, rtol=0, atol=1e-9)


# -- the floors ------------------------------------------------------------------------------


def test_global_mean_predicts_the_mean_and_ranks_by_popularity(train) -> None:
    model = models.create("global-mean").fit(train)
    users, items = sample_pairs(train)
    np.testing.assert_allclose(model.predict(users, items), train.rating.mean(), rtol=1e-6)
    popularity = np.bincount(train.item, minlength=train.n_items)[:-1]  # the last is cold
    np.testing.assert_array_equal(model.score_items(np.array([3]))[0, :-1], popularity)


@needs_surprise
def test_bias_only_equals_surprise_baseline_only(train) -> None:
    from surprise import BaselineOnly

    from baselines.surprise_models import surprise_trainset

    model = models.create("bias-only", epochs=7, l2_user=5.0, l2_item=3.0).fit(train)
    options = {"method": "als", "n_epochs": 7, "reg_u": 5.0, "reg_i": 3.0}
    reference = BaselineOnly(bsl_options=options, verbose=False).fit(surprise_trainset(train))
    np.testing.assert_allclose(model.user_bias_, reference.bu, atol=1e-12)
    np.testing.assert_allclose(model.item_bias_, reference.bi, atol=1e-12)


def test_bias_only_objective_never_increases(train) -> None:
    model = models.create("bias-only", epochs=8).fit(train)
    assert np.all(np.diff(model.loss_history_) <= 1e-12), model.loss_history_


def test_floors_are_declared() -> None:
    floors = {name for name in models.names() if models.get(name).floor}
    assert {"global-mean", "bias-only", "popularity"} <= floors
    assert not {"surprise-svd", "cornac-mf", "numpy-als"} & floors


# -- Surprise --------------------------------------------------------------------------------


@needs_surprise
def test_surprise_trainset_ids_are_our_codes(train) -> None:
    from baselines.surprise_models import surprise_trainset

    trainset = surprise_trainset(train)
    assert (trainset.n_users, trainset.n_items) == (train.n_users, train.n_items)
    assert trainset.to_inner_uid(7) == 7 and trainset.to_inner_iid(11) == 11
    assert not trainset.knows_user(train.n_users - 1)  # cold: no training rating
    assert sorted(trainset.all_ratings()) == sorted(
        zip(train.user.tolist(), train.item.tolist(), train.rating.tolist(), strict=True)
    )
    assert trainset.global_mean == pytest.approx(train.rating.mean(dtype=np.float64))


@needs_surprise
@pytest.mark.parametrize(
    ("name", "params"),
    [("surprise-svd", {}), ("surprise-svd", {"biased": False}), ("surprise-svdpp", {})],
)
def test_surprise_bulk_predictions_equal_its_own(name, params, train) -> None:
    model = models.create(name, n_threads=1, **SMALL, **params).fit(train)
    users, items = sample_pairs(train)
    pairs = zip(users.tolist(), items.tolist(), strict=True)
    library = [model.algorithm_.predict(u, i, clip=False).est for u, i in pairs]
    np.testing.assert_allclose(model._predict(users, items), library, rtol=0, atol=1e-5)
    assert_scores_are_predictions(model, np.unique(users), train.n_items)


@needs_surprise
def test_svdpp_rating_cache_changes_nothing(train) -> None:
    plain = models.create("surprise-svdpp", **SMALL).fit(train)
    cached = models.create("surprise-svdpp", cache_ratings=True, **SMALL).fit(train)
    for mine, theirs in zip(plain._state_arrays(), cached._state_arrays(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_missing_library_makes_its_contenders_unavailable(monkeypatch) -> None:
    real = importlib.util.find_spec
    missing = {"surprise", "cornac"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a)
    )
    for name, library in [
        ("surprise-svd", "scikit-surprise"),
        ("surprise-svdpp", "scikit-surprise"),
        ("cornac-mf", "cornac"),
    ]:
        ok, reason = models.get(name).available()
        assert not ok and library in reason, (name, reason)


# -- Cornac ----------------------------------------------------------------------------------


@needs_cornac
@pytest.mark.parametrize("params", [{}, {"biased": False}])
def test_cornac_bulk_predictions_equal_its_own(params, train) -> None:
    model = models.create("cornac-mf", n_threads=1, **SMALL, **params).fit(train)
    users, items = sample_pairs(train)
    pairs = zip(users.tolist(), items.tolist(), strict=True)
    library = [float(model.model_.score(u, i)) for u, i in pairs]
    np.testing.assert_allclose(model._predict(users, items), library, rtol=0, atol=1e-5)
    scores = model._score_items(users[:3])
    library_rows = [model.model_.score(u) for u in users[:3]]
    np.testing.assert_allclose(scores, library_rows, rtol=0, atol=1e-5)


@needs_cornac
def test_cornac_epoch_by_epoch_equals_one_cornac_fit(train) -> None:
    """Our per-epoch calls make the updates of ``MF(max_iter=epochs, seed=seed).fit``."""
    from cornac.models import MF

    from baselines.cornac_mf import cornac_dataset

    model = models.create("cornac-mf", n_threads=1, seed=5, **SMALL).fit(train)
    reference = MF(k=6, max_iter=5, seed=5, verbose=False).fit(cornac_dataset(train))
    np.testing.assert_array_equal(model.user_factors_, reference.u_factors)
    np.testing.assert_array_equal(model.item_factors_, reference.i_factors)
    np.testing.assert_array_equal(model.user_bias_, reference.u_biases)
    np.testing.assert_array_equal(model.item_bias_, reference.i_biases)


@needs_surprise
def test_a_contender_without_per_epoch_state_gets_fresh_fits_for_a_curve(tmp_path) -> None:
    """No flat line of final values: each point of its curve is a fit of its own, of 1, 2, ...
    epochs, timed and evaluated (so its time to the target is measured, not "not timed")."""
    from harness_helpers import config_file, ratings_file

    from suite import results, runner
    from suite.config import load_config

    models_text = '[[models]]\nname = "surprise-svd"\nparams = { factors = 4, epochs = 3 }'
    config = config_file(tmp_path, ratings_file(tmp_path), models_text, seeds="[0]")
    runner.run_grid(load_config(str(config)), tmp_path / "run", in_process=True)
    frame, curves = results.load(tmp_path / "run")
    assert frame["status"].tolist() == ["ok"] and frame["epochs"].tolist() == [3]
    assert curves["epoch"].tolist() == [1, 2, 3] and curves["fresh_fit"].all()
    assert curves["elapsed_s"].iloc[-1] == pytest.approx(frame["fit_s"].iloc[0])  # the run's own
    assert np.isfinite(frame["time_to_rating_target_s"]).all()  # RMSE 1.5 is met at once
    # no per-epoch time was measured: the mean epoch, fit time over epochs, stands in
    assert frame["epoch_s_median"].tolist() == (frame["fit_s"] / frame["epochs"]).tolist()
