"""BPR in PyTorch: matrix factorization trained to rank a liked item above a sampled other.

As in ``suite.models.torch.mf``, representation (an ``nn.Module``), loss (plain functions),
sampling and training (``BPRTrainer``) are kept apart, and the trainer takes gradients
either by autograd or by the same gradient written out in PyTorch ops (``trainer="fused"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from suite.data.feedback import positive_threshold, positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter
from suite.models.torch.base import TorchContender
from suite.models.torch.modules import MatrixFactorization
from suite.models.torch.trainers import TRAINERS, _scatter, _scatter_sum

# -- representation ---------------------------------------------------------------------------


class ItemBiasedFactorization(MatrixFactorization):
    """``x̂_ui = p_u · q_i + b_i``: the dot product plus an item bias (a 1-dim embedding).

    The item bias carries what every user shares (how widely an item is liked); a user bias
    would be useless, since it cancels in every difference ``x̂_ui - x̂_uj`` BPR compares.
    """

    def __init__(self, n_users: int, n_items: int, n_factors: int = 20):
        super().__init__(n_users, n_items, n_factors)
        self.item_biases = nn.Embedding(n_items, 1)

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        return super().forward(user, item) + self.item_biases(item).squeeze(-1)

    def score_all(self, user: torch.Tensor) -> torch.Tensor:
        return super().score_all(user) + self.item_biases.weight.T


# -- loss -------------------------------------------------------------------------------------


def bpr_loss(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log σ(x̂_ui - x̂_uj)`` over the triples: the negated BPR-OPT likelihood."""
    return F.softplus(negative - positive).mean()


def per_triple_l2(
    module: ItemBiasedFactorization,
    user: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
) -> torch.Tensor:
    """Mean over the triples of ``‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²``.

    The parameters each triple touches, as in the paper's LearnBPR update (with one λ for
    all of them): rows in many triples are regularised more.
    """
    rows = [
        module.user_factors(user),
        module.item_factors(positive),
        module.item_factors(negative),
        module.item_biases(positive),
        module.item_biases(negative),
    ]
    return sum((row**2).sum(1) for row in rows).mean()


# -- sampling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Positives:
    """The implicit feedback on the device, in the form the sampler needs.

    ``user`` and ``item`` are the training positives (int64), those of users with no item
    left to be a negative (every item liked) left out. ``negative_keys`` are, for user ``u``'s
    ``k``-th positive item ``i`` (items ascending), ``u · n_items + i - k``: non-decreasing,
    and ``i - k`` counts the items below ``i`` that ``u`` did not like. ``row_start[u]`` is
    where ``u``'s keys begin; ``n_negatives[u]`` how many items ``u`` did not like.
    """

    user: torch.Tensor
    item: torch.Tensor
    negative_keys: torch.Tensor
    row_start: torch.Tensor
    n_negatives: torch.Tensor
    n_items: int

    @classmethod
    def from_csr(cls, liked: sp.csr_matrix, device: str) -> Positives:
        """From a users × items CSR matrix of positives (``feedback.positives``)."""
        liked.sort_indices()
        n_users, n_items = liked.shape
        per_user = np.diff(liked.indptr)
        user = np.repeat(np.arange(n_users, dtype=np.int64), per_user)
        item = liked.indices.astype(np.int64)
        rank = np.arange(liked.nnz, dtype=np.int64) - np.repeat(liked.indptr[:-1], per_user)
        keys = user * n_items + item - rank
        n_negatives = (n_items - per_user).astype(np.int64)
        trainable = n_negatives[user] > 0

        def to_device(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64)).to(device)

        return cls(
            to_device(user[trainable]),
            to_device(item[trainable]),
            to_device(keys),
            to_device(liked.indptr[:-1]),
            to_device(n_negatives),
            n_items,
        )

    def __len__(self) -> int:
        return len(self.user)


