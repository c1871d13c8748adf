"""The PyTorch models under study: the seed post's MF and biased MF, and its training loop.

Representation (``nn.Module``s of embedding layers), loss (plain functions) and training
(``MinibatchTrainer``: optimizer, device, batching) are kept apart, so swapping the optimizer
or adding weight decay is one argument — as the post promises. The trainer takes gradients
either by autograd (the post's way) or by the same gradient written out in PyTorch ops
(``trainer="fused"``, the default: identical updates, less overhead per batch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement
from suite.models.joint_sgd import sgd_epoch

# -- representation ---------------------------------------------------------------------------


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


# -- loss -------------------------------------------------------------------------------------


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


# -- trainer ----------------------------------------------------------------------------------

OPTIMIZERS = ("sgd", "adagrad", "adam", "sparse_adam")
TRAINERS = ("autograd", "fused")

#: ``batch_size=None`` ("auto") aims at this many optimizer steps per epoch, within
#: ``AUTO_BATCH_RANGE``: see ``auto_batch_size``.
AUTO_STEPS_PER_EPOCH = 32
AUTO_BATCH_RANGE = (64, 8192)


def auto_batch_size(n_examples: int) -> int:
    """The batch of ``batch_size=None``: ``ceil(n_examples / 32)``, clipped to ``[64, 8192]``.

    A fixed batch ties the number of optimizer steps to the size of the data: a batch sized
    for a large set leaves a small one a step or two an epoch, too few to move factors that
    start near 0 to the rating scale. A batch that is a fixed share of the data makes every
    epoch the same number of steps at every size, so that ``lr``, ``lr_decay`` and
    ``epochs`` describe the same optimisation (``tests/test_defaults_at_scale.py`` holds the
    defaults to it on planted sets of several sizes). More steps an epoch cost time per step
    and gained little beyond ``AUTO_STEPS_PER_EPOCH``; the floor keeps tiny sets from steps
    of a handful of ratings, the ceiling keeps large sets' throughput.

    Parameters
    ----------
    n_examples : int
        Training examples an epoch visits (ratings).
    """
    low, high = AUTO_BATCH_RANGE
    return min(max(-(-n_examples // AUTO_STEPS_PER_EPOCH), low), high)


@dataclass
class MinibatchTrainer:
    """Shuffled minibatch training: the optimizer, batching and loss weights.

    The loss of a batch is the *sum* over its examples of ``(r̂ - r)² + l2 · ‖θ_example‖²``
    (``squared_error + l2 · per_example_l2``), not their mean, so that ``lr`` means the same
    step per rating whatever the batch: with ``optimizer="sgd"`` it is the step size of
    per-sample SGD (Funk 2006), which ``batch_size=1`` reproduces exactly, and larger batches
    apply the same per-rating steps together (Hogwild-style). Adam and Adagrad normalise the
    gradient's scale away, so for them the sum and the mean differ only through ``eps``.
    ``weight_decay`` is the optimizer's (the post's way of adding L2). Data stay on the device;
    each epoch draws one permutation. ``batch_size=None`` sizes the batches from the data
    (``auto_batch_size``); an int is used as given.

    Two ways to get the gradients of the same loss:

    - ``trainer="autograd"``: loss → ``backward()`` → ``step()``, the post's way, for any
      module and loss;
    - ``trainer="fused"``: the gradient of that loss for (biased) MF written out in PyTorch
      ops — gather the batch's rows, residuals, per-row gradients, scatter-add them into
      each table's ``.grad`` and ``step()`` — with preallocated buffers and no autograd
      graph. Plain SGD (no momentum, no weight decay) skips the dense ``.grad`` and the
      optimizer: ``joint_sgd.sgd_epoch`` adds each step straight into the touched rows of
      one table that holds users' and items' rows and biases, the same update in fewer ops.
    """

    # ``TorchMF``'s defaults (the batch keeps the number of steps per epoch at every size).
    # ``TorchBiasedMF`` has numba-sgd's plain SGD.
    optimizer: str = "adam"
    lr: float = 0.02
    weight_decay: float = 0.0
    l2: float = 0.1
    batch_size: int | None = None
    trainer: str = "fused"

    def batch_for(self, n_examples: int) -> int:
        """The batch size an epoch over ``n_examples`` uses: ``batch_size``, or the auto one."""
        return auto_batch_size(n_examples) if self.batch_size is None else self.batch_size

    def make_optimizer(self, module: nn.Module, sparse: bool) -> torch.optim.Optimizer:
        """The optimizer; dense gradients on CPU/CUDA get PyTorch's fused single-kernel step."""
        params = list(module.parameters())
        options = {"lr": self.lr}
        if self.optimizer != "sparse_adam":
            options["weight_decay"] = self.weight_decay
            if not sparse and params[0].device.type in ("cpu", "cuda"):
                options["fused"] = True
        kinds = {
            "sgd": torch.optim.SGD,
            "adagrad": torch.optim.Adagrad,
            "adam": torch.optim.Adam,
            "sparse_adam": torch.optim.SparseAdam,
        }
        return kinds[self.optimizer](params, **options)

    def epoch(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        order: torch.Tensor,
    ) -> float:
        """One pass over ``data`` (users, items, ratings) in ``order``; the mean loss."""
        size = self.batch_for(len(order))
        if self.trainer == "fused" and _plain_sgd(optimizer):
            lr = optimizer.param_groups[0]["lr"]
            return sgd_epoch(module, lr, self.l2, data, order, size)
        users, items, ratings = (column.index_select(0, order) for column in data)  # shuffled
        step = self._fused_step if self.trainer == "fused" else self._autograd_step
        work = _Workspace(module, min(size, len(order)))
        wide = torch.float32 if ratings.device.type == "mps" else torch.float64  # MPS: no f64
        total = torch.zeros((), device=ratings.device, dtype=wide)
        for start in range(0, len(order), size):
            batch = slice(start, start + size)
            total += step(module, optimizer, users[batch], items[batch], ratings[batch], work)
        return float(total) / len(order)

    def _autograd_step(self, module, optimizer, user, item, rating, _work) -> torch.Tensor:
        loss = squared_error(module(user, item), rating)
        if self.l2:
            loss = loss + self.l2 * per_example_l2(module, user, item)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def _fused_step(self, module, optimizer, user, item, rating, work) -> torch.Tensor:
        """``∂/∂θ`` of ``Σ (r̂ - r)² + l2 · per_example_l2`` by hand, then the step.

        With ``e = r̂ - r``: a user row gets ``2 (e q_i + l2 p_u)``, an item row
        ``2 (e p_u + l2 q_i)``, biases ``2 (e + l2 b)``, summed over the batch's ratings by
        ``index_add_`` into ``.grad``, then ``optimizer.step()``. Returns the batch's summed
        loss. (Plain SGD takes ``joint_sgd.sgd_epoch`` instead.)
        """
        n = len(user)
        users_w, items_w = module.user_factors.weight, module.item_factors.weight
        p_u = torch.index_select(users_w, 0, user, out=work.user_rows[:n])
        q_i = torch.index_select(items_w, 0, item, out=work.item_rows[:n])
        rows, error = work.rows[:n], work.error[:n]
        torch.mul(p_u, q_i, out=rows)
        torch.sum(rows, dim=1, out=error)
        flat_p, flat_q = p_u.reshape(-1), q_i.reshape(-1)
        penalty = flat_p.dot(flat_p) + flat_q.dot(flat_q)
        biased = isinstance(module, BiasedMatrixFactorization)
        if biased:
            b_u = module.user_biases.weight.view(-1).index_select(0, user)
            b_i = module.item_biases.weight.view(-1).index_select(0, item)
            error += b_u + b_i + module.global_bias
            penalty += b_u.dot(b_u) + b_i.dot(b_i)
        error -= rating
        loss = error.dot(error) + self.l2 * penalty
        # Scaled once, on the batch's vectors (``index_add_(alpha=...)`` is slow: ``_scatter``).
        error *= 2.0
        shrink = 2.0 * self.l2
        _zeroed_grad(users_w).index_add_(0, user, _rows(p_u, q_i, error, shrink, rows))
        _zeroed_grad(items_w).index_add_(0, item, _rows(q_i, p_u, error, shrink, rows))
        if biased:
            for table, index, bias in (
                (module.user_biases, user, b_u),
                (module.item_biases, item, b_i),
            ):
                sums = torch.bincount(
                    index, weights=error + shrink * bias, minlength=len(table.weight)
                )
                _zeroed_grad(table.weight).view(-1).add_(sums.to(table.weight.dtype))
        optimizer.step()
        return loss


