"""The PyTorch MF contenders: the seed post's MF and biased MF, and its loop as written.

``torch-mf`` and ``torch-biased-mf`` train the post's modules (``suite.models.torch.modules``)
by ``MinibatchTrainer`` (``suite.models.torch.trainers``); ``torch-mf-seed`` runs the post's
own one-rating-at-a-time loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch

from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter
from suite.models.torch.base import TorchContender
from suite.models.torch.losses import mse
from suite.models.torch.modules import BiasedMatrixFactorization, MatrixFactorization
from suite.models.torch.trainers import OPTIMIZERS, TRAINERS, MinibatchTrainer


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
