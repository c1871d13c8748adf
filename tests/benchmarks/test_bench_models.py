"""pytest-benchmark suite: one epoch, a short fit, prediction and top-k scoring per contender.

``make benchmark`` runs it for real and saves JSON (``mfbench report --pytest-benchmark``
turns that into a REPORT.md); ``make test`` runs it with ``--benchmark-disable``, once, as
tests. Every timed call ends with ``suite.measure.clock(backend)``, which waits for the GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bench_helpers import DATASETS, accuracy, model_backends, require, with_settings

from suite import metrics, models
from suite.measure import clock

ROUNDS, WARMUP_ROUNDS = 3, 1
ONE_EPOCH = {"epochs": 1, "max_ratings": 1_000}
SHORT_FIT = {"epochs": 3, "max_ratings": 1_000}

#: Models fitted by ``test_short_fit``, reused by the prediction and scoring benchmarks.
FITTED: dict[tuple[str, str, str], models.Model] = {}

pytestmark = [pytest.mark.parametrize("dataset", DATASETS), pytest.mark.slow]
backends = pytest.mark.parametrize(("name", "backend"), model_backends())


def bench_fit(benchmark, split_of, threads, dataset, name, backend, settings, kind) -> None:
    """Time ``fit`` on a fresh, prepared, warmed-up model per round (setup is not timed)."""
    require(name, backend)
    train, test = split_of(dataset)
    params = with_settings(name, settings)

    def setup() -> tuple[tuple[models.Model], dict[str, Any]]:
        model = models.create(name, backend=backend, n_threads=threads, seed=0, **params)
        model.prepare(train)
        model.warm_up()
        return (model,), {}

    def fit(model: models.Model) -> models.Model:
        model.fit(train)
        clock(backend)  # synchronise before the round's clock stops
        return model

    model = benchmark.pedantic(fit, setup=setup, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
    if kind == "fit":
        FITTED[(dataset, name, backend)] = model
    benchmark.extra_info.update(
        kind=kind,
        dataset=dataset,
        model=name,
        backend=backend,
        n_threads=threads,
        params=params,
        ratings=model.n_ratings_processed_,
        epochs=model.epochs_run_,
        **accuracy(model, train, test),
    )
    assert model.n_ratings_processed_ > 0


@backends
def test_one_epoch(benchmark, split_of, threads, dataset, name, backend) -> None:
    bench_fit(benchmark, split_of, threads, dataset, name, backend, ONE_EPOCH, "epoch")


@backends
def test_short_fit(benchmark, split_of, threads, dataset, name, backend) -> None:
    bench_fit(benchmark, split_of, threads, dataset, name, backend, SHORT_FIT, "fit")


@pytest.fixture(scope="module")
def fitted(split_of, threads) -> Any:
    def get(dataset: str, name: str, backend: str) -> models.Model:
        key = (dataset, name, backend)
        if key not in FITTED:  # test_short_fit did not run for it (deselected)
            params = with_settings(name, SHORT_FIT)
            model = models.create(name, backend=backend, n_threads=threads, seed=0, **params)
            FITTED[key] = model.fit(split_of(dataset)[0])
        return FITTED[key]

    return get


@backends
def test_predict_throughput(benchmark, fitted, split_of, threads, dataset, name, backend) -> None:
    require(name, backend)
    if not models.get(name).predicts_ratings:
        pytest.skip(f"{name} ranks items; it does not predict ratings")
    model, test = fitted(dataset, name, backend), split_of(dataset)[1]

    def predict() -> np.ndarray:
        predicted = model.predict(test.user, test.item)
        clock(backend)
        return predicted

    predicted = benchmark.pedantic(predict, rounds=ROUNDS * 2, warmup_rounds=WARMUP_ROUNDS)
    benchmark.extra_info.update(
        kind="predict",
        dataset=dataset,
        model=name,
        backend=backend,
        n_threads=threads,
        predictions=len(test),
        rmse=metrics.rmse(predicted, test.rating),
    )
    assert predicted.shape == (len(test),)


@backends
def test_top_k_throughput(benchmark, fitted, split_of, threads, dataset, name, backend) -> None:
    """Score every item for up to 1,000 test users and take each user's top 10."""
    require(name, backend)
    model = fitted(dataset, name, backend)
    users = np.unique(split_of(dataset)[1].user)[:1000]

    def top_k() -> np.ndarray:
        top = metrics.top_k(model.score_items(users), 10)
        clock(backend)
        return top

    top = benchmark.pedantic(top_k, rounds=ROUNDS * 2, warmup_rounds=WARMUP_ROUNDS)
    benchmark.extra_info.update(
        kind="score",
        dataset=dataset,
        model=name,
        backend=backend,
        n_threads=threads,
        users=len(users),
    )
    assert top.shape == (len(users), 10)
