"""MovieLens releases: fetching from a mirror, checksums, counts, the PyPI fallback."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from suite import data
from suite.data import movielens
from suite.errors import InputError

U_DATA = "1\t10\t4\t100\n2\t10\t3\t200\n2\t11\t5\t300\n"


def make_zip(folder: Path, name: str, member: str, text: str) -> str:
    """Write ``folder/name.zip`` holding ``member``; return its MD5."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, text)
    (folder / f"{name}.zip").write_bytes(buffer.getvalue())
    return hashlib.md5(buffer.getvalue()).hexdigest()


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local GroupLens mirror (file:// URL) serving a tiny release named ``ml-100k``."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    md5 = make_zip(folder, "ml-100k", "ml-100k/u.data", U_DATA)
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", folder.as_uri())
    monkeypatch.setitem(
        movielens.RELEASES, "ml-100k", movielens.Release("ml-100k", "ml-100k/u.data", md5, 3, 2, 2)
    )
    return folder


def test_fetch_verifies_and_loads(mirror: Path) -> None:
    path = movielens.fetch("ml-100k")
    assert path.read_text() == U_DATA
    ratings = data.load("ml-100k")
    assert (len(ratings), ratings.n_users, ratings.n_items) == (3, 2, 2)
    assert ratings.name == "ml-100k"


def test_second_load_comes_from_the_parsed_cache(mirror: Path, monkeypatch) -> None:
    data.load("ml-100k")
    monkeypatch.setattr(movielens, "fetch", lambda *a, **k: pytest.fail("fetched again"))
    assert len(data.load("ml-100k")) == 3


def test_checksum_mismatch_refetches_then_refuses(mirror: Path, monkeypatch) -> None:
    release = movielens.RELEASES["ml-100k"]
    monkeypatch.setitem(
        movielens.RELEASES,
        "ml-100k",
        movielens.Release("ml-100k", release.member, "0" * 32, 3, 2, 2),
    )
    downloads = []
    real_download = movielens._download
    monkeypatch.setattr(movielens, "_download", lambda *a: downloads.append(a) or real_download(*a))
    with pytest.raises(InputError, match=r"does not match the published 0{32} .twice.; refusing"):
        movielens.fetch("ml-100k")
    assert len(downloads) == 2


def test_corrupted_download_is_fetched_again(mirror: Path, caplog) -> None:
    path = movielens.fetch("ml-100k")
    path.write_text(U_DATA.replace("4", "5"))
    assert movielens.fetch("ml-100k").read_text() == U_DATA
    assert "does not match its recorded checksum" in caplog.text


def test_wrong_counts_are_refused(mirror: Path, monkeypatch) -> None:
    release = movielens.RELEASES["ml-100k"]
    monkeypatch.setitem(
        movielens.RELEASES,
        "ml-100k",
        movielens.Release("ml-100k", release.member, release.md5, 4, 2, 2),
    )
    with pytest.raises(InputError, match="ml-100k: parsed 3 ratings, the release has 4"):
        data.load("ml-100k")


def test_unreachable_release_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", (tmp_path / "nowhere").as_uri())
    with pytest.raises(
        InputError, match=r"ml-1m: cannot download .* pass the path of its ratings.dat"
    ):
        movielens.fetch("ml-1m")


def test_unknown_release_lists_names() -> None:
    with pytest.raises(InputError, match="unknown MovieLens release 'ml-2m'; choose from ml-100k"):
        movielens.fetch("ml-2m")


def test_pypi_fallback_refuses_a_doctored_wheel(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", (tmp_path / "nowhere").as_uri())

    def fake_pip(command, **kwargs):
        dest = Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / "recbole-1.2.1-py3-none-any.whl", "w") as wheel:
            wheel.writestr(movielens.RECBOLE_MEMBER, "user_id:token\n1\t2\t3\t4\n")
        return __import__("subprocess").CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(movielens.subprocess, "run", fake_pip)
    with pytest.raises(InputError, match=r"ml-100k: .*has SHA-256 .* expected .*refusing it"):
        movielens.fetch("ml-100k")


@pytest.mark.network
def test_real_ml100k_from_pypi_when_grouplens_is_unreachable(tmp_path: Path, monkeypatch) -> None:
    """Integration: the real ML-100K, through GroupLens or else the RecBole wheel on PyPI."""
    monkeypatch.setenv("MFBENCH_GROUPLENS_URL", (tmp_path / "nowhere").as_uri())
    ratings = data.load("ml-100k")
    assert (len(ratings), ratings.n_users, ratings.n_items) == (100_000, 943, 1_682)
    assert ratings.timestamp is not None and set(ratings.rating.tolist()) == {1, 2, 3, 4, 5}
