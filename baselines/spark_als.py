"""Spark MLlib's ALS: explicit ratings (``spark-als``) and implicit feedback (``spark-ials``).

Spark runs in a JVM beside Python, and its one-off costs stay out of ``fit_s``: ``prepare``
stages the training triples where Spark reads them fast (``_Staged``: ``prepare_s``);
``warm_up`` starts (or joins) this process's ``SparkSession``, loads them into Spark's cache
and fits one throwaway ALS iteration on them, so that the JIT compiler has seen ALS's code
(``warmup_s``). ``fit`` then times ``ALS.fit`` and the copy of the factors back into numpy.
Spark's memory is the JVM's, which the Python process's RSS misses: ``jvm_memory_mb`` reads
it from ``/proc`` (local master only).

By default Spark runs in this process's JVM as ``local[n_threads]`` with as many user and
item blocks as threads (with 2 threads, 2 blocks fitted ML-100K's 80k training ratings in
3.6 s warm against 4.5 s with Spark's default 10). ``master`` (or the grid option
``spark_master``) points it at a cluster instead: ``spark://HOST:7077``, ``yarn``,
``k8s://...``; ``blocks`` then sets the partitioning.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from suite.data.feedback import positive_threshold, positives
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.measure import process_rss_mb
from suite.models.base import Contest, EpochCallback, Hyperparameter, Model, Requirement
from suite.threads import resolve_threads

#: Spark's log level: its INFO and WARN lines (stage progress, native BLAS not found) would
#: bury the harness's output.
LOG_LEVEL = "ERROR"

#: Log4j 2 settings of the JVM from its start (``setLogLevel`` comes only after the start-up
#: lines): errors only, on stderr.
LOG4J2_PROPERTIES = f"""\
rootLogger.level = {LOG_LEVEL.lower()}
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n
"""

#: The throwaway fit of ``warm_up``: this many random ratings.
WARM_UP_RATINGS = 20_000

#: Resident MB of this process's JVM when its first session had just started (see
#: ``_SparkALS.jvm_memory_mb``).
_JVM_IDLE_MB: dict[int, float] = {}


@functools.cache
def _log4j2_file() -> str:
    """A file holding ``LOG4J2_PROPERTIES``, written once per process."""
    path = Path(tempfile.mkdtemp(prefix="mfbench-spark-log-")) / "log4j2.properties"
    path.write_text(LOG4J2_PROPERTIES)
    return str(path)


@functools.cache
def _java_found() -> str:
    """Why Spark cannot run here ("" when Java is on the PATH or JAVA_HOME is set)."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return ""
    return "no Java runtime (Spark needs Java 17 or later on the PATH or JAVA_HOME)"


def java_version() -> str | None:
    """The version the Java runtime on the PATH (or in JAVA_HOME) reports, e.g. "17.0.15"."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None:
        return None
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "([^"]+)"', done.stderr + done.stdout)
    return found.group(1) if found else None


#: Where a local Spark driver listens: this machine only.
LOOPBACK = "127.0.0.1"


def session(master: str, driver_memory: str) -> Any:
    """This process's SparkSession on ``master``, started if need be (quiet, no UI).

    A running session on another master is stopped and a new one started in the same JVM;
    ``driver_memory`` takes effect only when the JVM starts (the first session). On a
    ``local`` master the driver listens on the loopback address only (``LOOPBACK``): its ports
    are for this process, and Spark's authentication is off by default. On a cluster they
    must be reachable by the executors; turn on Spark's authentication and encryption there
    (the README says how).
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and active.sparkContext.master != master:
        active.stop()
    builder = SparkSession.builder.master(master)
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", LOOPBACK).config(
            "spark.driver.bindAddress", LOOPBACK
        )
    with warnings.catch_warnings():  # PySpark 4.3 warns that pandas >= 3 is not yet supported
        warnings.simplefilter("ignore", FutureWarning)
        spark = (
            builder.appName("mfbench")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", driver_memory)
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_log4j2_file()}")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    spark.sparkContext.setLogLevel(LOG_LEVEL)
    pid = jvm_pid(spark)
    if pid is not None and pid not in _JVM_IDLE_MB:
        _JVM_IDLE_MB[pid] = process_rss_mb(pid)[0]
    if master.startswith("local") and not spark.sparkContext.getCheckpointDir():
        # Long ALS runs need checkpoints, or the lineage of 20+ iterations overflows the stack.
        spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="mfbench-spark-"))
    return spark


