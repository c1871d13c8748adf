"""torch-bpmf: the Gibbs sampler's conditionals are the paper's, and its draws have them."""

from __future__ import annotations

import numpy as np
import torch
from model_helpers import tiny_ratings

from suite import metrics, models
from suite.data import splits
from suite.models.torch.bpmf import row_posteriors


def sampler(seed: int = 0):
    model = models.create("torch-bpmf", n_threads=1, seed=seed)
    model._generator = torch.Generator().manual_seed(seed)
    return model


def test_each_rows_posterior_is_the_papers_per_row_formula() -> None:
    train = tiny_ratings()
    model = models.create("torch-bpmf", n_threads=1)
    data = model._prepare(train)
    rng = np.random.default_rng(0)
    k = 4
    items = torch.from_numpy(rng.normal(size=(train.n_items, k)))
    prior_mean = torch.from_numpy(rng.normal(size=k))
    root = rng.normal(size=(k, k))
    prior_precision = torch.from_numpy(root @ root.T + np.eye(k))
    alpha = 1.7
    precision, target = row_posteriors(
        prior_mean, prior_precision, items, data.user_rated, data.user_residual, alpha
    )
    mean = float(train.rating.astype(np.float64).mean())
    for user in (0, 7, train.n_users - 1):  # the last user has no rating: the prior alone
        rated = train.user == user
        y = items.numpy()[train.item[rated]]
        r = train.rating[rated].astype(np.float64) - mean
        expected_p = prior_precision.numpy() + alpha * y.T @ y
        expected_b = alpha * y.T @ r + prior_precision.numpy() @ prior_mean.numpy()
        np.testing.assert_allclose(precision[user].numpy(), expected_p, rtol=1e-10)
        np.testing.assert_allclose(target[user].numpy(), expected_b, rtol=1e-10, atol=1e-12)


def test_draws_have_the_posterior_mean_and_covariance() -> None:
    model = sampler()
    root = np.array([[2.0, 0.0, 0.0], [0.6, 1.0, 0.0], [-0.3, 0.4, 0.5]])
    precision = torch.from_numpy(root @ root.T)
    target = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    n = 20_000
    draws = model._draw(precision.expand(n, 3, 3), target.expand(n, 3)).numpy()
    covariance = np.linalg.inv(precision.numpy())
    np.testing.assert_allclose(draws.mean(0), covariance @ target.numpy(), atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.05 * covariance.max())


def test_the_sampled_prior_concentrates_on_the_rows_distribution() -> None:
    rng = np.random.default_rng(1)
    true_mean = np.array([0.5, -1.0, 0.2])
    true_covariance = np.array([[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 0.2]])
    rows = rng.multivariate_normal(true_mean, true_covariance, size=20_000)
    mean, precision = sampler()._sample_prior(torch.from_numpy(rows))
    np.testing.assert_allclose(mean.numpy(), true_mean, atol=0.03)
    np.testing.assert_allclose(np.linalg.inv(precision.numpy()), true_covariance, atol=0.03)


def test_averaging_posterior_samples_beats_the_last_sample_alone() -> None:
    train, test = splits.holdout(tiny_ratings(seed=3), 0.2, seed=0)
    averaged = models.create("torch-bpmf", n_threads=1, epochs=60, burn_in=10).fit(train)
    last_only = models.create("torch-bpmf", n_threads=1, epochs=60, burn_in=59).fit(train)
    assert averaged.n_samples_ == 50 and last_only.n_samples_ == 1
    error = metrics.rating_metrics(averaged, test)["rmse"]
    assert error < metrics.rating_metrics(last_only, test)["rmse"]
    assert error < metrics.rmse(np.full(len(test), train.rating.mean()), test.rating)


def test_pairs_predicted_block_by_block_equal_the_posterior_mean(monkeypatch) -> None:
    from suite.models.torch import bpmf

    train = tiny_ratings()
    model = models.create("torch-bpmf", n_threads=1, epochs=8, burn_in=2).fit(train)
    users, items = train.user, train.item
    whole = model.predict(users, items)
    monkeypatch.setattr(bpmf, "GATHERED_ENTRIES", model.factors * 6 * 7)  # blocks of 7
    np.testing.assert_array_equal(model.predict(users, items), whole)
    u, v = model.user_samples_.numpy(), model.item_samples_.numpy()
    by_hand = (u[users] * v[items]).sum(1) / model.n_samples_ + model.mean_
    np.testing.assert_allclose(whole, np.clip(by_hand, *model.rating_range_), rtol=1e-6)
