"""torch-ials fits implicit's model: the same objective, the same factors, never uphill."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from model_helpers import tiny_ratings
from threadpoolctl import threadpool_limits

from suite import models
from suite.data import feedback
from suite.errors import InputError
from suite.models.torch import wmf

N_USERS, N_ITEMS, K, ALPHA, L2, SWEEPS = 60, 40, 5, 3.0, 0.1, 10


@pytest.fixture(scope="module")
def positives() -> sp.csr_matrix:
    """A random 60 × 40 implicit data set: 15% of the pairs are positives."""
    matrix = sp.random(
        N_USERS, N_ITEMS, density=0.15, random_state=1, format="csr", dtype=np.float32
    )
    matrix.data[:] = 1.0
    return matrix


@pytest.fixture(scope="module")
def start() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    users = rng.normal(0, 0.1, (N_USERS, K)).astype(np.float32)
    return users, rng.normal(0, 0.1, (N_ITEMS, K)).astype(np.float32)


def implicit_als(positives: sp.csr_matrix, start: tuple[np.ndarray, np.ndarray]):
    """implicit's exact (Cholesky) ALS on ``positives`` from the factors ``start``.

    implicit 0.7 reads each stored value as the confidence ``c`` itself (``YᵀY + Σ (c - 1)
    y yᵀ`` and ``Σ c y``, after multiplying by its own ``alpha``), so it gets ``1 + ALPHA``
    and ``alpha=1``. It starts from ``user_factors``/``item_factors`` when they are set.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    confidence = positives.copy()
    confidence.data[:] = 1.0 + ALPHA
    with threadpool_limits(limits=1, user_api="blas"):  # as implicit asks
        model = AlternatingLeastSquares(
            factors=K, regularization=L2, alpha=1.0, use_cg=False, iterations=SWEEPS, num_threads=1
        )
        model.user_factors, model.item_factors = start[0].copy(), start[1].copy()
        model.fit(confidence, show_progress=False)
    return model


def torch_als(positives: sp.csr_matrix, items: np.ndarray, batch_size: int = 16):
    """``SWEEPS`` sweeps of ``wmf.solve_rows``; the objective after every half-step."""
    by_user = wmf.plan_batches(positives, batch_size, "cpu")
    by_item = wmf.plan_batches(positives.T.tocsr(), batch_size, "cpu")
    item_factors = torch.from_numpy(items.copy())
    history = []
    for _ in range(SWEEPS):
        user_factors = wmf.solve_rows(item_factors, by_user, N_USERS, ALPHA, L2)
        history.append(wmf.wmf_objective(user_factors, item_factors, positives, ALPHA, L2))
        item_factors = wmf.solve_rows(user_factors, by_item, N_ITEMS, ALPHA, L2)
        history.append(wmf.wmf_objective(user_factors, item_factors, positives, ALPHA, L2))
    return user_factors.numpy(), item_factors.numpy(), history


def test_objective_is_the_sum_over_every_pair(positives) -> None:
    rng = np.random.default_rng(5)
    users, items = rng.normal(size=(N_USERS, K)), rng.normal(size=(N_ITEMS, K))
    target = positives.toarray()
    weight = 1.0 + ALPHA * target
    by_pair = (weight * (target - users @ items.T) ** 2).sum()
    by_pair += L2 * ((users**2).sum() + (items**2).sum())
    assert wmf.wmf_objective(users, items, positives, ALPHA, L2) == pytest.approx(by_pair)


def test_implicit_reaches_the_same_objective_and_factors(positives, start) -> None:
    theirs = implicit_als(positives, start)
    users, items, history = torch_als(positives, start[1])
    objective = wmf.wmf_objective(theirs.user_factors, theirs.item_factors, positives, ALPHA, L2)
    assert history[-1] == pytest.approx(objective, rel=1e-3)
    np.testing.assert_allclose(users, theirs.user_factors, atol=1e-4)
    np.testing.assert_allclose(items, theirs.item_factors, atol=1e-4)


def test_objective_is_implicits_training_loss_unnormalised(positives, start) -> None:
    """implicit divides its loss by ``Σ c + (pairs - positives)``; otherwise the same."""
    from implicit.cpu import _als

    theirs = implicit_als(positives, start)
    confidence = positives.copy()
    confidence.data[:] = 1.0 + ALPHA
    loss = _als.calculate_loss(
        confidence, theirs.user_factors, theirs.item_factors, L2, num_threads=1
    )
    scale = confidence.data.sum() + N_USERS * N_ITEMS - positives.nnz
    objective = wmf.wmf_objective(theirs.user_factors, theirs.item_factors, positives, ALPHA, L2)
    assert loss * scale == pytest.approx(objective, rel=1e-5)


