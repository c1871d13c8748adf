"""Weighted matrix factorization of implicit feedback: its objective, and ALS in PyTorch.

The model of Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets"
(ICDM 2008) — the one implicit's ``AlternatingLeastSquares`` fits. With ``p_ui = 1`` at a
positive and 0 elsewhere, confidence ``c_ui = 1 + alpha`` at a positive and 1 elsewhere, it
minimises over user factors ``x_u`` and item factors ``y_i``::

    Σ_(u,i) c_ui (p_ui - x_u·y_i)² + l2 (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

over *all* users × items pairs. Both the objective and the solver use the Gramian trick
(Hu et al. §4; Rendle et al., "Revisiting the Performance of iALS on Item Recommendation
Benchmarks", RecSys 2022): the sum over all pairs of ``(x_u·y_i)²`` is
``⟨XᵀX, YᵀY⟩``, so only the positives need visiting one by one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

#: Gathered factor rows per batched solve at most (``batch × longest row``), to bound memory:
#: 2**20 rows of 64 float32 factors are 256 MiB.
MAX_GATHERED_ROWS = 1 << 20


class NotPositiveDefinite(ArithmeticError):
    """A system of a half-step could not be Cholesky-factorised (l2 too small for float32)."""


# -- the objective ----------------------------------------------------------------------------


def pairs_objective(
    user_factors: Any, item_factors: Any, rows: Any, cols: Any, alpha: float, l2: float
) -> float:
    """The objective, the positives given as index arrays; numpy arrays or torch tensors.

    ``Σ_all (x_u·y_i)²`` is ``⟨XᵀX, YᵀY⟩``; each positive then adds
    ``(1 + alpha)(1 - s)² - s²`` with ``s = x_u·y_i`` (its own term replaces the zero
    target's). Written only with operations numpy and torch share, so the model evaluates
    it on its device and ``wmf_objective`` in numpy: one formula for both.
    """
    x, y = user_factors, item_factors
    all_pairs = ((x.T @ x) * (y.T @ y)).sum()
    scores = (x[rows] * y[cols]).sum(1)
    positives = ((1 + alpha) * (1 - scores) ** 2 - scores**2).sum()
    penalty = l2 * ((x**2).sum() + (y**2).sum())
    return float(all_pairs + positives + penalty)


def wmf_objective(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    positives: sp.csr_matrix,
    alpha: float,
    l2: float,
) -> float:
    """The objective above, in float64, of factors ``X`` (users × k) and ``Y`` (items × k).

    ``positives`` is the users × items matrix of positives (``suite.data.feedback``); only
    where it stores an entry counts, not the entry's value.
    """
    coo = positives.tocoo()
    x = np.asarray(user_factors, dtype=np.float64)
    y = np.asarray(item_factors, dtype=np.float64)
    return pairs_objective(x, y, coo.row, coo.col, alpha, l2)


# -- the solver -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowBatch:
    """Rows solved together: their ids and, padded, the columns where each has a positive.

    ``columns`` is ``len(rows) × m`` (``m`` the batch's longest row); padding points at one
    past the last column, where the solver keeps a row of zeros.
    """

    rows: torch.Tensor
    columns: torch.Tensor


def plan_batches(
    matrix: sp.csr_matrix, batch: int, device: str, max_gathered: int = MAX_GATHERED_ROWS
) -> list[RowBatch]:
    """The rows of ``matrix`` that have a positive, in batches of at most ``batch`` rows.

    Rows are sorted by their number of positives so that a batch's rows are about as long
    and padding wastes little; a batch also stops before ``rows × m`` passes
    ``max_gathered``. Rows without a positive are left out: their solution is zero.
    """
    counts = np.diff(matrix.indptr)
    order = np.flatnonzero(counts)
    order = order[np.argsort(counts[order], kind="stable")]
    batches, start = [], 0
    while start < len(order):
        end = min(start + batch, len(order))
        while end - start > 1 and (end - start) * counts[order[end - 1]] > max_gathered:
            end = start + max(1, max_gathered // counts[order[end - 1]])
        batches.append(_padded(matrix, order[start:end], device))
        start = end
    return batches


def _padded(matrix: sp.csr_matrix, rows: np.ndarray, device: str) -> RowBatch:
    """The batch of ``rows``: each row's columns, left-aligned, padded with ``n_cols``."""
    counts = np.diff(matrix.indptr)[rows]
    columns = np.full((len(rows), counts.max()), matrix.shape[1], dtype=np.int64)
    slot = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    source = np.repeat(matrix.indptr[rows], counts) + slot  # where each entry is stored
    columns[np.repeat(np.arange(len(rows)), counts), slot] = matrix.indices[source]
    return RowBatch(
        torch.from_numpy(rows.astype(np.int64)).to(device), torch.from_numpy(columns).to(device)
    )


def solve_rows(
    fixed: torch.Tensor, batches: list[RowBatch], n_rows: int, alpha: float, l2: float
) -> torch.Tensor:
    """One ALS half-step: the exact minimiser of the objective over one side's factors.

    With the other side's factors ``Y`` (``fixed``) held, row ``u`` with positives ``I_u``
    solves ``(YᵀY + alpha·Y_Iuᵀ Y_Iu + l2·I) x_u = (1 + alpha) Σ_{i∈I_u} y_i`` — Hu et al.'s
    eq. 4 with ``YᵀC_uY = YᵀY + Yᵀ(C_u - I)Y``. Each batch gathers its rows' padded
    ``Y_Iu`` (``B × m × k``), adds the Gramian by one batched matrix product and solves by
    batched Cholesky. Rows without a positive get zeros (their exact solution).

    Raises
    ------
    NotPositiveDefinite
        Some system could not be factorised.
    """
    k = fixed.shape[1]
    gram = fixed.T @ fixed + l2 * torch.eye(k, dtype=fixed.dtype, device=fixed.device)
    padded = torch.cat([fixed, fixed.new_zeros(1, k)])  # the row padding points at
    solution = fixed.new_zeros(n_rows, k)
    failed = torch.zeros((), dtype=torch.bool, device=fixed.device)
    for part in batches:
        observed = padded[part.columns]  # B × m × k
        systems = torch.baddbmm(gram, observed.transpose(1, 2), observed, alpha=alpha)
        targets = observed.sum(1, keepdim=True).transpose(1, 2).mul_(1 + alpha)  # B × k × 1
        factor, info = torch.linalg.cholesky_ex(systems)
        failed |= (info != 0).any()
        solution[part.rows] = torch.cholesky_solve(targets, factor).squeeze(-1)
    if bool(failed):
        raise NotPositiveDefinite("a least-squares system is not positive definite")
    return solution


@dataclass(frozen=True)
class Pairs:
    """The positives of one side as a sparse CSR matrix of ones (rows = the side being
    solved, columns = the fixed side): what ``cg_rows`` multiplies by."""

    matrix: torch.Tensor  # sparse CSR, n_rows × n_columns, float32 ones
    has_positive: torch.Tensor  # bool per row


def pairs_of(matrix: sp.csr_matrix, device: str) -> Pairs:
    """``matrix``'s pattern (rows = the side to solve) as a CSR tensor of ones on ``device``."""
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.filterwarnings("ignore", "Sparse", UserWarning)
        pattern = torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.ones(matrix.nnz, dtype=torch.float32),
            size=matrix.shape,
            check_invariants=True,
        )
    return Pairs(pattern.to(device), torch.from_numpy(np.diff(matrix.indptr) > 0).to(device))


def pattern_objective(
    user_factors: torch.Tensor, item_factors: torch.Tensor, users: Pairs, alpha: float, l2: float
) -> float:
    """The objective on the device, the positives given as the users' ``Pairs``: the same
    formula as ``pairs_objective``, each positive's score taken by a sampled product (no
    gathered rows), the sums in float64."""
    x, y = user_factors, item_factors
    all_pairs = ((x.T @ x).double() * (y.T @ y).double()).sum()
    scores = torch.sparse.sampled_addmm(users.matrix, x, y.T.contiguous(), beta=0.0).values()
    scores = scores.double()
    positives = ((1 + alpha) * (1 - scores) ** 2 - scores**2).sum()
    penalty = l2 * ((x.double() ** 2).sum() + (y.double() ** 2).sum())
    return float(all_pairs + positives + penalty)


def cg_rows(
    fixed: torch.Tensor,
    pairs: Pairs,
    start: torch.Tensor,
    alpha: float,
    l2: float,
    steps: int,
) -> torch.Tensor:
    """One ALS half-step by ``steps`` conjugate-gradient steps per row, from ``start``.

    The same systems as ``solve_rows`` — ``A_u x_u = b_u`` with
    ``A_u = YᵀY + l2·I + alpha·Y_IuᵀY_Iu`` and ``b_u = (1 + alpha) Σ_{i∈I_u} y_i`` — solved
    approximately, as implicit does (Takács, Pilászy & Tikk, "Applications of the conjugate
    gradient method for implicit feedback collaborative filtering", RecSys 2011): a step needs
    ``A_u p`` only, ``YᵀY p`` for all rows in one product plus ``alpha·Y_Iuᵀ(Y_Iu p)``, which
    is ``S Y`` for the sparse ``S = pattern ⊙ (P Yᵀ)`` (a sampled dense product on the
    positives only, ``torch.sparse.sampled_addmm``), so no ``k × k`` system is formed per row
    and nothing of the size positives × k is gathered; warm-started from the previous sweep's
    factors (``start``), a few steps suffice. Each step lowers every row's quadratic, so the
    objective does not increase. Rows without a positive get zeros (their exact solution).
    """
    k = fixed.shape[1]
    gram = fixed.T @ fixed + l2 * torch.eye(k, dtype=fixed.dtype, device=fixed.device)
    pattern, transposed = pairs.matrix, fixed.T.contiguous()

    def product(vectors: torch.Tensor) -> torch.Tensor:
        along = torch.sparse.sampled_addmm(pattern, vectors, transposed, beta=0.0)
        return vectors @ gram + alpha * (along @ fixed)

    x = start * pairs.has_positive[:, None]
    residual = (1 + alpha) * (pattern @ fixed) - product(x)
    direction = residual.clone()
    norms = (residual * residual).sum(1)
    for _ in range(steps):
        applied = product(direction)
        curvature = (direction * applied).sum(1)
        step = torch.where(curvature > 0, norms / curvature, torch.zeros_like(norms))
        x = x + step[:, None] * direction
        residual = residual - step[:, None] * applied
        new_norms = (residual * residual).sum(1)
        ratio = torch.where(norms > 0, new_norms / norms, torch.zeros_like(norms))
        direction = residual + ratio[:, None] * direction
        norms = new_norms
    return x * pairs.has_positive[:, None]
