"""The seed post's ``nn.Module``s: MF and biased MF as embedding layers with a ``forward``."""

from __future__ import annotations

import torch
from torch import nn


class MatrixFactorization(nn.Module):
    """The post's model: a rating is the dot product of a user and an item embedding."""

    def __init__(self, n_users: int, n_items: int, n_factors: int = 20, sparse: bool = False):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors, sparse=sparse)
        self.item_factors = nn.Embedding(n_items, n_factors, sparse=sparse)

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        return (self.user_factors(user) * self.item_factors(item)).sum(1)

    def score_all(self, user: torch.Tensor) -> torch.Tensor:
        """Predicted rating of every item for each user: ``len(user) × n_items``."""
        return self.user_factors(user) @ self.item_factors.weight.T


class BiasedMatrixFactorization(MatrixFactorization):
    """The post's biased model: dot product plus user and item biases (1-dim embeddings).

    Two changes from the post, both needed for a correct model: the biases are squeezed to
    shape ``(batch,)`` (the post adds ``(batch, 1)`` to ``(batch,)``, which broadcasts to a
    ``batch × batch`` matrix), and a fixed global offset (the training mean, a buffer, not
    learned) is added, as in Koren, Bell & Volinsky (2009), so the factors model deviations.
    """

    def __init__(self, n_users: int, n_items: int, n_factors: int = 20, sparse: bool = False):
        super().__init__(n_users, n_items, n_factors, sparse)
        self.user_biases = nn.Embedding(n_users, 1, sparse=sparse)
        self.item_biases = nn.Embedding(n_items, 1, sparse=sparse)
        self.register_buffer("global_bias", torch.zeros(()))

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        biases = self.user_biases(user).squeeze(-1) + self.item_biases(item).squeeze(-1)
        return self.global_bias + biases + super().forward(user, item)

    def score_all(self, user: torch.Tensor) -> torch.Tensor:
        user_part = self.global_bias + self.user_biases(user)  # (batch, 1)
        return user_part + super().score_all(user) + self.item_biases.weight.T