def test_no_half_step_increases_the_objective(positives, start) -> None:
    _, _, history = torch_als(positives, start[1])
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in pairwise(history))
    assert history[-1] < 0.5 * history[0]


def test_batch_size_does_not_change_the_solution(positives, start) -> None:
    one_by_one = torch_als(positives, start[1], batch_size=1)
    all_at_once = torch_als(positives, start[1], batch_size=N_ITEMS + N_USERS)
    for mine, theirs in zip(one_by_one[:2], all_at_once[:2], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_gathering_cap_splits_batches_and_keeps_every_positive(positives) -> None:
    batches = wmf.plan_batches(positives, 64, "cpu", max_gathered=20)
    assert len(batches) > 1 and all(part.columns.numel() <= 20 for part in batches)
    rows = torch.cat([part.rows for part in batches]).numpy()
    has_positive = np.flatnonzero(np.diff(positives.indptr))
    np.testing.assert_array_equal(np.sort(rows), has_positive)
    found = sorted(
        (int(row), int(col))
        for part in batches
        for row, cols in zip(part.rows, part.columns, strict=True)
        for col in cols
        if col < N_ITEMS
    )
    coo = positives.tocoo()
    assert found == sorted(zip(coo.row.tolist(), coo.col.tolist(), strict=True))


def test_model_records_its_objective_each_sweep() -> None:
    train = tiny_ratings()
    model = models.create("torch-ials", factors=4, epochs=4, l2=0.5, n_threads=1).fit(train)
    assert len(model.loss_history_) == 4
    assert all(b <= a * (1 + 1e-6) for a, b in pairwise(model.loss_history_))
    final = wmf.wmf_objective(
        model.user_factors_.numpy(),
        model.item_factors_.numpy(),
        feedback.positives(train),
        model.alpha,
        model.l2,
    )
    assert model.loss_history_[-1] == pytest.approx(final, rel=1e-5)
    assert model.n_ratings_processed_ == 4 * feedback.positives(train).nnz


def test_l2_must_be_positive() -> None:
    with pytest.raises(InputError, match=r"torch-ials.l2=0.0: must be a number > 0"):
        models.create("torch-ials", l2=0.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_fits_what_the_cpu_fits() -> None:
    train = tiny_ratings()
    params = {"factors": 8, "epochs": 5, "l2": 0.5, "n_threads": 1, "seed": 2}
    on_cpu = models.create("torch-ials", **params).fit(train)
    on_cuda = models.create("torch-ials", backend="cuda", **params).fit(train)
    np.testing.assert_allclose(on_cuda.loss_history_, on_cpu.loss_history_, rtol=1e-4)
    users = np.arange(train.n_users)
    np.testing.assert_allclose(
        on_cuda.score_items(users), on_cpu.score_items(users), rtol=1e-3, atol=1e-4
    )


def test_conjugate_gradient_converges_to_the_exact_solution(positives) -> None:
    """Run to k steps (CG's exact answer in exact arithmetic) it solves every row's system."""
    rng = np.random.default_rng(4)
    items = torch.from_numpy(rng.normal(0, 0.3, (N_ITEMS, K)).astype(np.float32))
    exact = wmf.solve_rows(items, wmf.plan_batches(positives, 16, "cpu"), N_USERS, ALPHA, L2)
    start = torch.zeros(N_USERS, K)
    pairs = wmf.pairs_of(positives, "cpu")
    by_cg = wmf.cg_rows(items, pairs, start, ALPHA, L2, steps=3 * K)
    np.testing.assert_allclose(by_cg.numpy(), exact.numpy(), rtol=1e-3, atol=1e-4)


def test_a_few_warm_started_cg_steps_never_raise_the_objective() -> None:
    train = tiny_ratings()
    model = models.create("torch-ials", factors=4, epochs=6, l2=0.5, n_threads=1, cg_steps=2)
    model.fit(train)
    assert model.solver == "cg"
    assert all(b <= a * (1 + 1e-6) for a, b in pairwise(model.loss_history_))
    exact = models.create("torch-ials", factors=4, epochs=6, l2=0.5, n_threads=1)
    exact.solver = "cholesky"
    exact.fit(train)
    assert model.loss_history_[-1] == pytest.approx(exact.loss_history_[-1], rel=0.05)