class _Workspace:
    """Per-batch buffers of the fused trainer, allocated once per epoch."""

    def __init__(self, module: nn.Module, batch_size: int):
        weight = module.user_factors.weight
        rows = (batch_size, weight.shape[1])
        self.user_rows = weight.new_empty(rows)
        self.item_rows = weight.new_empty(rows)
        self.rows = weight.new_empty(rows)
        self.error = weight.new_empty(batch_size)


def _plain_sgd(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` is SGD without momentum, weight decay or maximisation."""
    group = optimizer.param_groups[0]
    return isinstance(optimizer, torch.optim.SGD) and not (
        group["momentum"] or group["weight_decay"] or group["maximize"]
    )


def _zeroed_grad(table: torch.Tensor) -> torch.Tensor:
    """``table.grad``, allocated or set to 0."""
    if table.grad is None:
        table.grad = torch.zeros_like(table)
        return table.grad
    return table.grad.zero_()


def _scatter(table: torch.Tensor, index: torch.Tensor, rows: torch.Tensor, alpha: float) -> None:
    """``table.grad = 0; table.grad[index] += alpha · rows`` (duplicates summed).

    ``rows`` is scaled in place first: ``index_add_(alpha=...)`` is several times slower than
    a plain ``index_add_`` on CPU.
    """
    _zeroed_grad(table).index_add_(0, index, rows.mul_(alpha))


def _scatter_sum(
    column: torch.Tensor, index: torch.Tensor, values: torch.Tensor, alpha: float
) -> None:
    """``column.grad = 0; column.grad[index] += alpha · values`` for a one-column table."""
    sums = torch.bincount(index, weights=values, minlength=column.shape[0])
    column.grad = sums.mul_(alpha).to(column.dtype).view_as(column)


def _rows(
    own: torch.Tensor, other: torch.Tensor, error: torch.Tensor, l2: float, out: torch.Tensor
) -> torch.Tensor:
    """``error · other + l2 · own`` for each row, written into ``out``."""
    torch.mul(other, error.unsqueeze(1), out=out)
    return out.add_(own, alpha=l2) if l2 else out


def check_torch_options(
    name: str, optimizer: str, sparse: bool, weight_decay: float, trainer: str = "autograd"
) -> None:
    """Refuse optimizer/sparse/weight-decay/trainer combinations PyTorch cannot train."""
    if optimizer not in OPTIMIZERS:
        raise InputError(f"{name}: optimizer={optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if trainer not in TRAINERS:
        raise InputError(f"{name}: trainer={trainer!r}; choose from {', '.join(TRAINERS)}")
    if optimizer == "sparse_adam" and not sparse:
        raise InputError(f"{name}: optimizer='sparse_adam' needs sparse=True")
    if optimizer == "adam" and sparse:
        raise InputError(f"{name}: optimizer='adam' cannot take sparse gradients; use sparse_adam")
    if sparse and weight_decay:
        raise InputError(f"{name}: weight_decay needs dense gradients (sparse=False); or use l2")
    if trainer == "fused" and sparse:
        raise InputError(
            f"{name}: trainer='fused' writes dense gradients; use sparse=False or "
            "trainer='autograd'"
        )


def torch_available(backend: str) -> tuple[bool, str]:
    """Whether PyTorch can run on ``backend`` here, and why not."""
    if backend == "cuda" and not torch.cuda.is_available():
        build = "built without CUDA" if torch.version.cuda is None else "no GPU visible"
        return False, f"CUDA unavailable (torch {torch.__version__}: {build})"
    if backend == "mps" and not torch.backends.mps.is_available():
        return False, "MPS (Apple GPU) unavailable"
    return True, ""


class TorchContender(Model):
    """A contender written in PyTorch: it runs where PyTorch can use the device it asks for."""

    requirements = (Requirement("torch"),)
    method = "sgd"  # its MF, BPR and hybrid trainers; ALS and Gibbs contenders say otherwise

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        ok, reason = super().available(backend)
        return torch_available(backend) if ok else (ok, reason)


# -- the contenders ---------------------------------------------------------------------------


class _TorchModel(TorchContender):
    """What the PyTorch MF contenders share: seeded init, output from ``module_``."""

    backends = ("cpu", "cuda", "mps")
    contests = (Contest.RATING,)

    def _init_module(
        self, module_class: type[MatrixFactorization], train: Ratings, sparse: bool
    ) -> MatrixFactorization:
        """A module on the model's device: factors ~ N(0, init_std²), biases 0, seeded."""
        generator = torch.Generator().manual_seed(self.seed)
        module = module_class(train.n_users, train.n_items, self.factors, sparse)
        with torch.no_grad():
            for embedding in (module.user_factors, module.item_factors):
                embedding.weight.normal_(0.0, self.init_std, generator=generator)
            if isinstance(module, BiasedMatrixFactorization):
                module.user_biases.weight.zero_()
                module.item_biases.weight.zero_()
                module.global_bias.fill_(float(train.rating.mean(dtype=np.float64)))
        return module.to(self.backend)

    def _prepare(self, train: Ratings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return train.to_torch(self.backend)

    def warm_up(self) -> None:
        """Create the device context and run one training step on a tiny model."""
        module = BiasedMatrixFactorization(4, 4, 2).to(self.backend)
        index = torch.arange(4, device=self.backend)
        loss = mse(module(index, index), torch.ones(4, device=self.backend))
        loss.backward()
        torch.optim.Adam(module.parameters()).step()

    @torch.no_grad()
    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        user = torch.from_numpy(users).to(self.backend)
        item = torch.from_numpy(items).to(self.backend)
        return self.module_(user, item).float().cpu().numpy()

    @torch.no_grad()
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.module_.score_all(torch.from_numpy(users).to(self.backend))
        return scores.float().cpu().numpy()

    def _state_arrays(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy() for p in self.module_.parameters()]


class TorchMF(_TorchModel):
    """Matrix factorization in PyTorch (``torch-mf``): the post's ``MatrixFactorization``.

    A rating is ``p_u · q_i``, learned by minimising MSE with a PyTorch optimizer through
    autograd (Rosenthal, "Matrix Factorization in PyTorch", 2017; the model is Funk's 2006
    SVD without biases). See ``TorchBiasedMF`` for the biased variant.

    Parameters
    ----------
    factors : int
        Embedding size.
    epochs : int
        Passes over the training data.
    lr : float
        Learning rate.
    optimizer : {"sgd", "adagrad", "adam", "sparse_adam"}
        PyTorch optimizer.
    weight_decay : float
        The optimizer's weight decay (the post's L2; needs ``sparse=False``).
    l2 : float
        Weight of the per-example L2 penalty (see ``per_example_l2``).
    batch_size : int or None
        Ratings per optimizer step. None (default): ``auto_batch_size`` of the training set,
        ``ceil(n_ratings / 32)`` clipped to ``[64, 8192]`` — 32 steps an epoch at every size
        up to 262,144 ratings, batches of 8,192 beyond — so that ``lr``, ``lr_decay`` and
        ``epochs`` mean the same optimisation whatever the size of the data. The size used
        is ``batch_size_`` after ``fit``.
    trainer : {"fused", "autograd"}
        How gradients are taken (see ``MinibatchTrainer``): the same updates either way.
    lr_decay : float
        The learning rate is multiplied by this after every epoch (1 = constant).
    sparse : bool
        Sparse embedding gradients (``nn.Embedding(sparse=True)``, as in the post).
    init_std : float
        Standard deviation of the normal initialisation of the factors (biases start at 0).
    backend : {"cpu", "cuda", "mps"}
        Device.
    n_threads : int, optional
        CPU threads (torch intra-op).
    seed : int
        Seeds initialisation and shuffling (a ``torch.Generator``; no global RNG). On CUDA,
        scatter-add in the embedding backward pass may make runs differ in the last bits.
    """

    name = "torch-mf"
    module_class: ClassVar[type[MatrixFactorization]] = MatrixFactorization
    hyperparameter_specs: ClassVar = {
        "optimizer": Hyperparameter(str, choices=OPTIMIZERS),
        "weight_decay": Hyperparameter(float, low=0),
        "batch_size": Hyperparameter(int, low=1, optional=True),
        "trainer": Hyperparameter(str, choices=TRAINERS),
        "lr_decay": Hyperparameter(float, low=0, low_open=True, high=1, search=(0.8, 1.0)),
        "sparse": Hyperparameter(bool),
    }

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 30,
        lr: float = MinibatchTrainer.lr,
        optimizer: str = MinibatchTrainer.optimizer,
        weight_decay: float = MinibatchTrainer.weight_decay,
        l2: float = MinibatchTrainer.l2,
        batch_size: int | None = MinibatchTrainer.batch_size,
        trainer: str = MinibatchTrainer.trainer,
        lr_decay: float = 0.95,
        sparse: bool = False,
        init_std: float = 0.1,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.l2 = l2
        self.batch_size = batch_size
        self.trainer = trainer
        self.lr_decay = lr_decay
        self.sparse = sparse
        self.init_std = init_std
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def make_trainer(self) -> MinibatchTrainer:
        """The trainer these hyperparameters describe."""
        return MinibatchTrainer(
            self.optimizer, self.lr, self.weight_decay, self.l2, self.batch_size, self.trainer
        )

    @classmethod
    def check_combination(cls, params: Mapping[str, Any]) -> None:
        """Refuse optimizer/sparse/weight-decay/trainer combinations PyTorch cannot train."""
        options = (params[key] for key in ("optimizer", "sparse", "weight_decay", "trainer"))
        check_torch_options(cls.name, *options)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        check_torch_options(self.name, self.optimizer, self.sparse, self.weight_decay, self.trainer)
        self.module_ = self._init_module(self.module_class, train, self.sparse)
        trainer = self.make_trainer()
        self.batch_size_ = trainer.batch_for(len(train))
        optimizer = trainer.make_optimizer(self.module_, self.sparse)
        data = self._inputs(train)
        shuffle = torch.Generator(device=self.backend).manual_seed(self.seed + 1)
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            for group in optimizer.param_groups:  # the schedule: lr · lr_decay^(epoch - 1)
                group["lr"] = self.lr * self.lr_decay ** (epoch - 1)
            order = torch.randperm(len(train), generator=shuffle, device=self.backend)
            loss = trainer.epoch(self.module_, optimizer, data, order)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(train), on_epoch)


class TorchBiasedMF(TorchMF):
    """Biased matrix factorization in PyTorch (``torch-biased-mf``).

    ``r̂ = μ + b_u + b_i + p_u · q_i`` (Koren, Bell & Volinsky, "Matrix Factorization
    Techniques for Recommender Systems", IEEE Computer 2009), built as the post's
    ``BiasedMatrixFactorization`` of embedding layers. Parameters as ``TorchMF``.

    Its defaults are those of ``numba-sgd``, the same model trained by compiled per-sample
    SGD: plain SGD at the same per-rating ``lr``, ``l2``, ``init_std`` and ``epochs``, in
    minibatches (``batch_size=1`` makes it update-for-update ``numpy-sgd``). Biases let SGD
    start from the training mean, where the unbiased ``torch-mf`` must first grow its dot
    products to the rating scale, which Adam does faster.
    """

    name = "torch-biased-mf"
    speedup_baseline = True  # the model under study: throughput ratios are against it
    same_model_as = "numba-sgd"  # biased MF by per-sample SGD, compiled
    module_class = BiasedMatrixFactorization

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 30,
        lr: float = 0.01,
        optimizer: str = "sgd",
        weight_decay: float = 0.0,
        l2: float = 0.05,
        batch_size: int | None = None,
        trainer: str = "fused",
        lr_decay: float = 1.0,
        sparse: bool = False,
        init_std: float = 0.1,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(
            factors=factors,
            epochs=epochs,
            lr=lr,
            optimizer=optimizer,
            weight_decay=weight_decay,
            l2=l2,
            batch_size=batch_size,
            trainer=trainer,
            lr_decay=lr_decay,
            sparse=sparse,
            init_std=init_std,
            backend=backend,
            n_threads=n_threads,
            seed=seed,
        )


class TorchMFSeed(_TorchModel):
    """The post's training loop as written (``torch-mf-seed``): one rating at a time.

    Every step builds three one-element tensors from Python numbers, predicts, takes
    ``MSELoss``, back-propagates and steps plain SGD, over a shuffled order — Rosenthal,
    "Matrix Factorization in PyTorch" (2017), modernised only where today's PyTorch needs it
    (no ``Variable``). It is the "before" picture: slow by design.

    The post never calls ``optimizer.zero_grad()``, so its gradients accumulate from step to
    step; ``zero_grad=True`` (default) clears them as intended, ``zero_grad=False``
    reproduces the post exactly. The post's own settings were ``init_std=1.0`` (PyTorch's
    default embedding init) and ``lr=1e-6``, at which nothing is learned in one epoch; the
    defaults here learn. ``max_ratings`` caps the ratings visited per epoch so the loop stays
    usable on large data.

    Parameters
    ----------
    factors, epochs, lr, init_std, backend, n_threads, seed
        As ``TorchMF``.
    biased : bool
        Train the post's ``BiasedMatrixFactorization`` instead of ``MatrixFactorization``.
    zero_grad : bool
        Clear gradients before each step (the post does not).
    max_ratings : int or None
        Ratings visited per epoch (the first of the shuffled order); None = all.
    """

    name = "torch-mf-seed"
    caps_epochs = True  # max_ratings
    same_model_as = "torch-mf"  # the post's model, trained by the fast minibatch trainer
    # Thousands of tiny tensor ops per epoch: its normalised fit time varies more from run to
    # run than the other contenders' do, so the gate allows it more.
    speed_tolerance = 2.0
    hyperparameter_specs: ClassVar = {
        "biased": Hyperparameter(bool),
        "zero_grad": Hyperparameter(bool),
        "max_ratings": Hyperparameter(int, low=1, optional=True),
    }

    def __init__(
        self,
        *,
        factors: int = 20,
        epochs: int = 1,
        lr: float = 1e-2,
        init_std: float = 0.1,
        biased: bool = False,
        zero_grad: bool = True,
        max_ratings: int | None = 10_000,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.init_std = init_std
        self.biased = biased
        self.zero_grad = zero_grad
        self.max_ratings = max_ratings
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        module_class = BiasedMatrixFactorization if self.biased else MatrixFactorization
        self.module_ = self._init_module(module_class, train, sparse=True)  # as in the post
        loss_func = torch.nn.MSELoss()
        optimizer = torch.optim.SGD(self.module_.parameters(), lr=self.lr)
        rng = np.random.default_rng(self.seed)
        rows, cols, values = train.user.tolist(), train.item.tolist(), train.rating.tolist()
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            order = rng.permutation(len(train))[: self.max_ratings]
            total = 0.0
            for index in order.tolist():
                rating = torch.tensor([values[index]], device=self.backend)
                row = torch.tensor([rows[index]], device=self.backend)
                col = torch.tensor([cols[index]], device=self.backend)
                prediction = self.module_(row, col)
                loss = loss_func(prediction, rating)
                if self.zero_grad:
                    optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
            self._check_loss(epoch, total / len(order))
            self.loss_history_.append(total / len(order))
            self._epoch_done(epoch, len(order), on_epoch)
