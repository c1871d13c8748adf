"""torch-bpr: the fused gradient is autograd's, and negatives are drawn as documented."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from model_helpers import tiny_ratings

from suite import models
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.torch.bpr import (
    BPRTrainer,
    ItemBiasedFactorization,
    Positives,
    _Workspace,
    sample_negatives,
)

N_USERS, N_ITEMS, K, BATCH = 23, 17, 5, 64


def random_module(seed: int) -> ItemBiasedFactorization:
    """A module whose parameters (biases too) are all random."""
    module = ItemBiasedFactorization(N_USERS, N_ITEMS, K)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, 0.7, generator=generator)
    return module


def gradients_of_one_step(
    trainer: str, seed: int, l2: float
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """``.grad`` of every parameter after one step on a random batch (repeats included)."""
    module = random_module(seed)
    generator = torch.Generator().manual_seed(seed + 100)
    user = torch.randint(N_USERS, (BATCH,), generator=generator)
    positive, negative = torch.randint(N_ITEMS, (2, BATCH), generator=generator)
    bpr = BPRTrainer(l2=l2, batch_size=BATCH, trainer=trainer)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.0)  # keeps the parameters
    step = bpr._fused_step if trainer == "fused" else bpr._autograd_step
    loss = step(module, optimizer, user, positive, negative, _Workspace(module, BATCH))
    return [parameter.grad.clone() for parameter in module.parameters()], loss


@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("seed", range(5))
def test_fused_gradient_equals_autograd(seed: int, l2: float) -> None:
    fused, fused_loss = gradients_of_one_step("fused", seed, l2)
    autograd, autograd_loss = gradients_of_one_step("autograd", seed, l2)
    for mine, theirs in zip(fused, autograd, strict=True):
        assert theirs.abs().max() > 0
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert float(fused_loss) == pytest.approx(float(autograd_loss), rel=1e-5)


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "sgd"])
def test_one_epoch_of_both_trainers_gives_the_same_parameters(optimizer: str) -> None:
    train = tiny_ratings()
    params = {"factors": 6, "epochs": 1, "batch_size": 32, "optimizer": optimizer, "lr": 0.05}
    fused = models.create("torch-bpr", trainer="fused", n_threads=1, **params).fit(train)
    by_autograd = models.create("torch-bpr", trainer="autograd", n_threads=1, **params).fit(train)
    initial = models.create("torch-bpr", n_threads=1, **params)._init_module(train)
    for mine, theirs, before in zip(
        fused.module_.parameters(),
        by_autograd.module_.parameters(),
        initial.parameters(),
        strict=True,
    ):
        np.testing.assert_allclose(
            mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6
        )
        assert not torch.equal(mine, before)  # the epoch did move every table
    np.testing.assert_allclose(fused.loss_history_, by_autograd.loss_history_, rtol=1e-6)


def liked_matrix() -> sp.csr_matrix:
    """12 users × 9 items of positives: user 4 liked everything, user 7 nothing."""
    liked = (np.random.default_rng(0).random((12, 9)) < 0.4).astype(np.float32)
    liked[4], liked[7] = 1.0, 0.0
    return sp.csr_matrix(liked)


def test_negatives_are_uniform_over_the_items_a_user_did_not_like() -> None:
    liked = liked_matrix()
    data = Positives.from_csr(liked, "cpu")
    assert 4 not in data.user.tolist()  # no item left to rank below the liked ones
    assert len(data) == liked.nnz - 9
    draws = 4000
    user = torch.tensor([0, 1, 2, 3, 5, 6]).repeat_interleave(draws)
    negative = sample_negatives(data, user, torch.Generator().manual_seed(0), True)
    dense = liked.toarray() > 0
    assert not dense[user.numpy(), negative.numpy()].any()
    for u in (0, 1, 2, 3, 5, 6):
        counts = np.bincount(negative[user == u].numpy(), minlength=9)[~dense[u]]
        expected = draws / len(counts)
        assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected)), (u, counts)


def test_negatives_over_all_items_may_be_liked() -> None:
    data = Positives.from_csr(liked_matrix(), "cpu")
    user = torch.full((2000,), 4)
    negative = sample_negatives(data, user, torch.Generator().manual_seed(0), False)
    assert set(negative.tolist()) == set(range(9))


def test_nothing_liked_fails_clearly() -> None:
    train = Ratings(np.array([0, 1]), np.array([1, 0]), np.array([2.0, 3.0], dtype=np.float32))
    with pytest.raises(InputError, match="torch-bpr: nothing to learn: no rating >= 4"):
        models.create("torch-bpr").fit(train)


def test_scores_are_factors_plus_item_bias() -> None:
    train = tiny_ratings()
    model = models.create("torch-bpr", factors=3, epochs=2, n_threads=1).fit(train)
    weights = [p.detach().numpy() for p in model.module_.parameters()]
    user_factors, item_factors, item_bias = weights
    expected = user_factors[:5] @ item_factors.T + item_bias[:, 0]
    scores = model.score_items(np.arange(5))
    seen = np.isfinite(scores)
    np.testing.assert_allclose(scores[seen], expected[seen], rtol=1e-6)


def test_the_trainer_and_the_model_share_their_defaults() -> None:
    assert models.create("torch-bpr").make_trainer() == BPRTrainer()