def sample_negatives(
    data: Positives, user: torch.Tensor, generator: torch.Generator, exclude_positives: bool
) -> torch.Tensor:
    """One item ``j`` per entry of ``user``, uniform over all items or over those not liked.

    With ``exclude_positives``, draw a rank ``r`` uniform in ``[0, n_negatives[u])`` and take
    the ``r``-th item ``u`` did not like: ``j = r + #{k : i_k - k <= r}`` over ``u``'s liked
    items ``i_k`` (a ``searchsorted`` in ``negative_keys``). Exact, in one pass: the same
    distribution as resampling each liked ``j`` until it is not (implicit's
    ``verify_negative_samples``), without the retries.
    """
    device = user.device
    if not exclude_positives:
        return torch.randint(data.n_items, user.shape, generator=generator, device=device)
    count = data.n_negatives[user]
    draw = torch.rand(user.shape, generator=generator, device=device, dtype=torch.float64)
    rank = torch.minimum((draw * count).long(), count - 1)  # rounding never reaches count
    target = user * data.n_items + rank
    liked_below = torch.searchsorted(data.negative_keys, target, right=True) - data.row_start[user]
    return rank + liked_below


# -- trainer ----------------------------------------------------------------------------------

OPTIMIZERS = ("adam", "adagrad", "sgd")


