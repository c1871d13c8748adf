"""LightFM's hybrid model in PyTorch: users and items as sums of feature embeddings, BPR-trained.

The representation (``FeatureSumFactorization``, an ``nn.Module`` of two embedding tables),
the loss (``bpr_loss`` and ``per_feature_l2``), the feature sums (``FeatureRows``) and the
trainer (``HybridTrainer``) are kept apart, as in ``suite.models.torch.bpr``, whose positives,
negative sampling, loss and optimizers they reuse.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from suite.data.features import side_matrix
from suite.data.feedback import positive_threshold, positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter
from suite.models.torch.base import TorchContender
from suite.models.torch.bpr import OPTIMIZERS, BPRTrainer, Positives, bpr_loss, sample_negatives

# -- the input: one feature matrix per side ---------------------------------------------------


@dataclass(frozen=True)
class FeatureRows:
    """A CSR feature matrix on the device, and the weighted sums of table rows it describes.

    ``sums(table, rows)`` is ``(X @ table)[rows]`` for the feature matrix ``X``, computed one
    of two ways, whichever touches fewer feature entries:

    - ``nn.functional.embedding_bag(mode="sum")`` with ``per_sample_weights`` over the
      entries of ``rows`` alone (cost: the requested rows' entries), when the side has more
      rows than are requested (a large catalogue, a small batch);
    - ``torch.sparse.mm`` of the whole CSR matrix with the table, then the rows (cost: every
      entry, once), when it has no more rows than are requested — then a batch repeats rows
      and the product is cheaper: the bag's backward scatters every one of the batch's
      entries, the product's touches each entry once.
    """

    indptr: torch.Tensor
    indices: torch.Tensor
    weights: torch.Tensor
    matrix: torch.Tensor  # the same entries, a sparse CSR tensor
    n_columns: int

    @classmethod
    def from_csr(cls, matrix: sp.csr_matrix, device: str) -> FeatureRows:
        """From a rows × features CSR matrix (``side_matrix``)."""
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        matrix.sort_indices()
        indptr = torch.from_numpy(matrix.indptr.astype(np.int64)).to(device)
        indices = torch.from_numpy(matrix.indices.astype(np.int64)).to(device)
        weights = torch.from_numpy(matrix.data).to(device)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            tensor = torch.sparse_csr_tensor(
                indptr, indices, weights, size=matrix.shape, check_invariants=False
            )
        return cls(indptr, indices, weights, tensor, matrix.shape[1])

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def sums(self, table: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """``Σ_f x_rf table[f]`` for each of ``rows`` (all rows when None), in order."""
        if rows is None:
            return torch.sparse.mm(self.matrix, table)
        if self.n_rows <= len(rows):
            return torch.sparse.mm(self.matrix, table)[rows]
        indices, offsets, weights = self.bags(rows)
        return F.embedding_bag(indices, table, offsets, mode="sum", per_sample_weights=weights)

    def bags(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(indices, offsets, per_sample_weights)`` of ``rows`` for ``embedding_bag``.

        Row ``r``'s entries are ``indptr[r]`` to ``indptr[r + 1]``; a row may repeat.
        """
        start = self.indptr[rows]
        length = self.indptr[rows + 1] - start
        offsets = torch.cumsum(length, 0) - length
        total = int(length.sum())
        first = torch.repeat_interleave(start - offsets, length, output_size=total)
        position = first + torch.arange(total, device=rows.device)
        return self.indices[position], offsets, self.weights[position]


# -- representation ---------------------------------------------------------------------------


class FeatureSumFactorization(nn.Module):
    """``x̂_ui = (Σ_f x_uf e_f) · (Σ_g x_ig e_g) + Σ_g x_ig b_g``: LightFM's hybrid score.

    A user (an item) is the weighted sum of its features' embeddings, its bias likewise
    (``FeatureRows.sums``). The item table has ``n_factors + 1`` columns, the last being
    the item features' biases, so that one sum gives an item's factors and bias; a user
    bias would cancel in every BPR difference and is left out (LightFM learns one, which
    changes no ranking).
    """

    def __init__(self, n_user_features: int, n_item_features: int, n_factors: int = 20):
        super().__init__()
        self.n_factors = n_factors
        self.user_embeddings = nn.Parameter(torch.zeros(n_user_features, n_factors))
        self.item_embeddings = nn.Parameter(torch.zeros(n_item_features, n_factors + 1))

    def forward(
        self,
        sides: tuple[FeatureRows, FeatureRows],
        user: torch.Tensor | None,
        item: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Representations of ``user`` rows and ``item`` rows (their bias in a last column)."""
        user_rows, item_rows = sides
        return user_rows.sums(self.user_embeddings, user), item_rows.sums(
            self.item_embeddings, item
        )

    @staticmethod
    def score(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``x̂`` of paired rows of representations."""
        return (users * items[:, :-1]).sum(1) + items[:, -1]

    @staticmethod
    def score_all(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """``len(users) × len(items)`` scores of representations."""
        return users @ items[:, :-1].T + items[:, -1]


# -- loss -------------------------------------------------------------------------------------


def per_feature_l2(table: torch.Tensor, side: FeatureRows, rows: torch.Tensor) -> torch.Tensor:
    """``Σ x_f ‖e_f‖²`` over ``rows`` and their features: the embedding rows a batch touches.

    With identity features alone this is ``bpr.per_triple_l2``'s sum for those rows.
    """
    return side.sums(table.pow(2).sum(1, keepdim=True), rows).sum()


# -- trainer ----------------------------------------------------------------------------------


@dataclass
class HybridTrainer:
    """Minibatch BPR by autograd on feature sums: optimizer, batching and the L2 weight.

    The loss of a batch of ``n`` triples is ``bpr_loss`` plus ``l2 / n`` times the
    ``per_feature_l2`` of every embedding row its user, liked and negative items touch.
    """

    optimizer: str = BPRTrainer.optimizer
    lr: float = BPRTrainer.lr
    l2: float = BPRTrainer.l2
    batch_size: int = BPRTrainer.batch_size

    def make_optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        """torch-bpr's optimizer (PyTorch's fused step)."""
        return BPRTrainer(self.optimizer, self.lr).make_optimizer(module)

    def epoch(
        self,
        module: FeatureSumFactorization,
        optimizer: torch.optim.Optimizer,
        sides: tuple[FeatureRows, FeatureRows],
        triples: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> float:
        """One pass over ``triples`` (user codes, liked and negative item codes); mean loss."""
        user, positive, negative = triples
        total = torch.zeros((), device=user.device, dtype=torch.float64)
        for start in range(0, len(user), self.batch_size):
            batch = slice(start, start + self.batch_size)
            loss = self.loss(module, sides, user[batch], positive[batch], negative[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(user[batch])
        return float(total) / len(user)

    def loss(
        self,
        module: FeatureSumFactorization,
        sides: tuple[FeatureRows, FeatureRows],
        user: torch.Tensor,
        positive: torch.Tensor,
        negative: torch.Tensor,
    ) -> torch.Tensor:
        """The batch's loss, a graph to ``backward()``."""
        user_rows, item_rows = sides
        item = torch.cat((positive, negative))
        users, items = module(sides, user, item)
        n = len(user)
        loss = bpr_loss(module.score(users, items[:n]), module.score(users, items[n:]))
        if self.l2:
            touched = per_feature_l2(module.user_embeddings, user_rows, user)
            touched = touched + per_feature_l2(module.item_embeddings, item_rows, item)
            loss = loss + self.l2 * touched / n
        return loss


# -- the contender ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HybridInputs:
    """What ``TorchHybrid`` trains on: the positives and both sides' feature rows."""

    positives: Positives
    users: FeatureRows
    items: FeatureRows


class TorchHybrid(TorchContender):
    """LightFM's hybrid model in PyTorch, trained with BPR (``torch-hybrid``), a ranking model.

    The model of Kula, "Metadata Embeddings for User and Item Cold-start Recommendations"
    (CBRecSys 2015): a user's representation is the sum of the embeddings of its features
    (weighted by their values), an item's too, and an item's bias is the sum of its features'
    biases; ``x̂_ui`` is the dot product of the two representations plus the item's bias
    (``FeatureSumFactorization``). Features are ``train.user_features`` and
    ``train.item_features`` with one identity column per user (item) added first when
    ``identity`` (``side_matrix``: LightFM's convention, rows not normalised); a side without
    features is the identity alone, so with no features at all this is ``torch-bpr``'s
    model. An item with no training rating still has a representation from its features:
    the model can score it (cold start) where pure collaborative filtering cannot.

    It is trained as ``torch-bpr`` is (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR:
    Bayesian Personalized Ranking from Implicit Feedback", UAI 2009): the same positives
    (``suite.data.feedback.positives``), one negative per positive and epoch drawn among the
    items the user did not like, minibatches of the mean ``-log σ(x̂_ui - x̂_uj)``, plus
    ``l2`` times, per triple, ``Σ x_f ‖e_f‖²`` over the feature embeddings (bias included)
    its user and items touch (``per_feature_l2``). Gradients are autograd's.

    A side's sums are a sparse-dense product of its whole feature matrix with the table
    when the batch asks for at least as many rows as the side has, else an
    ``embedding_bag`` over the rows asked for (``FeatureRows``, with the timings behind it).

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        Passes over the positives.
    lr : float
        Learning rate of the optimizer.
    optimizer : {"adam", "adagrad", "sgd"}
        PyTorch optimizer.
    l2 : float
        Weight λ of the per-triple L2 penalty on the feature embeddings touched.
    batch_size : int
        Triples per optimizer step.
    init_std : float
        Standard deviation of the normal initialisation of every feature embedding (biases
        start at 0): drawn for the user table, then the item table, so that with identity
        features alone the model starts where ``torch-bpr`` with the same seed does.
    identity : bool
        Add one identity feature per user and per item (LightFM's default). Without it users
        (items) with the same features are one and the same, and a side without features is
        one constant feature.
    backend : {"cpu", "cuda"}
        Device.
    n_threads : int, optional
        CPU threads (torch intra-op).
    seed : int
        Seeds initialisation, shuffling and negative sampling (``torch.Generator``s).
    """

    name = "torch-hybrid"
    contests = (Contest.RANKING,)
    backends = ("cpu", "cuda")
    uses_features = True
    same_model_as = "lightfm-bpr-hybrid"  # the same model and loss, trained by LightFM
    hyperparameter_specs: ClassVar = {
        "optimizer": Hyperparameter(str, choices=OPTIMIZERS),
        "batch_size": Hyperparameter(int, low=1),
        "identity": Hyperparameter(bool),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 30,
        lr: float = BPRTrainer.lr,
        optimizer: str = BPRTrainer.optimizer,
        l2: float = BPRTrainer.l2,
        batch_size: int = BPRTrainer.batch_size,
        init_std: float = 0.1,
        identity: bool = True,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.l2 = l2
        self.batch_size = batch_size
        self.init_std = init_std
        self.identity = identity
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def make_trainer(self) -> HybridTrainer:
        """The trainer these hyperparameters describe."""
        return HybridTrainer(self.optimizer, self.lr, self.l2, self.batch_size)

    def _prepare(self, train: Ratings) -> HybridInputs:
        user_matrix = side_matrix(train.user_features, train.n_users, self.identity)
        item_matrix = side_matrix(train.item_features, train.n_items, self.identity)
        return HybridInputs(
            Positives.from_csr(positives(train), self.backend),
            FeatureRows.from_csr(user_matrix, self.backend),
            FeatureRows.from_csr(item_matrix, self.backend),
        )

    def warm_up(self) -> None:
        """Create the device context and run one training step on a tiny model."""
        rows = FeatureRows.from_csr(sp.identity(4, dtype=np.float32, format="csr"), self.backend)
        module = FeatureSumFactorization(4, 4, 2).to(self.backend)
        trainer = HybridTrainer(batch_size=4)
        index = torch.arange(4, device=self.backend)
        triples = (index, index, index.flip(0))
        trainer.epoch(module, trainer.make_optimizer(module), (rows, rows), triples)

    def _init_module(self, inputs: HybridInputs) -> FeatureSumFactorization:
        """The module on the device: embeddings ~ N(0, init_std²), biases 0, seeded."""
        generator = torch.Generator().manual_seed(self.seed)
        users, items = inputs.users.n_columns, inputs.items.n_columns
        module = FeatureSumFactorization(users, items, self.factors)
        with torch.no_grad():
            module.user_embeddings.normal_(0.0, self.init_std, generator=generator)
            drawn = torch.empty(items, self.factors).normal_(
                0.0, self.init_std, generator=generator
            )
            module.item_embeddings[:, :-1] = drawn
        return module.to(self.backend)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        inputs = self._inputs(train)
        data = inputs.positives
        if not len(data):
            raise InputError(
                f"{self.name}: nothing to learn: no rating >= {positive_threshold(train):g} "
                "by a user with an item left unliked"
            )
        self.module_ = self._init_module(inputs)
        self.sides_ = (inputs.users, inputs.items)
        trainer = self.make_trainer()
        optimizer = trainer.make_optimizer(self.module_)
        generator = torch.Generator(device=self.backend).manual_seed(self.seed + 1)
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            order = torch.randperm(len(data), generator=generator, device=self.backend)
            user = data.user[order]
            negative = sample_negatives(data, user, generator, exclude_positives=True)
            triples = (user, data.item[order], negative)
            loss = trainer.epoch(self.module_, optimizer, self.sides_, triples)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(data), on_epoch)

    def snapshot(self) -> dict[str, Any]:
        """As ``Model.snapshot``, the side-feature matrices shared, not copied: they are the
        fit's inputs, never changed by it, and a sparse CSR tensor cannot be deep-copied."""
        sides, self.sides_ = self.sides_, None
        try:
            state = super().snapshot()
        finally:
            self.sides_ = sides
        return {**state, "sides_": sides}

    @torch.no_grad()
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        rows = torch.from_numpy(users).to(self.backend)
        represented, items = self.module_(self.sides_, rows, None)
        scores = self.module_.score_all(represented, items)
        return scores.float().cpu().numpy()

    def _state_arrays(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy() for p in self.module_.parameters()]
