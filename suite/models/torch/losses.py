"""The PyTorch MF losses: plain functions of a batch's predictions, ratings and rows."""

from __future__ import annotations

import torch
from torch import nn

from suite.models.torch.modules import BiasedMatrixFactorization


def mse(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
    """Mean squared error, the post's ``nn.MSELoss()``."""
    return torch.mean((predicted - actual) ** 2)


def squared_error(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
    """Summed squared error of a batch: the loss ``MinibatchTrainer`` minimises."""
    return torch.sum((predicted - actual) ** 2)


def per_example_l2(module: nn.Module, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of the squared norms of the parameters each example touches.

    ``squared_error + l2 * per_example_l2`` is, example by example, the loss of classic SGD
    matrix factorization (Funk 2006; Koren et al. 2009):
    ``(r - r̂)² + λ(‖p_u‖² + ‖q_i‖² + b_u² + b_i²)``. Unlike ``weight_decay``, it shrinks only
    the rows in the batch, so frequent users and items are regularised more — the objective
    that ``numpy-sgd`` and ``numpy-als`` share.
    """
    rows = [module.user_factors(user), module.item_factors(item)]
    if isinstance(module, BiasedMatrixFactorization):
        rows += [module.user_biases(user), module.item_biases(item)]
    return sum((row**2).sum() for row in rows)
