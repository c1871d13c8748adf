"""Synthetic ratings: the seed post's random matrix and a planted low-rank generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from suite.data.features import Features
from suite.data.ratings import Ratings
from suite.errors import InputError

#: Named planted data sets with MovieLens-like shapes; each is reproducible from name + seed.
PLANTED_SETS: dict[str, dict[str, Any]] = {
    "synthetic-10k": {"n_users": 300, "n_items": 550, "n_ratings": 10_000},
    "synthetic-100k": {"n_users": 943, "n_items": 1_682, "n_ratings": 100_000},
    "synthetic-1m": {"n_users": 6_040, "n_items": 3_706, "n_ratings": 1_000_000},
    "synthetic-10m": {"n_users": 69_878, "n_items": 10_677, "n_ratings": 10_000_000},
    "synthetic-25m": {"n_users": 162_541, "n_items": 59_047, "n_ratings": 25_000_000},
    "synthetic-100m": {"n_users": 1_000_000, "n_items": 200_000, "n_ratings": 100_000_000},
}

SEED_2017 = "synthetic-seed-2017"

#: What ``load(<planted set>, features=True)`` passes to ``planted``: group features on both sides.
FEATURE_OPTIONS: dict[str, Any] = {"n_feature_groups": 20, "n_user_feature_groups": 10}

#: Candidates drawn by popularity for each rating a user makes (see ``planted``).
_CANDIDATES_PER_RATING = 3

#: Top-up rounds per chunk when sampling a user's distinct items (see ``planted``).
_MAX_TOP_UP_ROUNDS = 10


def seed_2017(seed: int = 0) -> Ratings:
    """The random ratings matrix of Rosenthal's 2017 post "Matrix Factorization in PyTorch".

    Faithful to the post: a 1000 × 1000 matrix from ``scipy.sparse.random`` at density 0.01,
    whose values are then replaced by ``randint(1, 5)``. NumPy's upper bound is exclusive,
    so the ratings are the integers 1–4 (never 5) — kept as in the post. The post used the
    global NumPy RNG; here one ``RandomState(seed)`` drives both draws, so a seed reproduces
    the matrix exactly. There is no structure to learn: the best RMSE is about the spread of
    a uniform 1–4 rating (≈ 1.118).

    Parameters
    ----------
    seed : int
        Seed of the ``RandomState``.
    """
    random_state = np.random.RandomState(seed)
    matrix = sp.random(1000, 1000, density=0.01, format="csr", random_state=random_state)
    matrix.data = random_state.randint(1, 5, size=matrix.nnz).astype(np.float64)
    coo = matrix.tocoo()
    return Ratings(
        coo.row,
        coo.col,
        coo.data,
        n_users=1000,
        n_items=1000,
        name=SEED_2017,
        metadata={"source": "seed post generator", "seed": seed},
    )


def planted(
    n_users: int,
    n_items: int,
    n_ratings: int,
    *,
    rank: int = 10,
    noise: float = 0.8,
    mean: float = 3.5,
    bias_std: float = 0.5,
    interaction_std: float = 0.8,
    user_skew: float = 0.5,
    item_skew: float = 0.8,
    selection: float = 1.0,
    rounded: bool = True,
    clip: tuple[float, float] | None = (1.0, 5.0),
    seed: int = 0,
    chunk_size: int = 1_000_000,
    name: str | None = None,
    n_feature_groups: int = 0,
    n_user_feature_groups: int = 0,
    feature_share: float = 0.6,
) -> Ratings:
    """Ratings drawn from a planted biased low-rank model with Zipf-skewed activity.

    The true rating of user ``u`` for item ``i`` is ``mean + b_u + b_i + p_u · q_i`` with
    biases ``~ N(0, bias_std²)`` and rank-``rank`` factors scaled so that ``p_u · q_i`` has
    standard deviation ``interaction_std``. The observed rating adds ``N(0, noise²)``, then is
    optionally rounded to an integer and clipped to ``clip`` — the biased MF model of Koren,
    Bell & Volinsky, "Matrix Factorization Techniques for Recommender Systems" (IEEE Computer,
    2009), run forwards.

    Which pairs are rated: the r-th most active user has activity weight ``r**-user_skew``
    and the r-th most popular item popularity ``r**-item_skew`` (ranks randomly assigned to
    codes). Each user's number of ratings ``n_u`` is multinomial over activity weights. The
    user then draws ``3 n_u`` distinct candidate items by popularity and rates ``n_u`` of them,
    chosen without replacement with probability ∝ ``exp(selection · true rating)``: people
    rate what they expect to like, so which items are rated carries signal too (missing not
    at random, as in Marlin & Zemel, "Collaborative prediction and ranking with non-random
    missing data", RecSys 2009). ``selection=0`` rates the candidates uniformly (missing at
    random). Each (user, item) pair occurs at most once; a user never rates every item twice.

    ``metadata["noise_floor_rmse"]`` (and ``noise_floor_mae``) hold the error of the true
    signal itself on the generated ratings: what a model that recovered the planted model
    exactly would score.

    Side features that carry part of the signal (``n_feature_groups`` > 0): each item belongs
    to one of ``n_feature_groups`` groups drawn uniformly, and its factor becomes
    ``sqrt(feature_share) · centroid[group] + sqrt(1 - feature_share) · own`` (centroids drawn
    like factors, so the interaction keeps its spread); ``item_features`` is the one-hot of
    the group (columns ``"group=<g>"``), so a model that embeds features can predict a
    ``feature_share`` part of an unseen item's factor. ``n_user_feature_groups`` does the same
    for users. The groups come from their own random streams: with both options off
    (the default) the ratings are exactly those generated without them.

    Generation is chunked over blocks of users, so ``10**8`` ratings need about the output's
    memory (1.2 GB) plus one chunk; the result is deterministic for a given argument set
    (``chunk_size`` included).

    Parameters
    ----------
    n_users, n_items, n_ratings : int
        Shape and target number of ratings (the result may hold slightly fewer when users'
        demand for distinct items cannot be met).
    rank : int
        Rank of the planted interaction.
    noise : float
        Standard deviation of the Gaussian rating noise.
    mean, bias_std, interaction_std : float
        Global mean, spread of user/item biases, spread of the interaction term.
    user_skew, item_skew : float
        Zipf exponents of user activity and item popularity (0 = uniform).
    selection : float
        How strongly users pick the items they rate by their true rating (0 = at random).
    rounded : bool
        Round observed ratings to integers (MovieLens-like stars).
    clip : (float, float) or None
        Range observed ratings are clipped to; ``None`` keeps them continuous and unbounded.
    seed : int
        Seed; every random draw derives from it.
    chunk_size : int
        Approximate number of ratings generated at a time.
    name : str, optional
        Data set name (default describes the shape).
    n_feature_groups, n_user_feature_groups : int
        Number of item (user) groups whose one-hot is emitted as ``item_features``
        (``user_features``); 0 = no features on that side, factors unchanged.
    feature_share : float
        Fraction of each factor's variance carried by its group centroid, in ``[0, 1]``.
    """
    if min(n_users, n_items, n_ratings, rank) < 1:
        raise ValueError("n_users, n_items, n_ratings and rank must be positive")
    rng = np.random.default_rng([seed, 0])
    factor_std = (interaction_std**2 / rank) ** 0.25
    user_factors = rng.normal(0.0, factor_std, (n_users, rank)).astype(np.float32)
    item_factors = rng.normal(0.0, factor_std, (n_items, rank)).astype(np.float32)
    user_factors, user_features = _grouped(
        user_factors, n_user_feature_groups, feature_share, factor_std, [seed, 3]
    )
    item_factors, item_features = _grouped(
        item_factors, n_feature_groups, feature_share, factor_std, [seed, 2]
    )
    user_bias = rng.normal(0.0, bias_std, n_users).astype(np.float32)
    item_bias = rng.normal(0.0, bias_std, n_items).astype(np.float32)
    user_weight = _zipf_weights(n_users, user_skew, rng)
    item_p = _zipf_weights(n_items, item_skew, rng)
    item_cdf = np.cumsum(item_p)
    item_cdf[-1] = 1.0  # searchsorted(side="right") of a draw in [0, 1) then stays < n_items
    counts = np.minimum(rng.multinomial(n_ratings, user_weight), n_items)

    total = int(counts.sum())
    user_out = np.empty(total, dtype=np.int32)
    item_out = np.empty(total, dtype=np.int32)
    rating_out = np.empty(total, dtype=np.float32)
    filled, sum_sq, sum_abs = 0, 0.0, 0.0
    for chunk, (lo, hi) in enumerate(_user_blocks(counts, chunk_size)):
        chunk_rng = np.random.default_rng([seed, 1, chunk])
        want = counts[lo:hi]
        candidates = np.minimum(_CANDIDATES_PER_RATING * want, n_items) if selection else want
        users, items = _distinct_pairs(candidates, lo, item_p, item_cdf, chunk_rng)
        signal = (
            mean
            + user_bias[users]
            + item_bias[items]
            + np.einsum("ij,ij->i", user_factors[users], item_factors[items])
        )
        if selection:
            chosen = _top_per_group(
                users - lo, selection * signal + chunk_rng.gumbel(size=len(signal)), want
            )
            users, items, signal = users[chosen], items[chosen], signal[chosen]
        observed = signal + chunk_rng.normal(0.0, noise, len(signal)).astype(np.float32)
        if rounded:
            observed = np.round(observed)
        if clip is not None:
            observed = np.clip(observed, *clip)
        error = (observed - signal).astype(np.float64)
        sum_sq += float(np.dot(error, error))
        sum_abs += float(np.abs(error).sum())
        end = filled + len(users)
        user_out[filled:end], item_out[filled:end], rating_out[filled:end] = users, items, observed
        filled = end
    if filled < total:  # some users' demand for distinct items could not be met
        user_out, item_out = user_out[:filled].copy(), item_out[:filled].copy()
        rating_out = rating_out[:filled].copy()

    params = {
        "n_users": n_users,
        "n_items": n_items,
        "n_ratings": n_ratings,
        "rank": rank,
        "noise": noise,
        "mean": mean,
        "bias_std": bias_std,
        "interaction_std": interaction_std,
        "user_skew": user_skew,
        "item_skew": item_skew,
        "selection": selection,
        "rounded": rounded,
        "clip": None if clip is None else list(clip),
        "seed": seed,
        "chunk_size": chunk_size,
    }
    if n_feature_groups or n_user_feature_groups:  # absent otherwise: metadata as before
        params["n_feature_groups"] = n_feature_groups
        params["n_user_feature_groups"] = n_user_feature_groups
        params["feature_share"] = feature_share
    return Ratings(
        user_out,
        item_out,
        rating_out,
        n_users=n_users,
        n_items=n_items,
        name=name or f"planted-{n_users}x{n_items}-{n_ratings}",
        metadata={
            "source": "planted low-rank generator",
            "generator": params,
            "noise_floor_rmse": float(np.sqrt(sum_sq / filled)),
            "noise_floor_mae": sum_abs / filled,
        },
        user_features=user_features,
        item_features=item_features,
    )


def _grouped(
    factors: np.ndarray, n_groups: int, share: float, factor_std: float, seed: list[int]
) -> tuple[np.ndarray, Features | None]:
    """``factors`` pulled towards random group centroids, and the one-hot of the groups.

    With ``n_groups == 0`` the factors are returned untouched and no features.
    """
    if n_groups < 0 or not 0.0 <= share <= 1.0:
        raise ValueError("feature groups must be >= 0 and feature_share within [0, 1]")
    if n_groups == 0:
        return factors, None
    rng = np.random.default_rng(seed)
    n_rows, rank = factors.shape
    group = rng.integers(n_groups, size=n_rows)
    centroids = rng.normal(0.0, factor_std, (n_groups, rank))
    mixed = np.sqrt(share) * centroids[group] + np.sqrt(1.0 - share) * factors
    one_hot = sp.csr_matrix(
        (np.ones(n_rows, dtype=np.float32), (np.arange(n_rows), group)),
        shape=(n_rows, n_groups),
    )
    return mixed.astype(np.float32), Features(one_hot, tuple(f"group={g}" for g in range(n_groups)))


def named(name: str, seed: int = 0, **overrides: Any) -> Ratings:
    """A named synthetic data set (``synthetic-seed-2017`` or one of ``PLANTED_SETS``)."""
    if name == SEED_2017:
        return seed_2017(seed)
    return planted(**{**PLANTED_SETS[name], **overrides}, seed=seed, name=name)


def names() -> list[str]:
    """Names of the synthetic data sets ``named`` knows."""
    return [SEED_2017, *PLANTED_SETS]


class SyntheticSource:
    """The generated data sets, as a data source (``suite.data.catalogue``): each is made
    afresh from its name and seed, so nothing is fetched or cached."""

    def names(self) -> list[str]:
        return names()

    def load(self, name: str, *, seed: int, features: bool, use_cache: bool) -> Ratings:
        if not features:
            return named(name, seed=seed)
        if not self.has_features(name):
            raise InputError(f"{name}: has no side features")
        return named(name, seed=seed, **FEATURE_OPTIONS)

    def has_features(self, name: str) -> bool:
        return name in PLANTED_SETS

    def fetch(self, name: str, *, force: bool) -> Path | None:
        return None


SOURCE = SyntheticSource()


def _zipf_weights(n: int, skew: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities ∝ rank**-skew, with ranks randomly assigned to the ``n`` codes."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -skew
    weights = weights[rng.permutation(n)]
    return weights / weights.sum()


def _user_blocks(counts: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive user ranges ``[lo, hi)`` holding about ``chunk_size`` ratings each."""
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(chunk_size, ends[-1], chunk_size), side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [len(counts)]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def _distinct_pairs(
    demand: np.ndarray,
    first_user: int,
    item_p: np.ndarray,
    item_cdf: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``demand[k]`` distinct items by popularity for user ``first_user + k``.

    Users who want over a tenth of all items draw them without replacement directly; the
    rest draw with replacement, drop repeats and redraw what is missing (a few rounds).
    Returns (users, items) sorted by user, then item.
    """
    n_items = len(item_p)
    users = np.arange(first_user, first_user + len(demand), dtype=np.int64)
    heavy = demand > n_items // 10
    parts = [
        user * n_items + rng.choice(n_items, size=want, replace=False, p=item_p)
        for user, want in zip(users[heavy], demand[heavy], strict=True)
    ]
    light_demand = np.where(heavy, 0, demand)
    keys = np.empty(0, dtype=np.int64)
    missing = light_demand
    for _ in range(_MAX_TOP_UP_ROUNDS):
        drawn_users = np.repeat(users, missing)
        drawn_items = np.searchsorted(item_cdf, rng.random(len(drawn_users)), side="right")
        keys = _sorted_unique(np.concatenate([keys, drawn_users * n_items + drawn_items]))
        missing = light_demand - np.bincount(keys // n_items - first_user, minlength=len(demand))
        if not missing.any():
            break
    keys = np.sort(np.concatenate([keys, *parts]))
    return (keys // n_items).astype(np.int32), (keys % n_items).astype(np.int32)


def _top_per_group(group: np.ndarray, score: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices of the ``keep[g]`` highest-scoring entries of each group ``g``, in input order.

    With Gumbel noise added to ``score`` this samples without replacement with probability
    ∝ ``exp(score)`` (the Gumbel-top-k trick).
    """
    order = np.lexsort((-score, group))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(len(keep)))
    rank = np.arange(len(order)) - starts[sorted_group]
    return np.sort(order[rank < keep[sorted_group]])


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (NumPy 2.4's hash-based unique is far slower on int64 keys)."""
    keys = np.sort(keys)
    return keys[np.concatenate([keys[:1] == keys[:1], keys[1:] != keys[:-1]])]