def jvm_pid(spark: Any) -> int | None:
    """The process id of the JVM that PySpark started (None when it joined an existing one)."""
    process = getattr(spark.sparkContext._gateway, "proc", None)
    return process.pid if process is not None else None


class _Staged:
    """Training triples staged for Spark: a Parquet file (local master) or an Arrow table.

    ``of`` does the Python side of the conversion (``prepare_s``); ``frame`` loads them into
    a cached Spark DataFrame once (in ``warm_up``, with the session); ``release`` drops the
    cache and the file. On a local master, Spark reads a Parquet file much faster than rows
    sent through ``createDataFrame``; a cluster's executors may not see this machine's disk,
    so there the table goes through the driver.
    """

    def __init__(self, n_rows: int, table: Any = None, path: Path | None = None) -> None:
        self.n_rows, self.table, self.path = n_rows, table, path  # a table or a file
        self._frame: Any = None

    @classmethod
    def of(
        cls, users: np.ndarray, items: np.ndarray, values: np.ndarray, *, local: bool
    ) -> _Staged:
        """The (user, item, rating) columns, written to a temporary Parquet file if ``local``."""
        import pyarrow as pa

        table = pa.table(
            {
                "user": np.asarray(users, dtype=np.int32),
                "item": np.asarray(items, dtype=np.int32),
                "rating": np.asarray(values, dtype=np.float32),
            }
        )
        if not local:
            return cls(table.num_rows, table=table)
        import pyarrow.parquet as pq

        path = Path(tempfile.mkdtemp(prefix="mfbench-spark-")) / "ratings.parquet"
        pq.write_table(table, path)
        return cls(table.num_rows, path=path)

    def frame(self, session: Callable[[], Any]) -> Any:
        """The cached DataFrame, loaded on the first call in the SparkSession ``session()``
        gives (only then: a timed fit of data ``warm_up`` loaded asks Spark for nothing)."""
        if self._frame is None:
            spark = session()
            if self.path is not None:
                frame = spark.read.parquet(str(self.path))
            else:
                frame = spark.createDataFrame(self.table)
            self._frame = frame.cache()
            self._frame.count()  # materialise the cache now, not inside the timed fit
        return self._frame

    def release(self) -> None:
        """Drop the cached DataFrame and the Parquet file."""
        if self._frame is not None:
            self._frame.unpersist()
            self._frame = None
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
        self.table = self.path = None


