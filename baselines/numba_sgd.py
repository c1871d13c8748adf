"""``numpy-sgd``'s hand-derived per-sample SGD, compiled with numba: the CPU speed reference."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import EpochCallback, Hyperparameter, Requirement
from suite.models.biased_factors import BiasedFactorsModel

_KERNELS: dict[str, object] = {}


def _visit(P, Q, bu, bi, mu, users, items, ratings, order, lr, l2):
    """The per-sample updates of ``numpy_sgd.gradients``, in ``order``, all in float32 (the
    arguments' type); returns the summed squared error of the visited examples.

    ``p − lr·(−2e·q + 2λ·p)`` is written as ``p·(1 − 2·lr·λ) + (2·lr·e)·q``: the same update,
    two multiplications per factor fewer. The penalty is not summed (it costs a pass over
    both rows per step and the update does not need it).
    """
    shrink = np.float32(1.0) - np.float32(2.0) * lr * l2
    total = 0.0
    for step in range(order.shape[0]):
        index = order[step]
        u, i = users[index], items[index]
        dot = np.float32(0.0)
        for f in range(P.shape[1]):
            dot += P[u, f] * Q[i, f]
        b_u, b_i = bu[u], bi[i]
        error = ratings[index] - (mu + b_u + b_i + dot)
        total += error * error
        step_size = np.float32(2.0) * lr * error
        bu[u] = b_u * shrink + step_size
        bi[i] = b_i * shrink + step_size
        for f in range(P.shape[1]):
            p, q = P[u, f], Q[i, f]
            P[u, f] = p * shrink + step_size * q
            Q[i, f] = q * shrink + step_size * p
    return total


def _visit_plain(P, Q, bu, bi, mu, users, items, ratings, order, lr, l2):
    """``numpy_sgd.sgd_epoch``'s loop as written, compiled without fastmath (``kernel="plain"``):
    float64 arithmetic (its constants and scalars) and the regularised loss summed on every
    step, which it returns (``_visit`` returns the squared error alone)."""
    total = 0.0
    for step in range(order.shape[0]):
        index = order[step]
        u, i = users[index], items[index]
        dot, norms = 0.0, 0.0
        for f in range(P.shape[1]):
            dot += P[u, f] * Q[i, f]
            norms += P[u, f] * P[u, f] + Q[i, f] * Q[i, f]
        b_u, b_i = bu[u], bi[i]
        error = ratings[index] - (mu + b_u + b_i + dot)
        total += error * error + l2 * (norms + b_u * b_u + b_i * b_i)
        bu[u] = b_u - lr * (-2.0 * error + 2.0 * l2 * b_u)
        bi[i] = b_i - lr * (-2.0 * error + 2.0 * l2 * b_i)
        for f in range(P.shape[1]):
            p, q = P[u, f], Q[i, f]
            P[u, f] = p - lr * (-2.0 * error * q + 2.0 * l2 * p)
            Q[i, f] = q - lr * (-2.0 * error * p + 2.0 * l2 * q)
    return total


def _hogwild(P, Q, bu, bi, mu, users, items, ratings, order, lr, l2, n_chunks, plain):
    """Hogwild! (Niu et al., NIPS 2011): chunks of the order run at once, without locks, each
    by the serial loop (``plain``: the plain one)."""
    totals = np.zeros(n_chunks)
    size = (order.shape[0] + n_chunks - 1) // n_chunks
    for chunk in _prange(n_chunks):
        part = order[chunk * size : min((chunk + 1) * size, order.shape[0])]
        if plain:
            totals[chunk] = _plain(P, Q, bu, bi, mu, users, items, ratings, part, lr, l2)
        else:
            totals[chunk] = _fast(P, Q, bu, bi, mu, users, items, ratings, part, lr, l2)
    return totals.sum()


_fast = _plain = _prange = None  # bound by ``_compile``; ``_hogwild`` reads them when it compiles

#: The serial loops: ``fast`` (the default) and ``plain`` (see ``_visit_plain``).
KERNELS = ("fast", "plain")


def _compile() -> dict[str, object]:
    """The numba kernels, compiled on first use (``warm_up``) and cached on disk by numba:
    the fast loop with fastmath (numba may reorder its float arithmetic), the plain one
    without, and Hogwild over either."""
    global _fast, _plain, _prange
    if not _KERNELS:
        import numba

        _fast = numba.njit(nogil=True, cache=True, fastmath=True)(_visit)
        _plain = numba.njit(nogil=True, cache=True)(_visit_plain)
        _prange = numba.prange
        hogwild = numba.njit(nogil=True, cache=True, parallel=True)(_hogwild)
        _KERNELS.update(fast=_fast, plain=_plain, hogwild=hogwild)
    return _KERNELS


class NumbaSGD(BiasedFactorsModel):
    """Biased MF by per-sample SGD, hand-derived gradients, compiled by numba (``numba-sgd``).

    Exactly ``numpy-sgd``'s algorithm — Funk's SGD as in Koren, Bell & Volinsky (IEEE
    Computer, 2009), loss ``(r - r̂)² + λ(‖p_u‖² + ‖q_i‖² + b_u² + b_i²)``, simultaneous
    updates — with the loop compiled to machine code (Lam, Pitrou & Seibert, "Numba: a
    LLVM-based Python JIT compiler", LLVM-HPC 2015): the "well-written custom solution" of the
    2017 post, written as such a solution would be: float32 throughout, compiled with
    fastmath, the update in its cheapest form and only the squared error summed, and every
    epoch split over ``n_threads`` threads that update the shared factors without locks
    (Hogwild!, Niu et al., NIPS 2011), so it gets the same threads as every contender. With
    more than one thread the result depends on thread timing. Compilation happens in
    ``warm_up``.

    Parameters
    ----------
    factors, epochs, lr, l2, init_std, seed
        As ``numpy-sgd``, defaults included (same initialisation and shuffles for the same
        seed).
    lr_decay : float
        The learning rate of epoch ``e`` is ``lr × lr_decay^(e−1)``, as for the PyTorch SGD
        contenders (1: constant).
    hogwild : bool
        Run each epoch on ``n_threads`` threads at once (False: the serial loop on one).
    kernel : {"fast", "plain"}
        The loop: ``fast`` as above, or ``plain``, ``numpy-sgd``'s loop compiled as written
        (float64 arithmetic, no fastmath, the regularised loss summed on every step, which
        ``loss_history_`` then holds instead of the squared error).
    backend, n_threads
        CPU; threads for Hogwild.
    """

    name = "numba-sgd"
    requirements = (Requirement("numba"),)
    method = "sgd"
    hyperparameter_specs: ClassVar = {
        "hogwild": Hyperparameter(bool),
        "kernel": Hyperparameter(str, choices=KERNELS),
        "lr_decay": Hyperparameter(float, low=0, low_open=True, high=1, search=(0.8, 1.0)),
    }

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 30,
        lr: float = 0.01,
        l2: float = 0.05,
        lr_decay: float = 1.0,
        init_std: float = 0.1,
        hogwild: bool = True,
        kernel: str = "fast",
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.lr_decay = lr_decay
        self.init_std = init_std
        self.hogwild = hogwild
        self.kernel = kernel
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def warm_up(self) -> None:
        """Compile the kernels (or load them from numba's cache) on a tiny problem, with the
        argument types ``_fit`` passes."""
        kernels = _compile()
        tiny = np.zeros((2, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)
        codes, order = np.zeros(1, np.int32), np.zeros(1, np.int64)
        scalars = self._scalars(0.0, 0.01)
        args = (tiny[0], tiny[0].copy(), tiny[1], tiny[1].copy(), scalars[0], codes, codes)
        args += (np.ones(1, np.float32), order, *scalars[1:])
        kernels[self.kernel](*args)
        kernels["hogwild"](*args, 1, self.kernel == "plain")

    def _scalars(self, mean: float, lr: float) -> tuple[float, float, float]:
        """μ, the epoch's lr and λ as the kernel takes them: float32 for ``fast`` (float64
        scalars would make numba compute in float64), Python floats for ``plain``."""
        kind = np.float32 if self.kernel == "fast" else float
        return kind(mean), kind(lr), kind(self.l2)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        kernels = _compile()
        rng = np.random.default_rng(self.seed)
        self._init_factors(train, rng)
        threads = self.n_threads or 1
        parallel = self.hogwild and threads > 1
        if parallel:
            import numba

            threads = min(threads, numba.config.NUMBA_NUM_THREADS)
            numba.set_num_threads(threads)
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            order = rng.permutation(len(train))
            mean, lr, l2 = self._scalars(self.global_mean_, self.lr * self.lr_decay ** (epoch - 1))
            args = (self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_)
            args += (mean, train.user, train.item, train.rating, order, lr, l2)
            if parallel:
                total = kernels["hogwild"](*args, threads, self.kernel == "plain")
            else:
                total = kernels[self.kernel](*args)
            loss = float(total) / len(train)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(train), on_epoch)
