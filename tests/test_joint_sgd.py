"""The fused trainer's plain-SGD epoch on one joint table makes autograd's updates exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from model_helpers import tiny_ratings

from suite.models.torch import joint_sgd
from suite.models.torch.modules import BiasedMatrixFactorization, MatrixFactorization
from suite.models.torch.trainers import MinibatchTrainer
from suite.threads import fewer_threads

LR, L2 = 0.03, 0.07


def seeded_module(module_class: type[MatrixFactorization], n_users: int, n_items: int):
    """A float64 module with random factors and biases (biases far from 0, so they count)."""
    torch.manual_seed(3)
    module = module_class(n_users, n_items, 5).double()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, 0.4)
        if isinstance(module, BiasedMatrixFactorization):
            module.global_bias.fill_(3.4)
    return module


@pytest.mark.parametrize("module_class", [MatrixFactorization, BiasedMatrixFactorization])
@pytest.mark.parametrize("batch_size", [1, 7, 64, 500])
def test_joint_epoch_equals_autograds_minibatch_epoch(module_class, batch_size) -> None:
    """Same parameters and loss as backward() + SGD on the per-example loss, to rounding,
    with a last batch shorter than the others (500 ratings, batches of 7 and 64) and without."""
    train = tiny_ratings()
    users, items, ratings = train.to_torch()
    data = (users, items, ratings.double())
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(train)))
    joint = seeded_module(module_class, train.n_users, train.n_items)
    by_autograd = copy.deepcopy(joint)

    loss = joint_sgd.sgd_epoch(joint, LR, L2, data, order, batch_size)
    trainer = MinibatchTrainer("sgd", LR, 0.0, L2, batch_size, trainer="autograd")
    expected = trainer.epoch(by_autograd, trainer.make_optimizer(by_autograd, False), data, order)

    assert loss == pytest.approx(expected, rel=1e-12)
    for mine, theirs in zip(joint.parameters(), by_autograd.parameters(), strict=True):
        np.testing.assert_allclose(mine.detach(), theirs.detach(), rtol=1e-11, atol=1e-13)
    if module_class is BiasedMatrixFactorization:
        assert float(joint.global_bias) == 3.4  # fixed, as in the other trainers


def test_the_joint_table_holds_the_module_and_gives_it_back() -> None:
    module = seeded_module(BiasedMatrixFactorization, 6, 4)
    table = joint_sgd.JointTable(module)
    k = table.factors
    users, items = table.rows[:6], table.rows[6:]
    # r̂ - μ is a row dot product: [p, b_u, 1] · [q, 1, b_i] = p · q + b_u + b_i
    user, item = torch.tensor([0, 5, 2]), torch.tensor([3, 1, 1])
    np.testing.assert_allclose(
        (users[user] * items[item]).sum(1) + table.offset, module(user, item).detach()
    )
    assert torch.all(users[:, k + 1] == 1) and torch.all(items[:, k] == 1)

    fresh = BiasedMatrixFactorization(6, 4, k).double()
    table.write_back(fresh)
    for mine, theirs in zip(fresh.parameters(), module.parameters(), strict=True):
        assert torch.equal(mine, theirs)


def test_small_steps_run_on_one_thread_and_the_runs_threads_come_back(monkeypatch) -> None:
    train = tiny_ratings()
    users, items, ratings = train.to_torch()
    module = seeded_module(BiasedMatrixFactorization, train.n_users, train.n_items).float()
    seen = []
    real_steps = joint_sgd._steps
    monkeypatch.setattr(
        joint_sgd, "_steps", lambda *a: seen.append(torch.get_num_threads()) or real_steps(*a)
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        order = torch.arange(len(train))
        joint_sgd.sgd_epoch(module, LR, L2, (users, items, ratings), order, 64)
        assert torch.get_num_threads() == 2
        monkeypatch.setattr(joint_sgd, "SINGLE_THREAD_BELOW", 0)
        joint_sgd.sgd_epoch(module, LR, L2, (users, items, ratings), order, 64)
    finally:
        torch.set_num_threads(before)
    assert seen == [1, 2]


def test_fewer_threads_never_raises_the_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with fewer_threads(4):
            assert torch.get_num_threads() == 1
        with fewer_threads(None):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
