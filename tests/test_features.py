"""Side features: ML-100K's users and movies, storage, splits, cold items, planted groups."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from suite import data
from suite.data import movielens, splits, storage, synthetic
from suite.data.features import Features
from suite.data.ratings import Ratings
from suite.errors import InputError

INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t4\t100\n2\t10\t3\t200\n2\t11\t5\t300\n3\t12\t2\t400\n"
)
USERS = (
    "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
    "1\t24\tM\ttechnician\t85711\n"
    "2\t53\tF\tother\tT8H1N\n"
    "3\t\tM\twriter\t\n"  # no age, no zip code
    "4\t30\tF\tartist\t10001\n"  # rated nothing
)
ITEMS = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "10\tToy Story\t1995\tAnimation Children's Comedy\n"
    "11\tSleeper\t1973\tComedy Sci-Fi\n"
    "12\tunkonwn\tunkonwn\tunknown\n"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def fake_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """GroupLens unreachable; `pip download` yields a tiny RecBole wheel. Returns the calls."""
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", (tmp_path / "nowhere").as_uri())
    monkeypatch.setitem(
        movielens.RELEASES, "ml-100k", movielens.Release("ml-100k", "ml-100k/u.data", None, 4, 3, 3)
    )
    monkeypatch.setattr(movielens, "RECBOLE_INTER_SHA256", sha256(INTER))
    monkeypatch.setattr(
        movielens,
        "RECBOLE_FEATURE_SHA256",
        {"ml-100k.user": sha256(USERS), "ml-100k.item": sha256(ITEMS)},
    )
    calls: list[list[str]] = []

    def fake_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        calls.append(command)
        dest = Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / "recbole-1.2.1-py3-none-any.whl", "w") as wheel:
            wheel.writestr(movielens.RECBOLE_MEMBER, INTER)
            wheel.writestr(movielens.RECBOLE_FEATURE_MEMBERS["ml-100k.user"], USERS)
            wheel.writestr(movielens.RECBOLE_FEATURE_MEMBERS["ml-100k.item"], ITEMS)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(movielens.subprocess, "run", fake_pip)
    return calls


def columns_of(features: Features, code: int) -> set[str]:
    row = features.matrix[code]
    assert set(row.data.tolist()) <= {1.0}
    return {features.names[j] for j in row.indices}


def test_ml100k_features_align_with_codes(fake_pypi: list) -> None:
    ratings = data.load("ml-100k", features=True)
    users, items = ratings.user_features, ratings.item_features
    assert users.n_rows == ratings.n_users == 3 and items.n_rows == ratings.n_items == 3
    by_user = {raw: columns_of(users, ratings.user_codes([raw])[0]) for raw in (1, 2, 3)}
    assert by_user[1] == {"age=18-24", "gender=M", "occupation=technician", "zip=8"}
    assert by_user[2] == {"age=50-55", "gender=F", "occupation=other", "zip=other"}
    assert by_user[3] == {"gender=M", "occupation=writer"}  # missing age and zip: no column
    assert "occupation=artist" not in users.names  # user 4 rated nothing
    by_item = {raw: columns_of(items, ratings.item_codes([raw])[0]) for raw in (10, 11, 12)}
    assert by_item[10] == {"genre=Animation", "genre=Children's", "genre=Comedy", "decade=1990s"}
    assert by_item[11] == {"genre=Comedy", "genre=Sci-Fi", "decade=1970s"}
    assert by_item[12] == set()  # unknown genre, unreadable year
    assert not any(name.startswith("id=") for name in (*users.names, *items.names))
    assert users.names[:2] == ("age=18-24", "age=50-55")  # age order, then the rest sorted


def test_features_come_from_the_one_wheel_and_the_cache(fake_pypi: list, monkeypatch) -> None:
    plain = data.load("ml-100k")
    assert plain.user_features is None and plain.item_features is None
    with_features = data.load("ml-100k", features=True)
    assert len(fake_pypi) == 1  # the ratings' download also kept the feature files
    monkeypatch.setattr(movielens, "fetch", lambda *a, **k: pytest.fail("fetched again"))
    monkeypatch.setattr(movielens, "fetch_features", lambda *a, **k: pytest.fail("fetched"))
    again = data.load("ml-100k", features=True)
    assert again.item_features.names == with_features.item_features.names
    assert (again.user_features.matrix != with_features.user_features.matrix).nnz == 0


def test_feature_files_are_checksummed(fake_pypi: list, data_cache: Path, caplog) -> None:
    files = movielens.fetch_features("ml-100k")
    assert files["ml-100k.user"].read_text() == USERS
    assert files["ml-100k.user"].parent == data_cache / "raw" / "ml-100k-features"
    files["ml-100k.item"].write_text(ITEMS.replace("1995", "1985"))
    assert movielens.fetch_features("ml-100k")["ml-100k.item"].read_text() == ITEMS
    assert "does not match its checksum" in caplog.text and len(fake_pypi) == 2


def test_a_doctored_feature_file_is_refused(fake_pypi: list, monkeypatch) -> None:
    monkeypatch.setitem(movielens.RECBOLE_FEATURE_SHA256, "ml-100k.item", "0" * 64)
    with pytest.raises(InputError, match=r"ml-100k.item in .* has SHA-256 .* expected 0{64}"):
        movielens.fetch_features("ml-100k")


def test_features_only_where_there_are_some() -> None:
    with pytest.raises(InputError, match="ml-1m: side features are available for ml-100k only"):
        data.load("ml-1m", features=True)
    with pytest.raises(InputError, match="has no side features"):
        data.load("synthetic-seed-2017", features=True)


def small_features(n_rows: int, prefix: str) -> Features:
    rng = np.random.default_rng(n_rows)
    matrix = sp.random(n_rows, 5, density=0.3, format="csr", random_state=rng)
    return Features(matrix, tuple(f"{prefix}={k}" for k in range(5)))


@pytest.fixture
def featured(small_ratings: Ratings) -> Ratings:
    return small_ratings.with_features(
        user_features=small_features(60, "u"), item_features=small_features(40, "i")
    )


def same_features(a: Features, b: Features) -> bool:
    return (
        a.names == b.names and a.matrix.shape == b.matrix.shape and (a.matrix != b.matrix).nnz == 0
    )


def test_features_must_have_one_row_per_code(small_ratings: Ratings) -> None:
    with pytest.raises(InputError, match="small: item_features has 39 rows, expected one per item"):
        small_ratings.with_features(user_features=None, item_features=small_features(39, "i"))
    with pytest.raises(InputError, match="small: user_features has 61 rows"):
        Ratings(
            [0, 1], [0, 1], [1, 2], n_users=60, name="small", user_features=small_features(61, "u")
        )


def test_storage_round_trips_features(featured: Ratings, tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    storage.save(path, {"with": featured, "without": featured.subset(np.arange(10))})
    parts, _ = storage.load(path)
    assert same_features(parts["with"].user_features, featured.user_features)
    assert same_features(parts["with"].item_features, featured.item_features)
    plain = Ratings([0, 1], [1, 0], [3, 4])
    storage.save(path, {"plain": plain})
    assert storage.load(path)[0]["plain"].item_features is None


def test_an_older_storage_format_is_refused(featured: Ratings, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.npz"
    monkeypatch.setattr(storage, "FORMAT_VERSION", 2)
    storage.save(path, {"ratings": featured})
    monkeypatch.undo()
    with pytest.raises(storage.FormatVersionError):
        storage.load(path)


@pytest.mark.parametrize("method", splits.METHODS)
def test_subset_and_splits_keep_features(featured: Ratings, method: str) -> None:
    halves = splits.split(featured, method, test_fraction=0.2, seed=1)
    for half in (featured.subset(np.arange(5)), *halves):
        assert half.user_features is featured.user_features
        assert half.item_features is featured.item_features


def test_cold_item_split_holds_out_whole_items(small_ratings: Ratings) -> None:
    train, test = splits.split(small_ratings, "cold-items", test_fraction=0.25, seed=3)
    info = test.metadata["split"]
    held = np.unique(test.item)
    assert not np.isin(held, train.item).any()  # no test item is seen in train
    assert info["n_items_held_out"] == len(held) == 10  # a quarter of the 40 rated items
    assert info["n_cold_items"] == 10 and info["n_test_cold_dropped"] == 0
    assert len(train) + len(test) == len(small_ratings)  # every rating of a held-out item tested
    assert np.isin(small_ratings.item, held).sum() == len(test)
    assert train.metadata["split"] == info and info["method"] == "cold-items"
    again = splits.cold_items(small_ratings, 0.25, seed=3)[1]
    assert np.array_equal(again.item, test.item)


def test_cold_item_split_drops_only_cold_users() -> None:
    # user 2 rated only item 1; holding item 1 out leaves user 2 without train ratings
    ratings = Ratings([0, 0, 1, 1, 2], [0, 1, 0, 1, 1], [1, 2, 3, 4, 5], n_items=2)
    train, test = splits.cold_items(ratings, test_fraction=0.5, seed=0)
    held = int(test.item[0])
    info = test.metadata["split"]
    if held == 1:
        assert info["n_test_cold_dropped"] == 1 and info["n_cold_users"] == 1
        assert sorted(test.user.tolist()) == [0, 1]
    else:
        assert info["n_test_cold_dropped"] == 0 and len(test) == 2
    assert info["n_cold_items"] == 1 and held not in train.item


def test_cold_item_split_refuses_bad_fractions(small_ratings: Ratings) -> None:
    with pytest.raises(InputError, match=r"test_fraction=1\.0"):
        splits.cold_items(small_ratings, 1.0)


#: SHA-256 of (user, item, rating) of ``planted(50, 80, 2000, seed=3)`` before features.
PLANTED_BEFORE_FEATURES = "4af1624bfc075543992058199e4d342a0f321d8e3aae866fae93bd018718a2a9"


def test_planted_output_unchanged_with_the_option_off() -> None:
    ratings = synthetic.planted(50, 80, 2000, seed=3)
    digest = hashlib.sha256()
    for array in (ratings.user, ratings.item, ratings.rating):
        digest.update(np.ascontiguousarray(array).tobytes())
    assert digest.hexdigest() == PLANTED_BEFORE_FEATURES
    assert ratings.user_features is None and ratings.item_features is None
    assert "n_feature_groups" not in ratings.metadata["generator"]


def test_planted_group_features_are_one_hot() -> None:
    ratings = synthetic.planted(50, 80, 2000, seed=3, n_feature_groups=4)
    items = ratings.item_features
    assert items.names == ("group=0", "group=1", "group=2", "group=3")
    assert items.n_rows == 80 and np.array_equal(items.matrix.sum(axis=1).A1, np.ones(80))
    assert ratings.user_features is None
    both = synthetic.planted(50, 80, 2000, seed=3, n_feature_groups=4, n_user_feature_groups=3)
    assert both.user_features.n_features == 3
    assert same_features(both.item_features, items)  # groups depend on the seed only


def test_planted_group_features_carry_signal() -> None:
    """A user's ratings of one group, learned on half the data, predict the other half."""
    ratings = synthetic.planted(
        200, 300, 30_000, seed=5, n_feature_groups=5, feature_share=0.9,
        noise=0.3, selection=0.0, rounded=False, clip=None, bias_std=0.0,
    )  # fmt: skip
    group = ratings.item_features.matrix.indices  # one column per row: the item's group
    residual = (
        ratings.rating
        - np.bincount(ratings.user, ratings.rating, ratings.n_users)[ratings.user]
        / np.bincount(ratings.user, minlength=ratings.n_users)[ratings.user]
    )

    def held_out_correlation(item_group: np.ndarray) -> float:
        cell = ratings.user * 5 + item_group[ratings.item]
        learn = np.random.default_rng(0).random(len(ratings)) < 0.5
        sums = np.bincount(cell[learn], residual[learn], 200 * 5)
        counts = np.bincount(cell[learn], minlength=200 * 5)
        guess = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        return float(np.corrcoef(guess[cell[~learn]], residual[~learn])[0, 1])

    assert held_out_correlation(group) > 0.5
    shuffled = np.random.default_rng(1).permutation(group)
    assert abs(held_out_correlation(shuffled)) < 0.2


