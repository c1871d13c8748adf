"""The bad-data catalogue: each input either loads as meant or stops with one line.

Every case below is a file (or array) a user could plausibly hand the suite. The promise:
it loads correctly, or ``mfbench data info FILE`` exits 2 with one stderr line naming the
file, the line where there is one, and the reason; never a traceback, never a wrong number.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from harness_helpers import assert_one_line_error, run_cli

from suite import data, metrics, models
from suite.data import cache, splits
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.models.base import Contest

CSV = "userId,movieId,rating,timestamp\n1,10,4,881250949\n2,10,3,881250950\n2,11,5,891717742\n"
U_DATA = "1\t10\t4\t881250949\n2\t10\t3\t881250950\n2\t11\t5\t891717742\n"


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8, line ends as given) or bytes to ``path``."""
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def assert_csv_loaded(ratings: Ratings) -> None:
    """``ratings`` holds exactly the three ratings of ``CSV`` (or ``U_DATA``)."""
    assert list(ratings.user_ids) == [1, 2] and list(ratings.item_ids) == [10, 11]
    triples = {
        (int(ratings.user_ids[u]), int(ratings.item_ids[i]), float(r))
        for u, i, r in zip(ratings.user, ratings.item, ratings.rating, strict=True)
    }
    assert triples == {(1, 10, 4.0), (2, 10, 3.0), (2, 11, 5.0)}
    assert ratings.timestamp is not None
    assert sorted(ratings.timestamp.tolist()) == [881250949, 881250950, 891717742]


def zipped(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# -- 1. ids: labels, whatever their size or sign ----------------------------------------------


def test_ids_beyond_64_bits_load_as_text_labels(tmp_path: Path, capsys) -> None:
    path = write(tmp_path / "big.csv", "user,item,rating\n99999999999999999999999,7,4\n2,7,3\n")
    ratings = data.load(path)
    assert list(ratings.user_ids) == ["2", "99999999999999999999999"]  # text, sorted as text
    assert list(ratings.item_ids) == [7]  # the other column stays integer
    assert run_cli(["data", "info", path], capsys)[0] == 0


def test_negative_ids_are_labels_too(tmp_path: Path) -> None:
    ratings = data.load(write(tmp_path / "neg.csv", "user,item,rating\n-1,-7,4\n2,-7,3\n"))
    assert list(ratings.user_ids) == [-1, 2] and list(ratings.item_ids) == [-7]
    assert ratings.user.tolist() == [0, 1]  # codes are never negative


# -- 2. timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("1000000000000000", "timestamp '1000000000000000' is outside 0..4102444800"),  # µs
        ("1700000000000", "timestamp '1700000000000' is outside"),  # milliseconds
        ("-5", "timestamp '-5' is outside 0..4102444800 (seconds since the epoch, 1970..2100)"),
        ("1e30", "timestamp '1e30' is outside"),
        ("yesterday", "timestamp 'yesterday' is not a number"),
        ("", "empty timestamp"),
    ],
)
def test_implausible_timestamps_are_refused(tmp_path: Path, capsys, stamp: str, reason: str):
    path = write(tmp_path / "u.data", U_DATA + f"3\t12\t4\t{stamp}\n")
    assert_one_line_error(["data", "info", path], capsys, f"{path}:4: {reason}")


def test_fractional_seconds_are_dropped(tmp_path: Path) -> None:
    ratings = data.load(write(tmp_path / "u.data", "1\t10\t4\t881250949.7\n"))
    assert ratings.timestamp.tolist() == [881250949]


# -- 3. ratings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e39", "rating '1e39' is outside ±1e+06 (the ratings limit)"),  # overflows float32
        ("3e38", "rating '3e38' is outside ±1e+06"),  # fits float32, its sums do not
        ("-2e6", "rating '-2e6' is outside ±1e+06"),
        ("inf", "rating 'inf' is not finite"),
        ("nan", "rating 'nan' is not finite"),
        ("NA", "rating 'NA' is not a number"),
        ("", "empty rating"),
    ],
)
def test_ratings_beyond_the_limit_are_refused(tmp_path: Path, capsys, value: str, reason: str):
    path = write(tmp_path / "u.data", U_DATA + f"3\t12\t{value}\t881250951\n")
    assert_one_line_error(["data", "info", path], capsys, f"{path}:4: {reason}")


