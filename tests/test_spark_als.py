"""Spark MLlib's ALS adapters: the model Spark fits is the one documented, and the harness
keeps Spark's start-up out of fit time and sees its JVM's memory.

The contract, learning and wiring tests cover spark-als and spark-ials with every other
contender; without Java or pyspark they are skipped with the reason (as here).
"""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
from harness_helpers import config_file, ratings_file
from model_helpers import tiny_ratings

from baselines import spark_als
from suite import config, models, results, runner
from suite.data.feedback import positives
from suite.errors import InputError

AVAILABLE, WHY = models.get("spark-als").available()
needs_spark = pytest.mark.skipif(not AVAILABLE, reason=WHY)


def user_normal_equations(model, matrix, l2: float, alpha: float | None):
    """Each user's factors, solved from the item factors Spark returned (its last step is the
    user step) by the documented objective: ALS-WR's λ n_u, with Hu et al.'s confidences when
    ``alpha`` is given."""
    items, rank = model.item_factors_.astype(np.float64), model.factors
    solved = np.zeros_like(model.user_factors_, dtype=np.float64)
    for user in range(matrix.shape[0]):
        row = matrix.getrow(user)
        if not row.nnz:
            continue
        observed = items[row.indices]
        if alpha is None:  # explicit: Σ (r - p·q)² + λ n_u ‖p‖²
            gram = observed.T @ observed
            target = observed.T @ row.data
        else:  # implicit: Σ_all c (p_ui - p·q)², c = 1 + alpha on positives, 1 elsewhere
            gram = items.T @ items + alpha * observed.T @ observed
            target = (1 + alpha) * observed.sum(axis=0)
        solved[user] = np.linalg.solve(gram + l2 * row.nnz * np.eye(rank), target)
    return solved


@needs_spark
def test_spark_als_solves_the_weighted_lambda_least_squares() -> None:
    train = tiny_ratings(seed=1)
    model = models.create("spark-als", n_threads=1, factors=4, epochs=5, l2=0.1).fit(train)
    solved = user_normal_equations(model, train.to_csr(), l2=0.1, alpha=None)
    np.testing.assert_allclose(model.user_factors_, solved, rtol=1e-3, atol=1e-4)


@needs_spark
def test_spark_ials_solves_hu_et_al_on_the_positives() -> None:
    train = tiny_ratings(seed=1)
    model = models.create("spark-ials", n_threads=1, factors=4, epochs=5, l2=0.5, alpha=3.0)
    model.fit(train)
    solved = user_normal_equations(model, positives(train), l2=0.5, alpha=3.0)
    np.testing.assert_allclose(model.user_factors_, solved, rtol=1e-3, atol=1e-4)


@needs_spark
def test_prepared_data_is_released_after_the_fit() -> None:
    train = tiny_ratings()
    model = models.create("spark-als", n_threads=1, factors=4, epochs=2)
    model.prepare(train)
    staged = model._prepared[1]
    folder = staged.path.parent
    assert folder.is_dir() and staged.n_rows == len(train)
    model.warm_up()
    model.fit(train)
    assert not folder.exists() and staged.path is None


@needs_spark
def test_a_run_records_spark_start_up_as_warm_up_and_the_jvm_memory(tmp_path) -> None:
    spark = '[[models]]\nname = "spark-als"\nparams = { epochs = 3, factors = 4 }'
    grid = config.load_config(str(config_file(tmp_path, ratings_file(tmp_path), spark, "[0]")))
    out = runner.run_grid(grid, tmp_path / "run", in_process=True)
    (record,) = results.read_jsonl(out / results.RESULTS_FILE)
    assert record["status"] == "ok", record["reason"]
    assert record["warmup_s"] > 0 and record["prepare_s"] > 0 and np.isfinite(record["rmse"])
    assert record["peak_jvm_mb"] > 100  # a JVM's resident memory, not the Python process's
    assert np.isfinite(record["fit_rss_growth_mb"])


def test_spark_master_is_the_master_of_spark_contenders_only(tmp_path) -> None:
    data = ratings_file(tmp_path)
    models_text = '[[models]]\nname = "spark-als"\n[[models]]\nname = "numba-sgd"'
    path = config_file(tmp_path, data, models_text, seeds="[0]")
    path.write_text('spark_master = "spark://head:7077"\n' + path.read_text())
    grid = config.load_config(str(path))
    settings = {spec.name: grid.variants(grid.datasets[0], spec)[0][1] for spec in grid.models}
    assert settings["spark-als"]["master"] == "spark://head:7077"
    assert "master" not in settings["numba-sgd"]


def test_a_bad_driver_memory_is_refused_in_one_line() -> None:
    with pytest.raises(InputError, match=r"driver_memory='lots': must be a size such as '4g'"):
        models.create("spark-als", driver_memory="lots")


def test_without_java_the_contenders_are_skipped_with_the_reason(monkeypatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    spark_als._java_found.cache_clear()
    try:
        ok, reason = models.get("spark-ials").available()
    finally:
        spark_als._java_found.cache_clear()
    if importlib.util.find_spec("pyspark") is None:
        assert not ok and "pyspark is not installed" in reason
    else:
        assert not ok and reason.startswith("no Java runtime")


def test_without_pyspark_the_contenders_are_skipped_with_the_reason(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "pyspark" else real(name)
    )
    ok, reason = models.get("spark-als").available()
    assert not ok and reason == "pyspark is not installed (pip install 'mfbench[spark]')"