class _SparkALS(Model):
    """What the two Spark adapters share: the session, the data, the fit and the factors.

    A subclass says what Spark trains on (``_triples``) and how ALS is configured beyond the
    shared settings (``_settings``).
    """

    backends: ClassVar[tuple[str, ...]] = ("cpu",)
    requirements = (
        Requirement("pyspark", install="pip install 'mfbench[spark]'"),
        Requirement("pyarrow", install="pip install 'mfbench[spark]'"),
    )
    method = "als"
    epoch_curve = False  # ALS.fit runs every iteration in one call: no state in between
    hyperparameter_specs: ClassVar = {
        "blocks": Hyperparameter(int, low=1, optional=True),
        "master": Hyperparameter(str, optional=True),
        "driver_memory": Hyperparameter(str),
        # Spark scales regParam by each row's rating count (ALS-WR): a smaller range.
        "l2": Hyperparameter(float, low=0, search=(1e-3, 1.0), log=True),
        "epochs": Hyperparameter(int, low=1, search=(5, 40), log=True),
    }

    factors: int
    epochs: int
    l2: float
    blocks: int | None
    master: str | None
    driver_memory: str

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        ok, reason = super().available(backend)
        if not ok:
            return ok, reason
        reason = _java_found()
        return not reason, reason

    @classmethod
    def library_versions(cls) -> dict[str, str | None]:
        """pyspark's and pyarrow's versions, and the Java runtime's that Spark runs on."""
        return {**super().library_versions(), "java": java_version()}

    @classmethod
    def check_combination(cls, params: dict[str, Any]) -> None:
        memory = str(params["driver_memory"])
        if not (memory[:-1].isdigit() and memory[-1].lower() in "kmgt"):
            raise InputError(f"driver_memory={memory!r}: must be a size such as '4g' or '512m'")

    def _master(self) -> str:
        return self.master or f"local[{resolve_threads(self.n_threads)}]"

    def _blocks(self) -> int:
        return self.blocks or resolve_threads(self.n_threads)

    def _session(self) -> Any:
        return session(self._master(), self.driver_memory)

    def _als(self, **overrides: Any) -> Any:
        from pyspark.ml.recommendation import ALS

        settings = {
            "rank": self.factors,
            "maxIter": self.epochs,
            "regParam": self.l2,
            "numUserBlocks": self._blocks(),
            "numItemBlocks": self._blocks(),
            "seed": self.seed,
            "userCol": "user",
            "itemCol": "item",
            "ratingCol": "rating",
            **self._settings(),
            **overrides,
        }
        return ALS(**settings)

    def _settings(self) -> dict[str, Any]:
        """ALS settings of this adapter beyond the shared ones."""
        return {}

    def _triples(self, train: Ratings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(users, items, values) Spark trains on."""
        return train.user, train.item, train.rating

    def _prepare(self, train: Ratings) -> _Staged:
        return _Staged.of(*self._triples(train), local=self._master().startswith("local"))

    def warm_up(self) -> None:
        """Start the session, load the prepared data into Spark's cache and fit on it once
        (one iteration, thrown away) so the JIT has compiled ALS: all outside ``fit_s``.

        Without prepared data (a bare ``fit`` follows) the throwaway fit runs on random
        ratings instead.
        """
        prepared = getattr(self, "_prepared", None)
        if prepared is not None:
            staged = prepared[1]
        else:
            rng = np.random.default_rng(self.seed)
            users, items = rng.integers(0, 500, (2, WARM_UP_RATINGS))
            staged = _Staged.of(users, items, rng.integers(1, 6, WARM_UP_RATINGS), local=True)
        frame = staged.frame(self._session)  # the session first: ALS is a JVM object
        self._als(maxIter=1).fit(frame)
        if prepared is None:
            staged.release()

    def _fit(self, train: Ratings, on_epoch: EpochCallback | None) -> None:
        staged = self._inputs(train)
        frame = staged.frame(self._session)
        fitted = self._als().fit(frame)
        self.user_factors_ = _dense(fitted.userFactors, train.n_users, self.factors)
        self.item_factors_ = _dense(fitted.itemFactors, train.n_items, self.factors)
        staged.release()
        for epoch in range(1, self.epochs + 1):  # counters right; the curve is off
            self._epoch_done(epoch, staged.n_rows, on_epoch)

    def jvm_memory_mb(self) -> tuple[float, float] | None:
        """(idle, peak) resident MB of the JVM Spark runs in: when its session had just
        started, and the most since; None if PySpark did not start it here (a cluster's
        executors are elsewhere: their memory is not seen)."""
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        pid = jvm_pid(active) if active is not None else None
        if pid is None or pid not in _JVM_IDLE_MB or not Path(f"/proc/{pid}").exists():
            return None
        return _JVM_IDLE_MB[pid], process_rss_mb(pid)[1]

    def _score_items(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _state_arrays(self) -> list[np.ndarray]:
        return [self.user_factors_, self.item_factors_]


def _dense(factors: Any, n_rows: int, rank: int) -> np.ndarray:
    """Spark's (id, features) factor DataFrame as an ``n_rows × rank`` float32 array (rows
    of ids Spark never saw stay 0)."""
    table = factors.toArrow()
    ids = table.column("id").to_numpy()
    values = table.column("features").combine_chunks().flatten().to_numpy()
    dense = np.zeros((n_rows, rank), dtype=np.float32)
    dense[ids] = values.reshape(len(ids), rank)
    return dense


class SparkALS(_SparkALS):
    """Spark MLlib's explicit-feedback ALS (``spark-als``), a rating model.

    ``r̂ = p_u · q_i`` (no biases), fitted by alternating least squares on
    ``Σ (r - r̂)² + λ (Σ_u n_u ‖p_u‖² + Σ_i n_i ‖q_i‖²)``: the weighted-λ regularisation of
    Zhou, Wilkinson, Schreiber & Pan, "Large-scale Parallel Collaborative Filtering for the
    Netflix Prize" (AAIM 2008), Spark's blocked implementation (``pyspark.ml.recommendation.
    ALS``, ``implicitPrefs=False``).

    Parameters
    ----------
    factors : int
        Latent dimension (Spark's ``rank``).
    epochs : int
        Alternations of a user and an item step (Spark's ``maxIter``).
    l2 : float
        λ (Spark's ``regParam``), scaled by each user's and item's rating count.
    blocks : int, optional
        User and item blocks (``numUserBlocks``/``numItemBlocks``); None: one per thread.
    master : str, optional
        Spark master URL; None: ``local[n_threads]``, in this process's JVM.
    driver_memory : str
        ``spark.driver.memory`` (with a local master, all of Spark's memory); it applies when
        the JVM starts, i.e. to the first session of a process.
    backend, n_threads, seed
        CPU; Spark's local threads (and default blocks); ALS's ``seed`` (initialisation).

    The defaults are Spark's own (rank 10, 10 iterations, ``regParam=0.1``).
    """

    name = "spark-als"
    contests = (Contest.RATING,)

    def __init__(
        self,
        *,
        factors: int = 10,
        epochs: int = 10,
        l2: float = 0.1,
        blocks: int | None = None,
        master: str | None = None,
        driver_memory: str = "4g",
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.blocks = blocks
        self.master = master
        self.driver_memory = driver_memory
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])


class SparkIALS(_SparkALS):
    """Spark MLlib's implicit-feedback ALS (``spark-ials``), a ranking model.

    Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM
    2008), as Spark implements it (``implicitPrefs=True``): preference 1 for a positive
    (``suite.data.feedback``: the same positives every ranking contender learns from), 0 for
    every other pair, with confidence ``1 + alpha`` on a positive and 1 elsewhere — the model
    of ``implicit-als`` and ``torch-ials``, except that Spark scales λ by each user's and
    item's positive count (ALS-WR), where they do not.

    Parameters
    ----------
    factors : int
        Latent dimension (Spark's ``rank``).
    epochs : int
        Alternations of a user and an item step (Spark's ``maxIter``).
    l2 : float
        λ (Spark's ``regParam``), scaled by each row's positive count.
    alpha : float
        Extra confidence of a positive over an unobserved pair (Spark's ``alpha``).
    blocks, master, driver_memory, backend, n_threads, seed
        As for ``spark-als``.

    The defaults are ``implicit-als``'s (64 factors, 15 sweeps, ``alpha=2``) but for λ, on
    Spark's count-scaled scale: on the planted sets of ``tests/test_defaults_at_scale.py``
    ``l2=1`` reaches 2.3 and 2.2 times popularity's NDCG@10 with 10^4 and 10^5 ratings, where
    Spark's own 0.1 under-regularises (1.6 and 2.0 at 0.3) and 3 over-regularises (0.8, 0.5).
    """

    name = "spark-ials"
    contests = (Contest.RANKING,)
    hyperparameter_specs: ClassVar = {
        "alpha": Hyperparameter(float, low=0, search=(0.1, 100.0), log=True),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 15,
        l2: float = 1.0,
        alpha: float = 2.0,
        blocks: int | None = None,
        master: str | None = None,
        driver_memory: str = "4g",
        backend: str = "cpu",
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.l2 = l2
        self.alpha = alpha
        self.blocks = blocks
        self.master = master
        self.driver_memory = driver_memory
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _settings(self) -> dict[str, Any]:
        return {"implicitPrefs": True, "alpha": self.alpha}

    def _triples(self, train: Ratings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        liked = positives(train).tocoo()
        if not liked.nnz:
            raise InputError(
                f"{self.name}: no positive training rating (none >= {positive_threshold(train):g})"
            )
        return liked.row, liked.col, np.ones(liked.nnz, dtype=np.float32)