def test_negative_and_large_ratings_within_the_limit_load(tmp_path: Path) -> None:
    path = write(tmp_path / "jester.csv", "user,item,rating\n1,1,-9.5\n1,2,1000000\n2,1,0\n")
    ratings = data.load(path)
    assert sorted(ratings.rating.tolist()) == [-9.5, 0.0, 1e6]
    assert "333330.167 ± " in ratings.describe()["rating mean ± std"]  # mean in float64


# -- 4. fewer items than the top-k cut-off ----------------------------------------------------


def test_fewer_items_than_k_load_and_rank(tmp_path: Path, capsys) -> None:
    rows = [
        f"{u}\t{i}\t{1 + (u + i) % 5}\t{900000000 + u * 3 + i}" for u in range(8) for i in (1, 2, 3)
    ]
    path = write(tmp_path / "u.data", "\n".join(rows) + "\n")
    ratings = data.load(path)
    ranking = metrics.of_contest(Contest.RANKING)
    assert ratings.n_items == 3 < min(metric.cutoff for metric in ranking)
    assert run_cli(["data", "info", path], capsys)[0] == 0
    train, test = splits.holdout(ratings, 0.3, seed=0)
    model = models.create("torch-biased-mf", epochs=2, factors=2)
    model.fit(train)
    found = metrics.evaluate(model, train, test, relevance_threshold=1.0)
    for metric in ranking:
        assert 0.0 <= found[metric.column] <= 1.0, (metric.column, found)
    assert found["precision_at_10"] <= 3 / 10  # at most 3 hits in a list of 10


# -- 5. compressed and binary files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("ratings.csv.gz", gzip.compress),
        ("ratings.csv.bz2", bz2.compress),
        ("ratings.csv.xz", lzma.compress),
        ("ratings.zip", lambda raw: zipped({"ratings.csv": raw.decode()})),
        ("ratings.csv", gzip.compress),  # compressed whatever its name says
    ],
)
def test_compressed_files_load_transparently(tmp_path: Path, name: str, compress) -> None:
    ratings = data.load(write(tmp_path / name, compress(CSV.encode())))
    assert_csv_loaded(ratings)
    assert ratings.metadata["format"] == "ratings.csv"  # the name inside tells the format


def test_a_release_zip_is_read_through_its_ratings_file(tmp_path: Path) -> None:
    members = {"ml-x/movies.csv": "movieId,title\n10,A\n", "ml-x/ratings.csv": CSV}
    assert_csv_loaded(data.load(write(tmp_path / "ml-x.zip", zipped(members))))


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("r.csv.zst", b"\x28\xb5\x2f\xfd" + bytes(40), "zstd-compressed; decompress it first"),
        ("r.7z", b"7z\xbc\xaf\x27\x1c" + bytes(40), "7z-compressed; decompress it first"),
        (
            "r.csv.gz",
            gzip.compress(CSV.encode() * 50, mtime=0)[:60],
            "damaged gzip-compressed file",
        ),
        ("many.zip", zipped({"a.csv": CSV, "b.csv": CSV}), "zip archive with 2 files (a.csv"),
        ("random.csv", np.random.default_rng(0).bytes(4096), "binary file (NUL bytes"),
        ("plot.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50), "binary file (a PNG"),
        ("book.xlsx", zipped({"[Content_Types].xml": "<x/>", "xl/a.xml": ""}), "binary file"),
        ("cp1252.csv", b"user,item,rating\n1,10,4\nJos\xe9,10,3\n", ":3: not utf-8 text"),
    ],
)
def test_binary_and_unreadable_files_are_refused(tmp_path: Path, capsys, name, content, reason):
    path = write(tmp_path / name, content)
    assert_one_line_error(["data", "info", path], capsys, str(path), reason)


