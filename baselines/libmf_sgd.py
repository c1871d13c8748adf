"""LIBMF's parallel SGD (``libmf-sgd``, ``libmf-bpr``): the best-known fast CPU SGD for MF.

LIBMF (Chin, Zhuang, Juan & Lin, "A fast parallel stochastic gradient method for matrix
factorization in shared memory systems", ACM TIST 2015 / RecSys 2013; "A learning-rate
schedule for stochastic gradient methods to matrix factorization", PAKDD 2015) splits the
rating matrix into blocks that threads update without sharing rows, with an adaptive
per-row learning rate. Its C++ comes with the PyPI package ``libmf`` 0.9.2, built from source
by ``make install`` (with LIBMF's AVX kernels). That package's Python wrapper is not used:
it prints at import, its ``predict`` returns wrong values, its defaults include an L1
penalty, and it sizes the matrix from the largest code seen. This adapter calls the C
functions of the compiled library (``mf_train``, ``mf_destroy_model``) through ``ctypes``,
with every option set explicitly, and predicts from the factors itself.
"""

from __future__ import annotations

import ctypes
import functools
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from baselines.floors import BiasOnly
from suite.data.feedback import positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement

#: LIBMF's loss functions (``mf_parameter.fun``).
SQUARED_LOSS = 0  # real-valued MF, squared error (P_L2_MFR)
ROW_BPR = 10  # one-class MF, BPR loss over each row's (user's) positives (P_ROW_BPR_MFOC)


class _Node(ctypes.Structure):
    _fields_ = [("u", ctypes.c_int), ("v", ctypes.c_int), ("r", ctypes.c_float)]


class _Problem(ctypes.Structure):
    _fields_ = [
        ("m", ctypes.c_int),
        ("n", ctypes.c_int),
        ("nnz", ctypes.c_longlong),
        ("R", ctypes.POINTER(_Node)),
    ]


class _Parameter(ctypes.Structure):
    _fields_ = [
        ("fun", ctypes.c_int),
        ("k", ctypes.c_int),
        ("nr_threads", ctypes.c_int),
        ("nr_bins", ctypes.c_int),
        ("nr_iters", ctypes.c_int),
        ("lambda_p1", ctypes.c_float),
        ("lambda_p2", ctypes.c_float),
        ("lambda_q1", ctypes.c_float),
        ("lambda_q2", ctypes.c_float),
        ("eta", ctypes.c_float),
        ("do_nmf", ctypes.c_bool),
        ("quiet", ctypes.c_bool),
        ("copy_data", ctypes.c_bool),
    ]


class _Model(ctypes.Structure):
    _fields_ = [
        ("fun", ctypes.c_int),
        ("m", ctypes.c_int),
        ("n", ctypes.c_int),
        ("k", ctypes.c_int),
        ("b", ctypes.c_float),
        ("P", ctypes.POINTER(ctypes.c_float)),
        ("Q", ctypes.POINTER(ctypes.c_float)),
    ]


#: The dtype of LIBMF's ``mf_node``: a rating as (row, column, value).
NODE = np.dtype([("u", np.int32), ("v", np.int32), ("r", np.float32)])


@functools.cache
def library() -> ctypes.CDLL:
    """The compiled LIBMF of the ``libmf`` package, with ``mf_train``'s signature declared."""
    files = metadata.files("libmf") or []
    compiled = [f for f in files if f.name.startswith("libmf") and f.name.endswith(".so")]
    if not compiled:
        raise InputError("libmf: its compiled library is missing (reinstall: make install)")
    lib = ctypes.CDLL(str(Path(compiled[0].locate()).resolve()))
    lib.mf_train.restype = ctypes.POINTER(_Model)
    lib.mf_train.argtypes = (ctypes.POINTER(_Problem), _Parameter)
    lib.mf_destroy_model.argtypes = (ctypes.POINTER(ctypes.POINTER(_Model)),)
    return lib


@functools.cache
def c_library() -> ctypes.CDLL:
    """The C library of this process (LIBMF draws its per-block generators' seeds from its
    ``rand()``)."""
    c = ctypes.CDLL(None)
    c.srand.argtypes = (ctypes.c_uint,)
    return c


