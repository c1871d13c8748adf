"""Implicit feedback: the one definition of a positive interaction, shared by every ranking
contender and by the ranking metrics.

Ranking contenders (BPR, iALS, LightFM, implicit's models) learn from *which* items a user
liked, not from the rating. A rating is a positive when it is at least the data set's
``positive_threshold`` (default 4 on a 1-5 scale: "liked"); every other pair, rated lower
or unrated, is not. The same threshold makes a test item *relevant* for the ranking metrics
(``suite.metrics``), so a contender is trained on the very signal it is judged on.

The threshold is chosen per data set in the grid (``relevance_threshold`` of a
``[[datasets]]`` entry). The runner stores it in the training ratings' metadata
(``POSITIVE_THRESHOLD``) before any contender sees them; ratings without it (tests, the
Python API) use ``DEFAULT_POSITIVE_THRESHOLD``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from suite.data.ratings import Ratings

#: A rating at least this is a positive (and, in a test set, a relevant item).
DEFAULT_POSITIVE_THRESHOLD = 4.0

#: The metadata key of ``Ratings`` that holds the data set's threshold.
POSITIVE_THRESHOLD = "positive_threshold"


def positive_threshold(ratings: Ratings) -> float:
    """The threshold ``ratings`` were given (by the runner), else the default."""
    return float(ratings.metadata.get(POSITIVE_THRESHOLD, DEFAULT_POSITIVE_THRESHOLD))


def positives(ratings: Ratings) -> sp.csr_matrix:
    """Users × items CSR matrix (``float32``) with 1 at each positive pair and nothing else.

    A pair rated twice (which ``Ratings`` does not allow) would still count once.
    """
    keep = ratings.rating >= positive_threshold(ratings)
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (ratings.user[keep], ratings.item[keep])),
        shape=(ratings.n_users, ratings.n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