def test_damage_past_the_sniffed_start_is_named(tmp_path: Path, capsys) -> None:
    body = "".join(f"{u}\t{i}\t3\t881250949\n" for u in range(1, 400) for i in range(1, 30))
    latin = write(tmp_path / "latin.data", (body + "7\tCaf\xe9\t4\t881250949\n").encode("latin-1"))
    assert_one_line_error(["data", "info", latin], capsys, f"{latin}:11572: not utf-8 text")
    nul = write(tmp_path / "nul.data", body + "7\t12\x00\t4\t881250949\n")
    assert_one_line_error(
        ["data", "info", nul], capsys, f"{nul}:11572: item '12\\x00' holds a control character"
    )
    cut = gzip.compress(body.encode(), compresslevel=0)
    cut_path = write(tmp_path / "cut.data.gz", cut[: len(cut) // 2])
    assert_one_line_error(["data", "info", cut_path], capsys, f"{cut_path}: damaged gzip")


def test_a_numpy_archive_is_refused_as_binary(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ratings.npz"
    np.savez(path, user=np.arange(3), item=np.arange(3), rating=np.ones(3))
    assert_one_line_error(["data", "info", path], capsys, f"{path}: binary file (a NumPy .npz")


# -- 6. text as spreadsheet tools export it ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.csv", b"\xef\xbb\xbf" + CSV.encode()),
        ("crlf.csv", CSV.replace("\n", "\r\n")),
        ("cr.csv", CSV.replace("\n", "\r")),  # classic Mac line ends
        ("unicode.txt", CSV.replace(",", "\t").replace("\n", "\r\n").encode("utf-16")),
        ("utf32.csv", CSV.encode("utf-32")),
        (
            "quoted.csv",
            '"userId","movieId","rating","timestamp"\n"1","10","4","881250949"\n'
            '"2","10","3","881250950"\n"2","11","5","891717742"\n',
        ),
        ("trailing.csv", CSV + "\n\n  \n,,,\n"),  # blank and empty rows at the end
        ("u.data", "user\titem\trating\ttimestamp\n" + U_DATA),  # header in a headerless format
        ("ratings.dat", "UserID::MovieID::Rating::Timestamp\n" + U_DATA.replace("\t", "::")),
        ("noheader.csv", CSV.split("\n", 1)[1]),  # ratings.csv layout without its header
    ],
)
def test_spreadsheet_exports_load(tmp_path: Path, name: str, content: str | bytes) -> None:
    assert_csv_loaded(data.load(write(tmp_path / name, content)))


def test_semicolons_with_decimal_commas_load(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", "user;item;rating\n1;10;4,5\n2;10;3\n2;11;0,5\n")
    ratings = data.load(path)
    assert sorted(ratings.rating.tolist()) == [0.5, 3.0, 4.5]
    assert ratings.metadata["format"] == "ssv"


def test_a_decimal_point_among_decimal_commas_is_named(tmp_path: Path, capsys) -> None:
    path = write(tmp_path / "mixed.csv", "user;item;rating\n1;10;4,5\n2;10;3.5\n")
    assert_one_line_error(
        ["data", "info", path], capsys, f"{path}:3: rating '3.5' is not a number", "','"
    )


# -- 7. the parse cache never serves stale data -----------------------------------------------


def _edit_in_place_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """What ``vi`` + ``touch -r backup`` does: same path, size and mtime; other content."""
    before = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    with path.open("r+") as stream:  # rewritten in place: same inode
        stream.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_an_edit_restored_to_the_same_size_and_mtime_is_parsed_again(tmp_path: Path) -> None:
    path = write(tmp_path / "u.data", U_DATA)
    assert data.load(path).rating.max() == 5.0
    _edit_in_place_keeping_size_and_mtime(path, "\t5\t", "\t1\t")
    assert data.load(path).rating.max() == 4.0


def test_a_settled_file_is_served_on_its_stat_and_an_edit_still_shows(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(cache, "SETTLED_NS", 0)  # as if the file had been written long ago
    path = write(tmp_path / "u.data", U_DATA)
    data.load(path)
    # a context, not monkeypatch.undo(), which would also drop the isolated MFBENCH_DATA
    with monkeypatch.context() as patched:
        hashed = []
        real_digest = cache.file_digest
        patched.setattr(cache, "file_digest", lambda p: hashed.append(p) or real_digest(p))
        patched.setattr(data, "read_ratings", lambda *a, **k: pytest.fail("parsed again"))
        assert len(data.load(path)) == 3 and not hashed  # unchanged stat: no hash, no parse
    time.sleep(0.05)  # a later timestamp tick, so that the edit gets a new ctime
    _edit_in_place_keeping_size_and_mtime(path, "\t5\t", "\t1\t")
    assert data.load(path).rating.max() == 4.0


def test_a_file_changed_while_parsed_is_not_cached(
    tmp_path: Path, data_cache: Path, monkeypatch, caplog
) -> None:
    path = write(tmp_path / "u.data", U_DATA)
    real_read = data.read_ratings

    def read_then_append(*args, **kwargs):
        ratings = real_read(*args, **kwargs)
        with path.open("a") as stream:
            stream.write("3\t12\t4\t881250951\n")
        return ratings

    monkeypatch.setattr(data, "read_ratings", read_then_append)
    assert len(data.load(path)) == 3
    assert "changed while it was read; not cached" in caplog.text
    assert not list((data_cache / "parsed").glob("*.npz"))


def test_parses_cached_under_other_rules_are_rebuilt(tmp_path: Path, data_cache: Path) -> None:
    path = write(tmp_path / "u.data", U_DATA)
    data.load(path)
    (cached,) = (data_cache / "parsed").glob("*.npz")
    parts, header = cache.storage.load(cached)
    header["fingerprint"]["parser"] = 1
    cache.storage.save(cached, parts, header)
    assert_csv_loaded(data.load(path))
    assert cache.storage.load(cached)[1]["fingerprint"]["parser"] != 1


# -- 8. the Python API refuses what it would wrap or truncate ---------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": np.array([0, 2**31], dtype=np.int64)}, "user codes span [0, 2147483648]"),
        ({"item": np.array([0, 2**40])}, "item codes span [0, 1099511627776]"),
        ({"user": np.array([0.0, 1.5])}, "user #1 is 1.5, not a whole number"),
        ({"item": np.array([0.0, np.nan])}, "item #1 is nan, not a whole number"),
        ({"user": np.array(["a", "b"])}, "user values must be integers"),
        ({"rating": np.array([4.0, 1e39])}, "rating #1 is 1e+39, ratings must be finite"),
        ({"timestamp": [1.5, 2.0]}, "timestamp #0 is 1.5, not a whole number"),
        ({"timestamp": [1_700_000_000_000, 2]}, "timestamp #0 is 1700000000000"),
    ],
)
def test_ratings_refuses_arrays_it_would_wrap_or_truncate(kwargs: dict, message: str) -> None:
    given = {"user": [0, 1], "item": [0, 1], "rating": [4.0, 3.0], **kwargs}
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("+", r"\+")):
        Ratings(**given)