def factorize(
    nodes: np.ndarray, n_rows: int, n_columns: int, parameter: _Parameter, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """LIBMF's ``mf_train`` on ``nodes`` (a ``NODE`` array) of an ``n_rows × n_columns`` matrix; the
    factors ``P`` (rows × k) and ``Q`` (columns × k), copied out. Rows or columns without a
    rating, which LIBMF leaves NaN, are 0 (the harness treats them as cold). ``seed`` seeds
    ``rand()`` first: the same inputs and seed give the same factors on one thread."""
    nodes = np.ascontiguousarray(nodes, dtype=NODE)
    problem = _Problem(n_rows, n_columns, len(nodes), nodes.ctypes.data_as(ctypes.POINTER(_Node)))
    lib = library()
    # Else a fit's blocks depend on the fits before it in the process; glibc's srand(0) is srand(1).
    c_library().srand((seed + 1) % 2**32)
    model = lib.mf_train(ctypes.byref(problem), parameter)
    if not model:
        raise RuntimeError("libmf: mf_train returned no model")
    try:
        found = model.contents
        k = found.k
        p = np.ctypeslib.as_array(found.P, shape=(found.m * k,)).reshape(found.m, k).copy()
        q = np.ctypeslib.as_array(found.Q, shape=(found.n * k,)).reshape(found.n, k).copy()
    finally:
        lib.mf_destroy_model(ctypes.byref(model))
    return np.nan_to_num(p, nan=0.0), np.nan_to_num(q, nan=0.0)


class _LIBMF(Model):
    """What the two LIBMF contenders share: options, threads, the one call."""

    requirements = (
        Requirement("libmf", install="built from source by `make install`: see the Makefile"),
    )
    epoch_curve = False  # mf_train runs every iteration in one call: no state in between
    method = "sgd"
    # On one thread LIBMF's main thread and its solver thread hand every block over through a
    # condition variable, and how they are scheduled moves the fit time: six sessions of the
    # gate's config here gave normalised fit times of 2.79-3.60 (libmf-sgd) and 1.43-2.07
    # (libmf-bpr), a max/min of 1.29 and 1.45 against 1.11-1.28 for the others.
    speed_tolerance = 1.6
    hyperparameter_specs: ClassVar = {
        "bins": Hyperparameter(int, low=1, optional=True),
    }

    factors: int
    epochs: int
    lr: float
    l2: float
    bins: int | None

    def _threads(self) -> int:
        return self.n_threads or 1

    def _parameter(self, fun: int) -> _Parameter:
        """Every option explicit: L2 penalties only (no L1), no NMF, quiet, ``bins`` blocks
        per side (default: LIBMF's rule, at least ``2 × threads + 1``)."""
        threads = self._threads()
        bins = self.bins or max(2 * threads + 1, 20)
        if bins < 2 * threads + 1:
            raise InputError(f"{self.name}: bins={bins}: LIBMF needs 2 × threads + 1 or more")
        return _Parameter(
            fun, self.factors, threads, bins, self.epochs, 0.0, self.l2, 0.0, self.l2, self.lr,
            False, True, True,
        )  # fmt: skip


class LIBMFSGD(_LIBMF):
    """Biased MF with LIBMF's parallel SGD doing the factors (``libmf-sgd``).

    LIBMF's squared-loss model has no biases or mean: ``r̂ = p_u · q_i``, trained on
    ``Σ (r - p_u·q_i)² + λ(‖p_u‖² + ‖q_i‖²)`` per rating, as every SGD contender here. To give
    it the same model as the others, ``r̂ = μ + b_u + b_i + p_u · q_i``, it factors the
    residuals of the ``bias-only`` baseline (Koren, KDD 2008: regularised biases by
    alternating least squares, its defaults): the biases are fitted first (inside the timed
    fit) and held fixed, the factors then learn what they leave. The biases are not learned
    jointly with the factors, unlike ``numba-sgd``'s.

    Parameters
    ----------
    factors, epochs, lr, l2
        LIBMF's ``k``, ``nr_iters``, ``eta`` (the initial step of its adaptive schedule) and
        ``lambda_p2 = lambda_q2`` (L1 penalties 0).
    bins : int, optional
        Blocks per side of the rating matrix (default: ``max(2 × threads + 1, 20)``).
    backend, n_threads, seed
        CPU; LIBMF's threads; ``seed`` seeds the C library's ``rand()``, from which LIBMF
        draws the seeds of its per-block generators (``libmf-bpr``'s negative samples; LIBMF
        takes no seed and initialises the factors the same way in every fit).
    """

    name = "libmf-sgd"
    contests = (Contest.RATING,)
    hyperparameter_specs: ClassVar = {
        "lr": Hyperparameter(float, low=0, low_open=True, search=(1e-3, 0.5), log=True),
        "l2": Hyperparameter(float, low=0, search=(1e-4, 1.0), log=True),
        "epochs": Hyperparameter(int, low=1, search=(5, 800), log=True),
    }

    def __init__(
        self,
        *,
        factors: int = 32,
        epochs: int = 30,
        lr: float = 0.05,
        l2: float = 0.05,
        bins: int | None = None,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.bins = bins
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> np.ndarray:
        nodes = np.empty(len(train), dtype=NODE)
        nodes["u"], nodes["v"] = train.user, train.item
        return nodes

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        nodes = self._inputs(train).copy()
        biases = BiasOnly().fit(train)
        self.user_bias_ = biases.user_bias_.astype(np.float32)
        self.item_bias_ = biases.item_bias_.astype(np.float32)
        baseline = self.global_mean_ + self.user_bias_[train.user] + self.item_bias_[train.item]
        nodes["r"] = train.rating - baseline
        parameter = self._parameter(SQUARED_LOSS)
        self.user_factors_, self.item_factors_ = factorize(
            nodes, train.n_users, train.n_items, parameter, self.seed
        )
        for epoch in range(1, self.epochs + 1):  # counters right; there is no curve
            self._epoch_done(epoch, len(train), on_epoch)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return self.global_mean_ + self.user_bias_[users] + self.item_bias_[items] + dot

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T + self.item_bias_
        return scores + (self.global_mean_ + self.user_bias_[users])[:, None]

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_]


class LIBMFBPR(_LIBMF):
    """One-class MF with LIBMF's BPR loss (``libmf-bpr``): a ranking contender.

    LIBMF's ``P_ROW_BPR_MFOC`` (Rendle et al., "BPR", UAI 2009, over each user's positives,
    with LIBMF's parallel blocks and schedule; Yu, Chin et al., "Selection of negative samples
    for one-class matrix factorization", SDM 2017): scores ``p_u · q_i``, trained on the
    shared positives (``suite.data.feedback``).

    Parameters
    ----------
    factors, epochs, lr, l2, bins, backend, n_threads, seed
        As ``libmf-sgd``.
    """

    name = "libmf-bpr"
    contests = (Contest.RANKING,)
    same_model_as = "implicit-bpr"  # BPR matrix factorisation, another parallel SGD
    hyperparameter_specs: ClassVar = {
        "lr": Hyperparameter(float, low=0, low_open=True, search=(1e-3, 0.5), log=True),
        "l2": Hyperparameter(float, low=0, search=(1e-4, 1.0), log=True),
        "epochs": Hyperparameter(int, low=1, search=(5, 800), log=True),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 30,
        lr: float = 0.1,
        l2: float = 0.01,
        bins: int | None = None,
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.l2 = l2
        self.bins = bins
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _prepare(self, train: Ratings) -> np.ndarray:
        liked = positives(train).tocoo()
        if not liked.nnz:
            raise InputError(f"{self.name}: no positive training rating")
        nodes = np.empty(liked.nnz, dtype=NODE)
        nodes["u"], nodes["v"], nodes["r"] = liked.row, liked.col, 1.0
        return nodes

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        nodes = self._inputs(train)
        self.user_factors_, self.item_factors_ = factorize(
            nodes, train.n_users, train.n_items, self._parameter(ROW_BPR), self.seed
        )
        for epoch in range(1, self.epochs + 1):  # counters right; there is no curve
            self._epoch_done(epoch, len(nodes), on_epoch)

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_]
