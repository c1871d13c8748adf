"""The implicit and LightFM adapters: what they learn from, and that they score as the library.

The shared contract, learning and hyperparameter tests cover them with every contender; these
check what is particular to them: they train on ``suite.data.feedback.positives`` (and so on
the data set's threshold), and ``score_items`` ranks as implicit's own ``recommend``, the
bias columns of BPR and LMF included.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from model_helpers import quick, tiny_ratings

from suite import models
from suite.data.feedback import POSITIVE_THRESHOLD, positives
from suite.errors import InputError

IMPLICIT = ("implicit-als", "implicit-bpr", "implicit-lmf")
ADAPTERS = (*IMPLICIT, "lightfm-warp", "lightfm-bpr")


def make(name: str, **params) -> models.Model:
    ok, reason = models.get(name).available("cpu")
    if not ok:
        pytest.skip(reason)
    return models.create(name, n_threads=1, seed=1, **quick(name, **params))


@pytest.fixture(scope="module")
def train():
    return tiny_ratings(seed=4)


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("threshold", [4.0, 3.0])
def test_adapters_learn_from_the_positives(name, threshold, train) -> None:
    train = train.subset(np.arange(len(train)), **{POSITIVE_THRESHOLD: threshold})
    expected = positives(train)
    given = sp.csr_matrix(make(name)._prepare(train))
    assert (given != 0).nnz == expected.nnz == int((train.rating >= threshold).sum())
    assert abs(given.astype(bool) - expected.astype(bool)).nnz == 0
    model = make(name, alpha=3.0) if name == "implicit-als" else make(name)
    np.testing.assert_array_equal(
        model._prepare(train).data, 4.0 if name == "implicit-als" else 1.0
    )  # implicit-als: confidence 1 + alpha on a positive, nothing stored elsewhere


@pytest.mark.parametrize("name", ADAPTERS)
def test_no_positive_rating_fails_clearly(name, train) -> None:
    train = train.subset(np.arange(len(train)), **{POSITIVE_THRESHOLD: 6.0})
    with pytest.raises(InputError, match=rf"{name}: no positive training rating \(none >= 6\)"):
        make(name).fit(train)


@pytest.mark.parametrize("name", IMPLICIT)
def test_scores_are_implicits_own(name, train) -> None:
    model = make(name).fit(train)
    library = model.model_
    users = np.array([0, 3, 11, 25])
    scores = model.score_items(users)
    warm = ~model.cold_items_
    np.testing.assert_allclose(
        scores[:, warm], (library.user_factors[users] @ library.item_factors.T)[:, warm], rtol=1e-6
    )
    ids, ranked = library.recommend(
        users,
        positives(train)[users],
        N=10,
        filter_already_liked_items=False,
        filter_items=np.flatnonzero(~warm),
    )
    np.testing.assert_allclose(np.take_along_axis(scores, ids, axis=1), ranked, rtol=1e-5)
    np.testing.assert_allclose(-np.sort(-scores, axis=1)[:, :10], ranked, rtol=1e-5)


def test_bpr_scores_include_the_item_bias(train) -> None:
    model = make("implicit-bpr").fit(train)
    factors = model.params()["factors"]
    assert model.user_factors_.shape[1] == model.item_factors_.shape[1] == factors + 1
    np.testing.assert_array_equal(model.user_factors_[~model.cold_users_, factors], 1.0)
    bias = model.item_factors_[:, factors]
    assert np.abs(bias).max() > 0
    inner = model.user_factors_[:, :factors] @ model.item_factors_[:, :factors].T
    warm = ~model.cold_items_
    np.testing.assert_allclose(
        model.score_items(np.array([2]))[0, warm], (inner[2] + bias)[warm], rtol=1e-5
    )


def test_lmf_has_no_cuda_backend_and_bpr_needs_a_cuda_build() -> None:
    ok, reason = models.get("implicit-lmf").available("cuda")
    assert not ok and "no 'cuda' backend" in reason
    import implicit.gpu

    if not implicit.gpu.HAS_CUDA:
        ok, reason = models.get("implicit-bpr").available("cuda")
        assert not ok and "CUDA" in reason


@pytest.mark.parametrize("name", ["implicit-bpr", "implicit-lmf"])
def test_an_epoch_counts_the_positives(name, train) -> None:
    model = make(name).fit(train)
    assert model.n_ratings_processed_ == model.epochs_run_ * positives(train).nnz
