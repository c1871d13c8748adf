"""``numpy-sgd``'s hand-derived per-sample SGD, compiled with numba: the CPU speed reference."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suite.data.ratings import Ratings
from suite.models.base import EpochCallback, Hyperparameter, Requirement
from suite.models.factors import BiasedFactorsModel

_KERNELS: dict[str, object] = {}


def _visit(P, Q, bu, bi, mu, users, items, ratings, order, lr, l2):
    """Per-sample updates of ``numpy_sgd.gradients``, in ``order``; returns the summed loss."""
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


def _hogwild(P, Q, bu, bi, mu, users, items, ratings, order, lr, l2, n_chunks):
    """Hogwild! (Niu et al., NIPS 2011): chunks of the order run at once, without locks."""
    totals = np.zeros(n_chunks)
    size = (order.shape[0] + n_chunks - 1) // n_chunks
    for chunk in _prange(n_chunks):
        part = order[chunk * size : min((chunk + 1) * size, order.shape[0])]
        totals[chunk] = _serial(P, Q, bu, bi, mu, users, items, ratings, part, lr, l2)
    return totals.sum()


_serial = _prange = None  # bound by ``_compile``; ``_hogwild`` reads them when it compiles


def _compile() -> dict[str, object]:
    """The numba kernels, compiled on first use (``warm_up``) and cached on disk by numba."""
    global _serial, _prange
    if not _KERNELS:
        import numba

        _serial, _prange = numba.njit(nogil=True, cache=True)(_visit), numba.prange
        hogwild = numba.njit(nogil=True, cache=True, parallel=True)(_hogwild)
        _KERNELS.update(serial=_serial, hogwild=hogwild)
    return _KERNELS


class NumbaSGD(BiasedFactorsModel):
    """Biased MF by per-sample SGD, hand-derived gradients, compiled by numba (``numba-sgd``).

    Exactly ``numpy-sgd``'s algorithm — Funk's SGD as in Koren, Bell & Volinsky (IEEE
    Computer, 2009), loss ``(r - r̂)² + λ(‖p_u‖² + ‖q_i‖² + b_u² + b_i²)``, simultaneous
    updates — with the loop compiled to machine code (Lam, Pitrou & Seibert, "Numba: a
    LLVM-based Python JIT compiler", LLVM-HPC 2015): the "well-written custom solution" of the
    2017 post. With ``hogwild=True`` and ``n_threads > 1`` the epoch is split across threads
    that update the shared factors without locks (Niu et al., "Hogwild!", NIPS 2011); the
    result then depends on thread timing. Compilation happens in ``warm_up``.

    Parameters
    ----------
    factors, epochs, lr, l2, init_std, seed
        As ``numpy-sgd``, defaults included (same initialisation and shuffles for the same
        seed).
    hogwild : bool
        Run each epoch on ``n_threads`` threads at once (not repeatable bit for bit).
    backend, n_threads
        CPU; threads for Hogwild.
    """

    name = "numba-sgd"
    requirements = (Requirement("numba"),)
    hyperparameter_specs: ClassVar = {"hogwild": Hyperparameter(bool)}

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 30,
        lr: float = 0.01,
        l2: float = 0.05,
        init_std: float = 0.1,
        hogwild: bool = False,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.init_std = init_std
        self.hogwild = hogwild
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def warm_up(self) -> None:
        """Compile the kernels (or load them from numba's cache) on a tiny problem."""
        kernels = _compile()
        tiny = np.zeros((2, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)
        codes, order = np.zeros(1, np.int32), np.zeros(1, np.int64)
        args = (
            tiny[0],
            tiny[0].copy(),
            tiny[1],
            tiny[1].copy(),
            0.0,
            codes,
            codes,
            np.ones(1, np.float32),
            order,
            0.01,
            0.0,
        )
        kernels["serial"](*args)
        kernels["hogwild"](*args, 1)

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        kernels = _compile()
        rng = np.random.default_rng(self.seed)
        self._init_factors(train, rng)
        threads = self.n_threads or 1
        self.loss_history_ = []
        for epoch in range(1, self.epochs + 1):
            order = rng.permutation(len(train))
            args = (
                self.user_factors_,
                self.item_factors_,
                self.user_bias_,
                self.item_bias_,
                self.global_mean_,
                train.user,
                train.item,
                train.rating,
                order,
                self.lr,
                self.l2,
            )
            if self.hogwild and threads > 1:
                import numba

                numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                total = kernels["hogwild"](*args, threads)
            else:
                total = kernels["serial"](*args)
            loss = float(total) / len(train)
            self._check_loss(epoch, loss)
            self.loss_history_.append(loss)
            self._epoch_done(epoch, len(train), on_epoch)
