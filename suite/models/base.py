"""The Model protocol every contender implements, and what the harness relies on."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import inspect
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.threads import thread_limits

#: ``on_epoch(epoch, model)``: called after each epoch (1-based) with the model in its
#: current state, e.g. to take a convergence curve. Time spent inside it is not fit time.
EpochCallback = Callable[[int, "Model"], None]

#: The suite-facing names of the hyperparameters contenders share. Every contender that has
#: such a setting takes it under this name and translates it to its library's own name
#: inside the adapter (LightFM's ``no_components``, implicit's ``iterations``), so that
#: ``--param MODEL.epochs=5`` means the same for every contender.
COMMON_HYPERPARAMETERS = {
    "factors": "latent dimension",
    "epochs": "passes over the training data (ALS: alternations of a user and an item step)",
    "lr": "learning rate (initial, where it decays)",
    "l2": "L2 penalty on the factors (and biases); each class documents its scaling",
    "seed": "seeds every random draw (no global RNG)",
    "n_threads": "CPU threads (torch, BLAS, OpenMP and the library's own pool); None = all",
    "backend": "device: cpu, cuda or mps",
}


#: The settings the harness supplies to every contender (not hyperparameters to set).
HARNESS_SETTINGS = ("backend", "n_threads", "seed")

#: What a value of each scalar type is called in messages.
TYPE_NAMES = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def conforms(value: Any, kind: type) -> bool:
    """``isinstance(value, kind)`` for a setting: a bool is no number, an int is a float.

    Numbers must be finite (TOML and JSON can write ``nan`` and ``inf``); numpy scalars count
    as the Python type they stand for.
    """
    if kind is bool:
        return isinstance(value, bool | np.bool_)
    if isinstance(value, bool | np.bool_):
        return False
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real) and math.isfinite(value)
    return isinstance(value, kind)


@dataclass(frozen=True)
class Hyperparameter:
    """The type and valid values of one hyperparameter: a class fact, next to its default.

    Parameters
    ----------
    type : {int, float, str, bool}
        An int is accepted for a float (and converted); a bool never passes for a number.
    low, high : float, optional
        Bounds of a number, inclusive (``low`` exclusive with ``low_open``).
    low_open : bool
        ``low`` itself is invalid (``lr > 0``).
    choices : tuple of str
        The valid values of a string option (empty: any string).
    optional : bool
        ``None`` is valid too (e.g. "no cap").
    search : tuple, optional
        Where tuning (``suite.tuning``) looks: ``(low, high)`` for a number, the options to
        try for a string or bool; None: not tuned (kept at its default).
    log : bool
        Search a number's range on a log scale (rates, penalties, sizes).
    """

    type: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    search: tuple[Any, ...] | None = None
    log: bool = False

    def describe(self) -> str:
        """What a valid value is, for messages: ``"a number > 0 and <= 1"``."""
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self._shown(self.low)}")
        if self.high is not None:
            bounds.append(f"<= {self._shown(self.high)}")
        text = " ".join([TYPE_NAMES[self.type], " and ".join(bounds)]).strip()
        return f"{text} or None" if self.optional else text

    def _shown(self, bound: float) -> str:
        return str(int(bound)) if self.type is int else f"{bound:g}"

    def check(self, value: Any, label: str) -> Any:
        """``value`` as ``type`` (an int becomes a float) if valid, else ``InputError``.

        The message reads ``"LABEL=VALUE: must be ..."`` (``"LABEL=VALUE; choose from ..."``
        for an option), e.g. ``"torch-mf.lr=0: must be a number > 0"``.
        """
        if value is None and self.optional:
            return value
        if self.choices and value not in self.choices:
            raise InputError(f"{label}={value!r}; choose from {', '.join(self.choices)}")
        if not conforms(value, self.type) or not self._in_range(value):
            raise InputError(f"{label}={value!r}: must be {self.describe()}")
        return value if self.type is str else self.type(value)

    def _in_range(self, value: Any) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high


#: Types and ranges of the shared hyperparameters, declared once: a contender that takes one
#: of these names gets its spec (``Model.specs()``) without declaring it again.
COMMON_SPECS: dict[str, Hyperparameter] = {
    "factors": Hyperparameter(int, low=1, search=(8, 1024), log=True),
    "epochs": Hyperparameter(int, low=1, search=(5, 200), log=True),
    "lr": Hyperparameter(float, low=0, low_open=True, search=(1e-4, 1.0), log=True),
    "l2": Hyperparameter(float, low=0, search=(1e-5, 100.0), log=True),
    "init_std": Hyperparameter(float, low=0, low_open=True, search=(1e-6, 1.0), log=True),
}

#: The largest seed: what every library's generator takes (NumPy's legacy ``RandomState``
#: among them, 32 bits).
MAX_SEED = 2**32 - 1

#: Types and ranges of the settings the harness supplies (checked by ``models.create``).
HARNESS_SPECS: dict[str, Hyperparameter] = {
    "backend": Hyperparameter(str),
    "n_threads": Hyperparameter(int, low=1, optional=True),
    "seed": Hyperparameter(int, low=0, high=MAX_SEED),
}


@dataclass(frozen=True)
class Requirement:
    """A library a contender needs, declared once on its class (``Model.requirements``).

    Parameters
    ----------
    distribution : str
        Its name on PyPI, whose installed version ``env.json`` records.
    module : str
        The name it is imported by (default: ``distribution``); the first requirement's is
        the contender's family in figures and verdicts (``suite.models.library``).
    install : str
        How to install it, for the reason of a skipped run (default: ``pip install NAME``).
    """

    distribution: str
    module: str = ""
    install: str = ""

    @property
    def import_name(self) -> str:
        return self.module or self.distribution

    def missing(self) -> str:
        """Why it cannot be used here ("" when it can be imported)."""
        if importlib.util.find_spec(self.import_name) is not None:
            return ""
        return (
            f"{self.distribution} is not installed "
            f"({self.install or f'pip install {self.distribution}'})"
        )

    def version(self) -> str | None:
        """The installed version, or None."""
        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return None


class Contest(StrEnum):
    """The two contests of the suite; each contender declares the one(s) it enters."""

    RATING = "rating"  # rating prediction on explicit ratings: RMSE, MAE
    RANKING = "ranking"  # top-N ranking of unseen items: precision/recall/NDCG/MAP@k


class ModelFitError(RuntimeError):
    """Training went numerically wrong (NaN or infinite loss or factors)."""


class StopTraining(Exception):
    """Raised by an ``on_epoch`` callback to end training after this epoch (early stopping).

    ``Model.fit`` catches it: the model keeps the state the callback left it in.
    """


#: Learned attributes that count what training did rather than what it learned: a snapshot
#: (``Model.snapshot``) leaves them out, so a restored model still says how far it ran.
RUN_COUNTERS = ("epochs_run_", "n_ratings_processed_", "loss_history_")


class Model(ABC):
    """A recommender under benchmark (scikit-learn / implicit style).

    Required of a subclass
    ----------------------
    ``name`` : str (class attribute)
        Registry name, e.g. ``"torch-biased-mf"``.
    ``contests`` : tuple of Contest (class attribute)
        The contest(s) it enters. ``Contest.RATING`` means ``predict`` returns ratings on the
        data's scale, so RMSE/MAE apply (``predicts_ratings`` is derived from it); a
        ranking-only model implements only ``_score_items``.
    ``__init__(self, *, <hyperparameters>, backend="cpu", n_threads=None, seed=0)``
        Stores each argument verbatim under its own name and does nothing else. Shared
        settings use the names in ``COMMON_HYPERPARAMETERS``.
    ``requirements`` : tuple of Requirement (class attribute)
        The libraries it needs, the one it is written with first (its family: PyTorch's
        contenders start with ``torch``). ``available`` refuses it where one is missing,
        and ``env.json`` records each one's version (``library_versions``).
    ``hyperparameter_specs`` : dict of str to Hyperparameter (class attribute)
        The type and valid values of each hyperparameter of ``__init__`` that is not in
        ``COMMON_SPECS`` (those are declared once there); merged along the class hierarchy,
        so a shared base class declares what its subclasses share. ``models.create`` and
        config validation refuse any value outside them before a model is built.
    ``_fit(self, train, on_epoch) -> None``
        All the work: learns state in attributes ending in ``_``; after every epoch calls
        ``self._epoch_done(epoch, n_ratings_visited, on_epoch)`` (which counts the epoch and
        calls ``on_epoch``), and ``self._check_loss(epoch, loss)`` where it has a loss.
    ``_score_items(self, users) -> ndarray``
        float32 array ``len(users) × n_items``: higher = recommend first.

    Facts the harness reads (class attributes with defaults)
    ---------------------------------------------------------
    ``backends`` : tuple of str, default ``("cpu",)``
        Devices it can run on, e.g. ``("cpu", "cuda")``.
    ``trains`` : bool, default True
        False for a reference that only counts (popularity): no throughput, no speed-up.
    ``caps_epochs`` : bool, default False
        True when an epoch may visit only part of the training data (a hyperparameter caps
        it), so its fit time is not the time of full epochs.
    ``speed_tolerance`` : float or None, default None
        Growth of normalised fit time the regression gate allows this contender, where its
        timing is noisier than the gate's default allows (None: the default).
    ``speedup_baseline`` : bool, default False
        The contender the report's throughput ratios divide by in its contest (at most one
        registered class per contest sets it).
    ``same_model_as`` : str or None, default None
        Another contender that trains the very same model differently; the report compares
        their throughput at equal factors (PyTorch against a compiled twin is the verdict's
        CPU-speed sentence).
    ``floor`` : bool, default False
        A trivial reference a contest's contenders must beat: global-mean, bias-only,
        popularity (the learning tests hold every trained contender but a floor to that).
    ``epoch_curve`` : bool, default True
        False when the library trains every epoch in one call, so that ``on_epoch`` only
        ever sees the final model: the harness then takes no convergence curve (and no
        per-epoch time) rather than a flat line of final values.
    ``method`` : str, default ""
        How it optimises: ``"sgd"`` (stochastic gradient steps), ``"als"`` (alternating least
        squares), ``"gibbs"`` (sampling); "" for a reference that only counts or averages.
        The claims compare methods by it (the post's "ALS is more efficient than SGD").
    ``uses_features`` : bool, default False
        True when the contender uses ``train.user_features``/``item_features`` (LightFM's
        hybrid model, torch-hybrid); the harness gives features only to those.

    Optional
    --------
    ``_predict(self, users, items) -> ndarray``
        float32 predicted ratings, one per pair (required when ``predicts_ratings``).
    ``_prepare(self, train) -> object``
        Convert ``train`` to the model's input form (CSR, COO, tensors on the device).
        ``_fit`` gets it through ``self._inputs(train)``; the harness calls ``prepare``
        beforehand so that conversion and host→device copies are timed apart from fitting.
    ``warm_up(self) -> None``
        One-off costs that are not training (CUDA context, kernel selection, JIT
        compilation, a Spark session), run and timed by the harness after ``prepare`` and
        before every timed ``fit``; it may use the prepared input (Spark fits it once, thrown
        away, so that its JIT has compiled ALS).
    ``jvm_memory_mb(self) -> (idle, peak) or None``
        Resident memory of a JVM the model computes in (Spark), which the Python process's
        RSS misses: when its session had just started, and the most since (default None).
    ``check_combination(params) -> None`` (classmethod)
        Refuse (``InputError``) a combination of individually valid hyperparameters that
        cannot train; ``params`` holds every hyperparameter. The default accepts any.
    ``available(backend) -> (bool, reason)`` (classmethod)
        Whether the library/device is usable here; the harness records a skipped run with
        the reason instead of crashing. The default checks ``backend in backends`` and that
        every one of ``requirements`` can be imported.
    ``library_versions() -> dict`` (classmethod)
        The version of each of ``requirements`` (None where missing), for ``env.json``;
        a contender that needs more than Python libraries (Spark: Java) adds it.
    ``_state_arrays(self) -> list of ndarray``
        Learned arrays checked for NaN/inf after fitting (default: none).

    What callers get
    ----------------
    ``fit(train, *, on_epoch=None) -> self`` (``on_epoch`` may raise ``StopTraining`` to end
    training early; ``snapshot``/``restore`` keep and put back the learned state, e.g. the
    best epoch's); ``predict(users, items)`` and
    ``score_items(users)`` take integer code arrays. ``n_ratings_processed_`` counts the
    training examples visited (for ratings/s); ``epochs_run_`` the epochs completed.

    Predicted ratings are clipped to the range of the training ratings (as Surprise does),
    the same post-processing for every rating model.

    Unknown users and items (one policy for every model)
    ----------------------------------------------------
    A code outside ``[0, n_users)`` / ``[0, n_items)`` of the training data raises
    ``InputError``. A user or item in range but without a training rating is *cold*:
    ``predict`` returns the training mean rating for any pair involving one, and
    ``score_items`` gives cold items ``-inf`` (never recommended) and cold users the training
    popularity of each item. For a contender that ``uses_features``, a user or item without
    ratings but with a non-empty feature row is not cold: its features score it. The shared
    splits remove cold pairs from test sets, except the ``cold-items`` split, which holds
    out whole items so that only feature-based contenders can rank them
    (``suite.data.splits``).
    """

    name: ClassVar[str]
    contests: ClassVar[tuple[Contest, ...]]
    requirements: ClassVar[tuple[Requirement, ...]] = ()
    backends: ClassVar[tuple[str, ...]] = ("cpu",)
    trains: ClassVar[bool] = True
    caps_epochs: ClassVar[bool] = False
    speed_tolerance: ClassVar[float | None] = None
    speedup_baseline: ClassVar[bool] = False
    same_model_as: ClassVar[str | None] = None
    floor: ClassVar[bool] = False
    epoch_curve: ClassVar[bool] = True
    uses_features: ClassVar[bool] = False
    method: ClassVar[str] = ""
    predicts_ratings: ClassVar[bool]  # derived: Contest.RATING in contests
    hyperparameter_specs: ClassVar[Mapping[str, Hyperparameter]] = {}

    backend: str
    n_threads: int | None
    seed: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        contests = getattr(cls, "contests", ())
        named = "name" in vars(cls)  # a registrable contender, not a shared base class
        if not isinstance(contests, tuple) or (named and not contests):
            raise TypeError(f"{cls.__name__}.contests must be a non-empty tuple of Contest")
        for contest in contests:
            if not isinstance(contest, Contest):
                raise TypeError(f"{cls.__name__}.contests: {contest!r} is not a Contest")
        cls.predicts_ratings = Contest.RATING in contests

    # -- the contract ------------------------------------------------------------------------
    @classmethod
    def specs(cls) -> dict[str, Hyperparameter]:
        """The spec of each hyperparameter ``__init__`` takes (not the harness's settings).

        The class's own ``hyperparameter_specs`` (its bases' included), else ``COMMON_SPECS``;
        a hyperparameter declared in neither is absent (a test requires that none is).
        """
        declared = dict(COMMON_SPECS)
        for klass in reversed(cls.__mro__):
            declared.update(vars(klass).get("hyperparameter_specs", {}))
        names = inspect.signature(cls).parameters
        return {n: declared[n] for n in names if n in declared and n not in HARNESS_SETTINGS}

    @classmethod  # noqa: B027 (optional hook: by default every combination goes)
    def check_combination(cls, params: Mapping[str, Any]) -> None:
        """Refuse hyperparameters that are each valid but cannot train together (see above)."""

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        """``(True, "")`` when this model can run on ``backend`` here, else ``(False, why)``."""
        if backend not in cls.backends:
            return False, f"{cls.name} has no {backend!r} backend (has {', '.join(cls.backends)})"
        for requirement in cls.requirements:
            missing = requirement.missing()
            if missing:
                return False, missing
        return True, ""

    @classmethod
    def library_versions(cls) -> dict[str, str | None]:
        """The installed version of each of ``requirements`` (None where missing)."""
        return {r.distribution: r.version() for r in cls.requirements}

    @abstractmethod
    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        """Learn from ``train`` (see the class docstring)."""

    @abstractmethod
    def _score_items(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for each of ``users`` (see the class docstring)."""

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} ranks items; it does not predict ratings")

    def _state_arrays(self) -> list[np.ndarray]:
        return []

    def _prepare(self, train: Ratings) -> Any:
        return train

    def warm_up(self) -> None:  # noqa: B027 (optional hook, empty by default)
        """Pay one-off start-up costs now, outside the timed fit (default: none)."""

    def jvm_memory_mb(self) -> tuple[float, float] | None:
        """(idle, peak) resident MB of the JVM this model computes in; None: no JVM."""
        return None

    # -- what callers use ----------------------------------------------------------------------
    def fit(self, train: Ratings, *, on_epoch: EpochCallback | None = None) -> Model:
        """Train on ``train`` with ``n_threads`` threads; returns ``self``."""
        ok, reason = self.available(self.backend)
        if not ok:
            raise InputError(reason)
        self.n_users_, self.n_items_ = train.n_users, train.n_items
        self.global_mean_ = float(train.rating.mean(dtype=np.float64))
        self.rating_range_ = (float(train.rating.min()), float(train.rating.max()))
        # Cold: no training rating and nothing else to go on. A contender that uses side
        # features can score a user or item without ratings from its features.
        self.cold_users_ = ~train.users_seen() & ~self._described(train, "user_features")
        self.cold_items_ = ~train.items_seen() & ~self._described(train, "item_features")
        self.item_popularity_ = np.bincount(train.item, minlength=train.n_items).astype(np.float32)
        self.n_ratings_processed_ = 0
        self.epochs_run_ = 0
        # StopTraining: the callback ended training early, on purpose.
        with thread_limits(self.n_threads), contextlib.suppress(StopTraining):
            self._fit(train, on_epoch)
        self._prepared = None  # the converted copy is not needed any more
        for array in self._state_arrays():
            if not np.isfinite(array).all():
                raise ModelFitError(f"{self.name}: fitting produced NaN or infinite parameters")
        return self

    def prepare(self, train: Ratings) -> None:
        """Convert ``train`` to this model's input form ahead of ``fit(train)``."""
        with thread_limits(self.n_threads):
            self._prepared = (train, self._prepare(train))

    def _inputs(self, train: Ratings) -> Any:
        """``train`` in the model's input form: the prepared copy, or converted now."""
        prepared = getattr(self, "_prepared", None)
        if prepared is not None and prepared[0] is train:
            return prepared[1]
        return self._prepare(train)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings (float32) of the pairs ``(users[k], items[k])``."""
        if not self.predicts_ratings:
            raise InputError(f"{self.name} is a ranking model: it does not predict ratings")
        users, items = self._codes(users, "user"), self._codes(items, "item")
        if len(users) != len(items):
            raise InputError(f"{self.name}.predict: {len(users)} users but {len(items)} items")
        with thread_limits(self.n_threads):
            predicted = np.asarray(self._predict(users, items), dtype=np.float32)
        cold = self.cold_users_[users] | self.cold_items_[items]
        predicted[cold] = self.global_mean_
        return np.clip(predicted, *self.rating_range_, out=predicted)

    def score_items(self, users: np.ndarray) -> np.ndarray:
        """Scores (float32), ``len(users) × n_items``; higher means recommend first."""
        users = self._codes(users, "user")
        with thread_limits(self.n_threads):
            scores = np.asarray(self._score_items(users), dtype=np.float32)
        cold_users = self.cold_users_[users]
        if cold_users.any():
            scores[cold_users] = self.item_popularity_
        scores[:, self.cold_items_] = -np.inf
        return scores

    def _described(self, train: Ratings, side: str) -> np.ndarray:
        """Which codes of ``side`` this model can describe by features (none unless it uses
        them and the data has a non-empty feature row for the code)."""
        features = getattr(train, side) if self.uses_features else None
        size = train.n_users if side == "user_features" else train.n_items
        if features is None:
            return np.zeros(size, dtype=bool)
        return np.diff(features.matrix.indptr) > 0

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the learned state (attributes ending in ``_``, ``RUN_COUNTERS``
        aside), e.g. the best epoch's, to put back with ``restore``."""
        return {
            name: copy.deepcopy(value)
            for name, value in vars(self).items()
            if name.endswith("_") and name not in RUN_COUNTERS
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Put back a ``snapshot``."""
        for name, value in state.items():
            setattr(self, name, value)

    def params(self) -> dict[str, Any]:
        """The constructor arguments, as stored (what a results row records)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    # -- helpers for subclasses ------------------------------------------------------------------
    def _check_loss(self, epoch: int, loss: float) -> None:
        """Raise ``ModelFitError`` naming the model and epoch when ``loss`` is not finite."""
        if not np.isfinite(loss):
            raise ModelFitError(
                f"{self.name}: training loss became {loss} in epoch {epoch} "
                f"(params {self.params()}); try a smaller learning rate"
            )

    def _epoch_done(self, epoch: int, n_ratings: int, on_epoch: EpochCallback | None) -> None:
        """Book-keeping after an epoch: counters, then the caller's callback."""
        self.epochs_run_ = epoch
        self.n_ratings_processed_ += n_ratings
        if on_epoch is not None:
            on_epoch(epoch, self)

    def _codes(self, codes: np.ndarray, what: str) -> np.ndarray:
        if not hasattr(self, "n_users_"):
            raise InputError(f"{self.name}: call fit() before predicting")
        codes = np.asarray(codes)
        if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
            raise InputError(f"{self.name}: {what} codes must be a 1-d integer array")
        size = self.n_users_ if what == "user" else self.n_items_
        if len(codes) and (codes.min() < 0 or codes.max() >= size):
            bad = codes[(codes < 0) | (codes >= size)][0]
            raise InputError(f"{self.name}: unknown {what} code {bad} (trained on {size} {what}s)")
        return codes.astype(np.int64, copy=False)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