def test_ratings_takes_whole_floats_as_codes() -> None:
    ratings = Ratings(np.array([0.0, 1.0]), np.array([1.0, 0.0]), [4, 3])
    assert ratings.user.tolist() == [0, 1] and ratings.user.dtype == np.int32


# -- the cheap cases: nothing to read, or nothing there ----------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", "", "empty.csv: empty file"),
        ("header.csv", "userId,movieId,rating,timestamp\n", "header.csv: no ratings after"),
        ("u.data", U_DATA + "4\t12\n", "u.data:4: expected 4 fields separated by '\\t', saw 2"),
        ("u.data", U_DATA + "4\t12\t3\t881250949\t9\n", "u.data:4: expected 4 fields"),
        ("u.data", U_DATA + "\t12\t3\t881250949\n", "u.data:4: empty user"),
        ("odd.csv", "1 2 3 4\n", "odd.csv:1: cannot tell the format"),
    ],
)
def test_files_without_usable_ratings(tmp_path: Path, capsys, name, content, needle) -> None:
    path = write(tmp_path / name, content)
    assert_one_line_error(["data", "info", path], capsys, needle)


def test_a_missing_file_and_a_directory_are_named(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "ratings.csv"
    assert_one_line_error(["data", "info", missing], capsys, f"{missing}: no such file")
    write(tmp_path / "ratings.dat", U_DATA.replace("\t", "::"))
    assert_one_line_error(
        ["data", "info", tmp_path], capsys, f"{tmp_path}: is a directory", "ratings.dat"
    )
