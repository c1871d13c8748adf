"""Side features of users or items: one sparse matrix per side, one column per feature value.

LightFM's convention (Kula, "Metadata Embeddings for User and Item Cold-start
Recommendations", 2015): a user (or item) is represented by the sum of the embeddings of its
features. ``Features`` holds that input for one side: a CSR matrix whose row ``c`` describes
the user (or item) with code ``c`` of the ratings it belongs to, and the name of every column
(``"age=25-34"``, ``"genre=Comedy"``; an identity column is ``"id=<raw id>"``). Values are
weights, 1.0 for a categorical value; a row may be normalised to sum to 1 (``normalised``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from suite.errors import InputError


@dataclass(frozen=True)
class Features:
    """The features of one side (users or items), aligned to that side's codes.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        ``n_codes × n_features``, float32; row ``c`` holds the features of code ``c``.
    names : tuple of str
        One name per column, ``"attribute=value"``.
    """

    matrix: sp.csr_matrix
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "names", tuple(self.names))
        if matrix.shape[1] != len(self.names):
            raise InputError(f"features: {matrix.shape[1]} columns but {len(self.names)} names")
        if len(set(self.names)) != len(self.names):
            raise InputError("features: two columns share a name")
        if matrix.nnz and not np.isfinite(matrix.data).all():
            raise InputError("features: a weight is NaN or infinite")

    @property
    def n_rows(self) -> int:
        """How many codes (users or items) the matrix describes."""
        return self.matrix.shape[0]

    @property
    def n_features(self) -> int:
        """How many feature columns there are."""
        return self.matrix.shape[1]

    def with_identity(self, ids: np.ndarray | None = None) -> Features:
        """These features plus one identity column per code (``"id=<raw id>"``), first.

        LightFM's default: with identity features a model can learn a per-user (per-item)
        embedding besides what the attributes share; without them, rows with the same
        attributes are indistinguishable (what makes cold start possible).
        """
        ids = np.arange(self.n_rows) if ids is None else np.asarray(ids)
        identity = sp.identity(self.n_rows, dtype=np.float32, format="csr")
        return Features(
            sp.hstack([identity, self.matrix], format="csr"),
            (*(f"id={raw}" for raw in ids), *self.names),
        )

    def normalised(self) -> Features:
        """Each row scaled to sum to 1 (rows without features stay empty)."""
        sums = np.asarray(self.matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
        return Features(sp.diags(scale.astype(np.float32)) @ self.matrix, self.names)

    def rows(self, codes: np.ndarray) -> Features:
        """The features of ``codes`` only, in that order."""
        return Features(self.matrix[np.asarray(codes)], self.names)


def side_matrix(features: Features | None, n_rows: int, identity: bool = True) -> sp.csr_matrix:
    """The ``n_rows × n_columns`` float32 CSR matrix a hybrid model represents one side by.

    LightFM's convention (Kula 2015): the side's features as given (not normalised, as
    LightFM does not normalise), after one identity column per row when ``identity``
    (``Features.with_identity``). A side without features (``None``) is the identity alone,
    i.e. pure collaborative filtering on that side; without identity either, it is one
    constant column (every row the same: that side is not personalised at all).

    Raises
    ------
    InputError
        ``features`` describe another number of rows than ``n_rows``.
    """
    if features is not None and features.n_rows != n_rows:
        raise InputError(f"features describe {features.n_rows} rows, the ratings have {n_rows}")
    if features is None:
        if identity:
            return sp.identity(n_rows, dtype=np.float32, format="csr")
        return sp.csr_matrix(np.ones((n_rows, 1), dtype=np.float32))
    chosen = features.with_identity() if identity else features
    return sp.csr_matrix(chosen.matrix, dtype=np.float32)