def test_planted_sets_load_with_features() -> None:
    ratings = data.load("synthetic-10k", features=True)
    assert ratings.item_features.n_rows == ratings.n_items
    assert ratings.user_features.n_rows == ratings.n_users


REAL_ML100K = Path.home() / ".cache" / "mfbench" / "raw" / "ml-100k"


@pytest.mark.network
@pytest.mark.skipif(not (REAL_ML100K / "source.json").exists(), reason="no cached ML-100K")
def test_real_ml100k_features(data_cache: Path, monkeypatch) -> None:
    """Integration: the real cached ML-100K (copied, never written) + features from PyPI."""
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", (data_cache / "nowhere").as_uri())
    shutil.copytree(REAL_ML100K, data_cache / "raw" / "ml-100k")
    assert os.environ["MFBENCH_DATA"] == str(data_cache)
    ratings = data.load("ml-100k", features=True)
    users, items = ratings.user_features, ratings.item_features
    assert (users.n_features, items.n_features) == (41, 26)
    assert np.array_equal(np.diff(users.matrix.indptr), np.full(943, 4))  # age, gender, job, zip
    first = ratings.item_codes([1])[0]  # Toy Story (1995)
    assert columns_of(items, first) == {
        "genre=Animation", "genre=Children's", "genre=Comedy", "decade=1990s"
    }  # fmt: skip
