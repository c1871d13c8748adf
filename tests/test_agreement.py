"""Hand-derived updates agree with autograd; ALS solves its normal equations monotonically."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from model_helpers import tiny_ratings

from baselines import numpy_als, numpy_sgd
from suite import models
from suite.models.torch.losses import mse, per_example_l2
from suite.models.torch.modules import BiasedMatrixFactorization
from suite.models.torch.trainers import MinibatchTrainer

N_USERS, N_ITEMS, K, L2, LR = 41, 31, 6, 0.07, 0.02


def random_state(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "P": rng.normal(0, 0.5, (N_USERS, K)),
        "Q": rng.normal(0, 0.5, (N_ITEMS, K)),
        "bu": rng.normal(0, 0.3, N_USERS),
        "bi": rng.normal(0, 0.3, N_ITEMS),
    }


def torch_twin(state: dict[str, np.ndarray], mean: float) -> BiasedMatrixFactorization:
    """The post's biased MF module, in float64, holding ``state``."""
    module = BiasedMatrixFactorization(N_USERS, N_ITEMS, K).double()
    with torch.no_grad():
        module.user_factors.weight.copy_(torch.from_numpy(state["P"]))
        module.item_factors.weight.copy_(torch.from_numpy(state["Q"]))
        module.user_biases.weight.copy_(torch.from_numpy(state["bu"])[:, None])
        module.item_biases.weight.copy_(torch.from_numpy(state["bi"])[:, None])
        module.global_bias.fill_(mean)
    return module


@pytest.mark.parametrize("seed", range(10))
def test_hand_derived_gradients_equal_autograd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    state, mean = random_state(rng), 3.5
    u, i, r = int(rng.integers(N_USERS)), int(rng.integers(N_ITEMS)), float(rng.uniform(1, 5))
    error = r - (mean + state["bu"][u] + state["bi"][i] + state["P"][u] @ state["Q"][i])
    by_hand = numpy_sgd.gradients(
        error, state["P"][u], state["Q"][i], state["bu"][u], state["bi"][i], L2
    )

    module = torch_twin(state, mean)
    user, item = torch.tensor([u]), torch.tensor([i])
    loss = mse(module(user, item), torch.tensor([r], dtype=torch.float64))
    (loss + L2 * per_example_l2(module, user, item)).backward()
    autograd = (
        module.user_biases.weight.grad[u, 0].item(),
        module.item_biases.weight.grad[i, 0].item(),
        module.user_factors.weight.grad[u].numpy(),
        module.item_factors.weight.grad[i].numpy(),
    )
    for hand, auto in zip(by_hand, autograd, strict=True):
        np.testing.assert_allclose(hand, auto, rtol=1e-5, atol=1e-12)


def test_one_sgd_epoch_equals_autograd_twin_update_for_update() -> None:
    train = tiny_ratings()
    rng = np.random.default_rng(0)
    state, mean = random_state(rng), float(train.rating.mean())
    order = rng.permutation(len(train))

    by_hand = {key: value.copy() for key, value in state.items()}
    numpy_sgd.sgd_epoch(
        by_hand["P"], by_hand["Q"], by_hand["bu"], by_hand["bi"], mean, train, order, LR, L2
    )

    module = torch_twin(state, mean)
    trainer = MinibatchTrainer(optimizer="sgd", lr=LR, l2=L2, batch_size=1, trainer="autograd")
    users, items, ratings = train.to_torch()
    trainer.epoch(
        module,
        trainer.make_optimizer(module, sparse=False),
        (users, items, ratings.double()),
        torch.from_numpy(order),
    )

    np.testing.assert_allclose(module.user_factors.weight.detach().numpy(), by_hand["P"], rtol=1e-9)
    np.testing.assert_allclose(module.item_factors.weight.detach().numpy(), by_hand["Q"], rtol=1e-9)
    np.testing.assert_allclose(
        module.user_biases.weight.detach()[:, 0].numpy(), by_hand["bu"], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        module.item_biases.weight.detach()[:, 0].numpy(), by_hand["bi"], rtol=1e-9, atol=1e-12
    )
    assert not np.allclose(by_hand["P"], state["P"])  # the epoch did move the factors


@pytest.mark.parametrize("name", ["torch-mf", "torch-biased-mf"])
@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "adam"])
def test_fused_trainer_makes_autograds_updates(name: str, optimizer: str) -> None:
    """The hand-written PyTorch gradient step equals backward() on the same loss."""
    train = tiny_ratings()
    params = {
        "factors": 6,
        "epochs": 3,
        "batch_size": 64,
        "optimizer": optimizer,
        "lr": 0.01,
        "l2": 0.05,
        "n_threads": 1,
        "seed": 4,
    }
    fused = models.create(name, trainer="fused", **params).fit(train)
    by_autograd = models.create(name, trainer="autograd", **params).fit(train)
    for mine, theirs in zip(
        fused.module_.parameters(), by_autograd.module_.parameters(), strict=True
    ):
        np.testing.assert_allclose(
            mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-6
        )
    np.testing.assert_allclose(fused.loss_history_, by_autograd.loss_history_, rtol=1e-5)