@dataclass
class BPRTrainer:
    """Minibatch BPR: optimizer, batching and the L2 weight; triples are drawn by the caller.

    Two ways to get the gradients of ``bpr_loss + l2 · per_triple_l2``:

    - ``trainer="autograd"``: the loss through the module, ``backward()``, ``step()``;
    - ``trainer="fused"``: the gradient written out in PyTorch ops into preallocated buffers,
      scatter-added into each table's ``.grad``, then the same ``step()`` — no autograd graph.
    """

    # The defaults of ``TorchBPR`` are these (an l2 picked on ML-100K's NDCG@10: too little
    # and the factors overfit the sampled pairs, too much and they shrink to popularity).
    optimizer: str = "adam"
    lr: float = 0.01
    l2: float = 0.01
    batch_size: int = 4096
    trainer: str = "fused"

    def make_optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        """The optimizer, with PyTorch's fused single-kernel step on CPU and CUDA."""
        kinds = {"adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad, "sgd": torch.optim.SGD}
        params = list(module.parameters())
        return kinds[self.optimizer](params, lr=self.lr, fused=True)

    def epoch(
        self,
        module: ItemBiasedFactorization,
        optimizer: torch.optim.Optimizer,
        triples: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    ) -> float:
        """One pass over ``triples`` (users, liked items, negatives) in order; the mean loss."""
        user, positive, negative = triples
        step = self._fused_step if self.trainer == "fused" else self._autograd_step
        work = _Workspace(module, min(self.batch_size, len(user)))
        total = torch.zeros((), device=user.device, dtype=torch.float64)
        for start in range(0, len(user), self.batch_size):
            batch = slice(start, start + self.batch_size)
            total += step(module, optimizer, user[batch], positive[batch], negative[batch], work)
        return float(total) / len(user)

    def _autograd_step(self, module, optimizer, user, positive, negative, _work) -> torch.Tensor:
        loss = bpr_loss(module(user, positive), module(user, negative))
        if self.l2:
            loss = loss + self.l2 * per_triple_l2(module, user, positive, negative)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach() * len(user)

    @torch.no_grad()
    def _fused_step(self, module, optimizer, user, positive, negative, work) -> torch.Tensor:
        """``∂/∂θ`` of ``bpr_loss + l2 · per_triple_l2`` by hand, then ``step()``.

        With ``x = p_u · (q_i - q_j) + b_i - b_j``, ``w = σ(-x)`` and ``s = 1 / batch``: the
        user row gets ``s (-w (q_i - q_j) + 2 l2 p_u)``, the liked item ``s (-w p_u + 2 l2 q_i)``,
        the negative ``s (w p_u + 2 l2 q_j)``, their biases ``s (∓w + 2 l2 b)``, summed over
        the batch by ``index_add_``. Returns the batch's summed loss.
        """
        n, scale, decay = len(user), 1.0 / len(user), 2.0 * self.l2
        users_w, items_w = module.user_factors.weight, module.item_factors.weight
        items = torch.cat((positive, negative), out=work.items[: 2 * n])
        p_u = torch.index_select(users_w, 0, user, out=work.user_rows[:n])
        q = torch.index_select(items_w, 0, items, out=work.item_rows[: 2 * n])
        b = module.item_biases.weight.view(-1).index_select(0, items)
        difference = torch.sub(q[:n], q[n:], out=work.difference[:n])
        x = torch.sum(torch.mul(p_u, difference, out=work.rows[:n]), dim=1, out=work.x[:n])
        x += b[:n] - b[n:]
        loss = F.softplus(-x).sum()
        if self.l2:
            flat_p, flat_q = p_u.reshape(-1), q.reshape(-1)
            loss += self.l2 * (flat_p.dot(flat_p) + flat_q.dot(flat_q) + b.dot(b))
        weight = torch.sigmoid(-x)
        signed = torch.cat((-weight, weight))  # ∂(-log σ(x)) / ∂x̂_ui and / ∂x̂_uj
        user_rows = torch.mul(difference, -weight.unsqueeze(1), out=work.rows[:n])
        item_rows = work.item_grad[: 2 * n]
        torch.mul(p_u, signed[:n].unsqueeze(1), out=item_rows[:n])
        torch.mul(p_u, signed[n:].unsqueeze(1), out=item_rows[n:])
        if self.l2:
            user_rows.add_(p_u, alpha=decay)
            item_rows.add_(q, alpha=decay)
        _scatter(users_w, user, user_rows, alpha=scale)
        _scatter(items_w, items, item_rows, alpha=scale)
        _scatter_sum(module.item_biases.weight, items, signed.add_(b, alpha=decay), scale)
        optimizer.step()
        return loss


class _Workspace:
    """Per-batch buffers of the fused trainer, allocated once per epoch."""

    def __init__(self, module: ItemBiasedFactorization, batch_size: int) -> None:
        weight = module.user_factors.weight
        rows, pairs = (batch_size, weight.shape[1]), (2 * batch_size, weight.shape[1])
        self.user_rows = weight.new_empty(rows)
        self.item_rows = weight.new_empty(pairs)
        self.item_grad = weight.new_empty(pairs)
        self.difference = weight.new_empty(rows)
        self.rows = weight.new_empty(rows)
        self.x = weight.new_empty(batch_size)
        self.items = torch.empty(2 * batch_size, dtype=torch.int64, device=weight.device)


# -- the contender ----------------------------------------------------------------------------


class TorchBPR(TorchContender):
    """Bayesian Personalized Ranking in PyTorch (``torch-bpr``), a ranking model.

    BPR-OPT of Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized
    Ranking from Implicit Feedback" (UAI 2009), for matrix factorization: minimise, over
    triples ``(u, i, j)`` of a user, an item ``u`` liked and a sampled item, the mean of
    ``-log σ(x̂_ui - x̂_uj)`` plus ``l2`` times the squared norms of the parameters the
    triple touches (``per_triple_l2``), by minibatches. The score is
    ``x̂_ui = p_u · q_i + b_i``: factors plus an item bias (``ItemBiasedFactorization``, as
    in LightFM and implicit's BPR); higher ranks first. It predicts no ratings.

    What ``u`` liked is ``suite.data.feedback.positives`` (ratings at least the data set's
    threshold). An epoch visits every positive ``(u, i)`` once, in a fresh shuffled order
    (the paper draws them with replacement; a permutation has less variance), each with one
    negative ``j`` drawn uniformly: among the items ``u`` did not like (default, the paper's
    ``D_S``; an item rated below the threshold counts as not liked), or among all items
    (``exclude_positives=False``, cheaper, as implicit without ``verify_negative_samples``).
    Users who liked every item have no triple and are skipped. Users without a positive are
    never trained: their scores are those of their initial factors.

    Parameters
    ----------
    factors : int
        Latent dimension.
    epochs : int
        Passes over the positives (as many triples each).
    lr : float
        Learning rate of the optimizer.
    optimizer : {"adam", "adagrad", "sgd"}
        PyTorch optimizer (``"sgd"`` with ``batch_size=1`` is the paper's LearnBPR).
    l2 : float
        Weight λ of the per-triple L2 penalty on ``p_u``, ``q_i``, ``q_j``, ``b_i``, ``b_j``.
    batch_size : int
        Triples per optimizer step; the loss is their mean.
    exclude_positives : bool
        Draw negatives among the items the user did not like (exactly, see
        ``sample_negatives``) rather than among all items.
    trainer : {"fused", "autograd"}
        How gradients are taken (see ``BPRTrainer``): the same updates either way.
    init_std : float
        Standard deviation of the normal initialisation of the factors (biases start at 0).
    backend : {"cpu", "cuda"}
        Device.
    n_threads : int, optional
        CPU threads (torch intra-op).
    seed : int
        Seeds initialisation, shuffling and negative sampling (``torch.Generator``s; no global
        RNG). On CUDA, scatter-adds may make runs differ in the last bits.
    """

    name = "torch-bpr"
    contests = (Contest.RANKING,)
    backends = ("cpu", "cuda")
    speedup_baseline = True  # the ranking contest's throughput ratios are against it
    same_model_as = "implicit-bpr"  # the same BPR model and sampler, in Cython
    hyperparameter_specs: ClassVar = {
        "optimizer": Hyperparameter(str, choices=OPTIMIZERS),
        "batch_size": Hyperparameter(int, low=1),
        "exclude_positives": Hyperparameter(bool),
        "trainer": Hyperparameter(str, choices=TRAINERS),
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
        exclude_positives: bool = True,
        trainer: str = BPRTrainer.trainer,
        init_std: float = 0.1,
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
        self.exclude_positives = exclude_positives
        self.trainer = trainer
        self.init_std = init_std
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def make_trainer(self) -> BPRTrainer:
        """The trainer these hyperparameters describe."""
        return BPRTrainer(self.optimizer, self.lr, self.l2, self.batch_size, self.trainer)

    def _prepare(self, train: Ratings) -> Positives:
        return Positives.from_csr(positives(train), self.backend)

    def warm_up(self) -> None:
        """Create the device context and run one fused training step on a tiny model."""
        module = ItemBiasedFactorization(4, 4, 2).to(self.backend)
        trainer = BPRTrainer(batch_size=4)
        index = torch.arange(4, device=self.backend)
        trainer.epoch(module, trainer.make_optimizer(module), (index, index, index.flip(0)))

    def _init_module(self, train: Ratings) -> ItemBiasedFactorization:
        """The module on the device: factors ~ N(0, init_std²), item biases 0, seeded."""
        generator = torch.Generator().manual_seed(self.seed)
        module = ItemBiasedFactorization(train.n_users, train.n_items, self.factors)
        with torch.no_grad():
            for embedding in (module.user_factors, module.item_factors):
                embedding.weight.normal_(0.0, self.init_std, generator=generator)
            module.item_biases.weight.zero_()
        return module.to(self.backend)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        data = self._inputs(train)
        if not len(data):
            raise InputError(
                f"{self.name}: nothing to learn: no rating >= {positive_threshold(train):g} "
                "by a user with an item left unliked"
            )
        self.module_ = self._init_module(train)
        trainer = self.make_trainer()
        optimizer = trainer.make_optimizer(self.module_)
        generator = torch.Generator(device=self.backend).manual_seed(self.seed + 1)
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            order = torch.randperm(len(data), generator=generator, device=self.backend)
            user = data.user[order]
            negative = sample_negatives(data, user, generator, self.exclude_positives)
            loss = trainer.epoch(self.module_, optimizer, (user, data.item[order], negative))
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(data), on_epoch)

    @torch.no_grad()
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.module_.score_all(torch.from_numpy(users).to(self.backend))
        return scores.float().cpu().numpy()

    def _state_arrays(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy() for p in self.module_.parameters()]
