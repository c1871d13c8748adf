"""The Model protocol, checked on every registered contender and every backend it declares."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
from model_helpers import fitted_output, model_backends, quick, tiny_ratings

from suite import models
from suite.errors import InputError
from suite.models.base import COMMON_HYPERPARAMETERS, Contest


def make(name: str, backend: str, **params) -> models.Model:
    ok, reason = models.get(name).available(backend)
    if not ok:
        pytest.skip(reason)
    return models.create(name, backend=backend, n_threads=1, seed=3, **quick(name, **params))


@pytest.fixture(scope="module")
def train():
    return tiny_ratings()


@pytest.mark.parametrize(("name", "backend"), model_backends())
def test_fit_returns_self_and_outputs_have_shapes_and_dtypes(name, backend, train) -> None:
    model = make(name, backend)
    assert model.fit(train) is model
    scores = model.score_items(np.array([0, 5, 7]))
    assert scores.shape == (3, train.n_items) and scores.dtype == np.float32
    if model.predicts_ratings:
        predicted = model.predict(train.user[:20], train.item[:20])
        assert predicted.shape == (20,) and predicted.dtype == np.float32
        assert np.isfinite(predicted).all()
    else:
        with pytest.raises(InputError, match="ranking model"):
            model.predict(train.user[:2], train.item[:2])


@pytest.mark.parametrize(("name", "backend"), model_backends())
def test_same_seed_same_result(name, backend, train) -> None:
    first = fitted_output(make(name, backend).fit(train), train)
    again = fitted_output(make(name, backend).fit(train), train)
    np.testing.assert_allclose(first, again, rtol=1e-5 if backend == "cuda" else 0)


@pytest.mark.parametrize(("name", "backend"), model_backends())
def test_on_epoch_called_once_per_epoch(name, backend, train) -> None:
    model = make(name, backend)
    calls = []
    model.fit(train, on_epoch=lambda epoch, m: calls.append((epoch, m)))
    configured = model.params().get("epochs", 1)
    assert [epoch for epoch, _ in calls] == list(range(1, configured + 1))
    assert all(m is model for _, m in calls) and model.epochs_run_ == configured
    assert model.n_ratings_processed_ > 0


@pytest.mark.parametrize(("name", "backend"), model_backends())
def test_unknown_users_and_items_follow_the_policy(name, backend, train) -> None:
    model = make(name, backend).fit(train)
    cold_user, cold_item = train.n_users - 1, train.n_items - 1
    scores = model.score_items(np.array([0, cold_user]))
    assert np.isneginf(scores[:, cold_item]).all()
    np.testing.assert_array_equal(scores[1, :-1], np.bincount(train.item, minlength=31)[:-1])
    with pytest.raises(InputError, match=f"unknown user code {train.n_users}"):
        model.score_items(np.array([0, train.n_users]))
    if model.predicts_ratings:
        predicted = model.predict(np.array([cold_user, 0, 0]), np.array([0, cold_item, 0]))
        assert predicted[0] == predicted[1] == pytest.approx(train.rating.mean())
        with pytest.raises(InputError, match="unknown item code -1"):
            model.predict(np.array([0]), np.array([-1]))


@pytest.mark.parametrize("name", models.names())
def test_params_are_stored_verbatim(name) -> None:
    params = quick(name)
    model = models.create(name, seed=11, n_threads=1, **params)
    assert {k: model.params()[k] for k in params} == params
    assert model.params()["seed"] == 11 and model.params()["backend"] == "cpu"
    assert not [key for key in vars(model) if key.endswith("_")]  # nothing learned yet


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(InputError, match="unknown model 'torch-svd'; choose from torch-mf"):
        models.create("torch-svd")


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(InputError, match="unknown parameter 'learning_rate' for torch-mf; valid"):
        models.create("torch-mf", learning_rate=0.1)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("name", ["torch-biased-mf", "implicit-als"])
def test_cuda_without_gpu_is_unavailable_with_a_reason(name, train) -> None:
    ok, reason = models.get(name).available("cuda")
    assert not ok and "CUDA" in reason
    with pytest.raises(InputError, match="CUDA"):
        models.create(name, backend="cuda", **quick(name)).fit(train)


def test_backend_a_model_lacks_is_unavailable() -> None:
    ok, reason = models.get("numpy-sgd").available("cuda")
    assert not ok and reason == "numpy-sgd has no 'cuda' backend (has cpu)"


def test_fitting_on_empty_data_fails_clearly(train) -> None:
    with pytest.raises(InputError, match="no ratings"):
        models.create("torch-mf").fit(train.subset(np.array([], dtype=int)))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("torch-biased-mf", {"optimizer": "sgd", "lr": 1e6}),
        ("numpy-sgd", {"lr": 1e3}),
        ("torch-mf-seed", {"lr": 1e6}),
        ("lightfm-bpr", {"lr": 1e6}),  # LightFM raises its own ValueError
    ],
)
def test_nan_loss_names_model_and_epoch(name, params, train) -> None:
    with pytest.raises(
        models.base.ModelFitError, match=rf"{name}: training loss became .* epoch 1"
    ):
        models.create(name, **quick(name, **params)).fit(train)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"optimizer": "adam", "sparse": True}, "cannot take sparse gradients"),
        ({"optimizer": "sparse_adam"}, "needs sparse=True"),
        ({"optimizer": "sgd", "sparse": True, "weight_decay": 0.1}, "weight_decay needs dense"),
        ({"optimizer": "rmsprop"}, "optimizer='rmsprop'; choose from sgd"),
        ({"optimizer": "sgd", "sparse": True}, "trainer='fused' writes dense gradients"),
        ({"trainer": "jit"}, "trainer='jit'; choose from autograd, fused"),
    ],
)
def test_torch_option_combinations_are_checked(params, message, train) -> None:
    with pytest.raises(InputError, match=message):
        models.create("torch-mf", **quick("torch-mf", **params)).fit(train)


#: Library or textbook names of the shared settings; contenders must use the suite's names.
SYNONYMS = {
    "iterations",
    "n_iter",
    "n_epochs",
    "num_epochs",
    "learning_rate",
    "regularization",
    "reg",
    "lambda_",
    "no_components",
    "n_factors",
    "num_factors",
    "num_threads",
    "random_state",
    "device",
    "user_alpha",
    "item_alpha",
}


@pytest.mark.parametrize("name", models.names())
def test_shared_settings_use_the_suite_vocabulary(name) -> None:
    params = set(inspect.signature(models.get(name)).parameters)
    assert not params & SYNONYMS, f"{name}: use {sorted(COMMON_HYPERPARAMETERS)}"
    assert {"seed", "n_threads", "backend"} <= params
    if models.get(name).trains:
        assert "epochs" in params  # --epochs and --param MODEL.epochs reach every learner


@pytest.mark.parametrize("name", models.names())
def test_contests_and_facts_are_declared_on_the_class(name) -> None:
    contender = models.get(name)
    assert contender.contests and set(contender.contests) <= set(Contest)
    assert contender.predicts_ratings == (Contest.RATING in contender.contests)
    assert contender.same_model_as is None or contender.same_model_as in models.names()
    assert contender.speed_tolerance is None or contender.speed_tolerance > 1
    assert contender.requirements, "declare the library it is written with (its family)"
    assert contender.method in ("sgd", "als", "gibbs", "")
    assert bool(contender.method) == (contender.trains and not contender.floor), name
    assert all(version for version in contender.library_versions().values())  # installed here
    for contest in Contest:
        baseline = models.speedup_baseline(contest)
        assert baseline in models.names() and contest in models.get(baseline).contests


def test_the_harness_names_no_contender() -> None:
    """Facts about contenders live on their classes, never in the harness modules: no module
    of the suite but the contenders' own (``suite/models/``) holds a contender's name as a
    string of its own (examples inside help texts and docstrings are fine)."""
    package = Path(models.__file__).parent.parent
    harness = [
        path
        for path in package.rglob("*.py")
        if package / "models" not in path.parents and package / "configs" not in path.parents
    ]
    assert len(harness) > 30
    for path in harness:
        strings = {
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        named = sorted(strings & set(models.names()))
        assert not named, f"{path.relative_to(package)} names {named}"


def test_a_class_without_a_valid_contest_is_refused() -> None:
    with pytest.raises(TypeError, match="is not a Contest"):
        type("Bad", (models.Model,), {"contests": ("rating",)})


def test_a_contender_must_declare_its_contests_as_a_tuple() -> None:
    with pytest.raises(TypeError, match="contests must be a non-empty tuple of Contest"):
        type("Unsaid", (models.Model,), {"name": "unsaid"})
    with pytest.raises(TypeError, match="contests must be a non-empty tuple of Contest"):
        type("Bare", (models.Model,), {"name": "bare", "contests": Contest.RATING})
