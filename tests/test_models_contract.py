"""The Model protocol, checked on every registered contender and every backend it declares."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import fitted_output, model_backends, quick, tiny_ratings

from suite import models
from suite.errors import InputError


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