@pytest.mark.parametrize(("kernel", "rtol"), [("plain", 1e-9), ("fast", 1e-6)])
def test_numba_kernels_make_numpy_sgds_updates(kernel: str, rtol: float) -> None:
    """Both compiled loops make the same updates as the numpy loop (float64 here, same order):
    the plain one to the last digits, the fast one (fastmath, its update rewritten) to
    rounding."""
    from baselines.numba_sgd import _compile

    train = tiny_ratings()
    rng = np.random.default_rng(3)
    state, mean = random_state(rng), float(train.rating.mean())
    order = rng.permutation(len(train))
    by_numpy = {key: value.copy() for key, value in state.items()}
    loss = numpy_sgd.sgd_epoch(
        by_numpy["P"], by_numpy["Q"], by_numpy["bu"], by_numpy["bi"], mean, train, order, LR, L2
    )
    by_numba = {key: value.copy() for key, value in state.items()}
    total = _compile()[kernel](
        by_numba["P"],
        by_numba["Q"],
        by_numba["bu"],
        by_numba["bi"],
        mean,
        train.user,
        train.item,
        train.rating,
        order,
        LR,
        L2,
    )
    for key in state:
        np.testing.assert_allclose(by_numba[key], by_numpy[key], rtol=rtol, atol=1e-12)
    if kernel == "fast":  # the squared error alone, as numpy-sgd's loss
        assert total / len(train) == pytest.approx(loss, rel=rtol)
    else:  # the regularised loss, summed as the loop was written: more than the error
        assert total / len(train) > loss


@pytest.mark.parametrize("lr_decay", [1.0, 0.8])
def test_numba_sgd_model_matches_numpy_sgd_model(lr_decay: float) -> None:
    """The same model, initialisation, shuffles and schedule: float32 rounding apart, the same
    fit (serial: one thread)."""
    train = tiny_ratings()
    params = {"factors": 5, "epochs": 3, "seed": 2, "n_threads": 1, "lr_decay": lr_decay}
    by_numpy = models.create("numpy-sgd", **params).fit(train)
    by_numba = models.create("numba-sgd", **params).fit(train)
    np.testing.assert_allclose(by_numba.user_factors_, by_numpy.user_factors_, atol=1e-5)
    np.testing.assert_allclose(by_numba.loss_history_, by_numpy.loss_history_, rtol=1e-5)


def test_als_rows_satisfy_their_normal_equations() -> None:
    rng = np.random.default_rng(1)
    targets = sp.random(30, 20, density=0.3, format="csr", random_state=2)
    targets.data = rng.normal(size=targets.nnz)
    features = rng.normal(size=(20, 5))
    solution = numpy_als.solve_rows(targets, features, l2=0.3)
    for row in range(30):
        cols = targets.indices[targets.indptr[row] : targets.indptr[row + 1]]
        if len(cols) == 0:
            assert not solution[row].any()
            continue
        observed = features[cols]
        lhs = (observed.T @ observed + 0.3 * len(cols) * np.eye(5)) @ solution[row]
        np.testing.assert_allclose(lhs, observed.T @ targets[row].data, rtol=1e-8, atol=1e-10)


def test_fitted_als_items_solve_their_normal_equations() -> None:
    train = tiny_ratings()
    model = models.create("numpy-als", factors=4, epochs=3, l2=0.1).fit(train)
    item = int(np.bincount(train.item).argmax())
    raters = train.item == item
    users = train.user[raters]
    features = np.hstack([model.user_factors_[users], np.ones((len(users), 1))])
    targets = train.rating[raters] - model.global_mean_ - model.user_bias_[users]
    solution = np.append(model.item_factors_[item], model.item_bias_[item])
    lhs = (features.T @ features + 0.1 * len(users) * np.eye(5)) @ solution
    np.testing.assert_allclose(lhs, features.T @ targets, rtol=1e-6, atol=1e-8)


def test_als_objective_never_increases() -> None:
    train = tiny_ratings(seed=4)
    model = models.create("numpy-als", factors=6, epochs=12, l2=0.05).fit(train)
    history = np.array(model.loss_history_)
    assert (np.diff(history) <= 1e-9 * history[:-1]).all(), history
    assert history[-1] < 0.9 * history[0]  # and it does descend


def test_torch_mf_has_the_trainers_defaults_and_torch_biased_mf_numba_sgds() -> None:
    assert models.create("torch-mf").make_trainer() == MinibatchTrainer()
    biased, numba = models.hyperparameters("torch-biased-mf"), models.hyperparameters("numba-sgd")
    shared = ("factors", "epochs", "lr", "l2", "init_std", "lr_decay")
    assert {k: biased[k] for k in shared} == {k: numba[k] for k in shared}
    assert (biased["optimizer"], biased["lr_decay"]) == ("sgd", 1.0)  # plain per-rating SGD


def test_torch_als_solves_numpy_als_systems() -> None:
    """With enough CG steps a half-step is numpy-als's exact solve of the same systems."""
    import torch

    from suite.models.torch import als

    train = tiny_ratings()
    by_user = train.to_csr().astype(np.float64)
    by_user.data -= train.rating.mean(dtype=np.float64)
    rng = np.random.default_rng(7)
    items = rng.normal(0, 0.3, (train.n_items, 5))  # [q, b'] rows, the side held fixed
    exact = numpy_als.solve_rows(
        numpy_als._residuals(by_user, items[:, -1]), numpy_als._as_features(items), 0.05
    )
    side = als._side(by_user, "cpu")
    fixed = torch.from_numpy(items.astype(np.float32))
    by_cg = als.half_step(side, fixed, torch.zeros(train.n_users, 5), 0.05, steps=40)
    np.testing.assert_allclose(by_cg.numpy(), exact, rtol=1e-3, atol=1e-4)


def test_torch_als_with_a_few_cg_steps_never_raises_its_objective() -> None:
    train = tiny_ratings()
    model = models.create("torch-als", factors=4, epochs=8, l2=0.05, cg_steps=2, n_threads=1)
    history = model.fit(train).loss_history_
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in itertools.pairwise(history))
