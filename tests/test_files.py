"""Ratings files: every MovieLens format and generic CSV/TSV, and each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite import data
from suite.data.files import read_ratings
from suite.errors import InputError

ROWS = [
    (196, 242, 3.0, 881250949),
    (186, 302, 3.0, 891717742),
    (22, 377, 1.0, 878887116),
    (196, 377, 4.5, 881250950),
]
RECBOLE_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def lines(sep: str, rows=ROWS, header: str | None = None) -> str:
    body = [sep.join(f"{v:g}" if isinstance(v, float) else str(v) for v in row) for row in rows]
    return "\n".join(([header] if header else []) + body) + "\n"


def assert_parsed(ratings, with_timestamps: bool = True) -> None:
    assert len(ratings) == 4 and (ratings.n_users, ratings.n_items) == (3, 3)
    assert list(ratings.user_ids) == [22, 186, 196] and list(ratings.item_ids) == [242, 302, 377]
    by_pair = {
        (int(ratings.user_ids[u]), int(ratings.item_ids[i])): r
        for u, i, r in zip(ratings.user, ratings.item, ratings.rating, strict=True)
    }
    assert by_pair == {(196, 242): 3.0, (186, 302): 3.0, (22, 377): 1.0, (196, 377): 4.5}
    assert (ratings.timestamp is not None) == with_timestamps
    if with_timestamps:
        assert sorted(ratings.timestamp.tolist()) == sorted(row[3] for row in ROWS)


@pytest.mark.parametrize(
    ("filename", "text", "expected_format"),
    [
        ("u.data", lines("\t"), "u.data"),
        ("ratings.dat", lines("::"), "ratings.dat"),  # ML-1M / ML-10M (half stars in 10M)
        ("ratings.csv", lines(",", header="userId,movieId,rating,timestamp"), "ratings.csv"),
        ("any.csv", lines(",", header="user_id,item_id,rating,timestamp"), "csv"),
        ("any.tsv", lines("\t"), "tsv"),
        ("any.txt", lines(";", header="user;item;rating;ts"), "ssv"),
        ("ml-100k.inter", lines("\t", header=RECBOLE_HEADER), "tsv"),
    ],
)
def test_reads_each_format(tmp_path: Path, filename: str, text: str, expected_format: str) -> None:
    ratings = read_ratings(write(tmp_path / filename, text))
    assert ratings.metadata["format"] == expected_format
    assert_parsed(ratings)


def test_reads_columns_by_header_name_in_any_order(tmp_path: Path) -> None:
    rows = [(r[3], r[2], r[1], r[0]) for r in ROWS]
    path = write(
        tmp_path / "shuffled.csv", lines(",", rows, header="Timestamp,Rating,MovieId,UserId")
    )
    assert_parsed(read_ratings(path))


def test_three_columns_without_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path / "plain.csv", lines(",", [r[:3] for r in ROWS]))
    assert_parsed(read_ratings(path), with_timestamps=False)


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "u.data", "\n" + lines("\t").replace("\n", "\n\n", 1))
    assert_parsed(read_ratings(path))


def test_string_ids(tmp_path: Path) -> None:
    path = write(tmp_path / "named.csv", "user,item,rating\nann,x1,4\nbob,x1,2\nann,x2,5\n")
    ratings = read_ratings(path)
    assert list(ratings.user_ids) == ["ann", "bob"] and len(ratings) == 3


def test_format_can_be_forced(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.log", lines("::"))
    assert_parsed(read_ratings(path, format="ratings.dat"))
    with pytest.raises(InputError, match="--format 'xml': unknown format"):
        read_ratings(path, format="xml")


def test_duplicates_keep_latest_and_are_counted(tmp_path: Path, caplog) -> None:
    path = write(tmp_path / "u.data", "1\t2\t5\t200\n1\t2\t1\t100\n1\t3\t4\t100\n")
    ratings = read_ratings(path)
    assert len(ratings) == 2 and ratings.metadata["n_duplicates_dropped"] == 1
    assert sorted(ratings.rating.tolist()) == [4.0, 5.0]
    assert "dropped 1 duplicate" in caplog.text


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1\t2\t3\t4\n1\t3\t4\n", 2, "expected 4 fields"),
        ("1\t2\t3\t4\n1\t3\t4\t5\t6\n", 2, "expected 4 fields"),
        ("1\t2\t3\t4\n\n2\t3\tfour\t5\n", 3, "rating 'four' is not a number"),
        ("1\t2\t3\t4\n2\t3\tnan\t5\n", 2, "rating 'nan' is not finite"),
        ("1\t2\tinf\t4\n", 1, "rating 'inf' is not finite"),
        ("1\t2\t3\t4\n2\t3\t4\tlater\n", 2, "timestamp 'later' is not a number"),
        ("1\t2\t3\t4\n\t3\t4\t5\n", 2, "empty user"),
    ],
)
def test_malformed_line_is_named(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "u.data", text)
    with pytest.raises(InputError, match=rf"u\.data:{line}: {message}"):
        read_ratings(path)


def test_malformed_ratings_dat_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.dat", "1::2::3::4\n5::6::7::8::9\n")
    with pytest.raises(InputError, match=r"ratings\.dat:2: expected 4 fields separated by '::'"):
        read_ratings(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("userId,movieId,rating,timestamp\n", "no ratings after the header"),
        ("who,what,score\n1,2,3\n", "header .* has no user column"),
        ("1 2 3 4\n", "cannot tell the format"),
    ],
)
def test_unusable_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_ratings(write(tmp_path / "bad.csv", text))


def test_load_caches_parsed_file_and_notices_changes(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "u.data", lines("\t"))
    first = data.load(path)
    calls = []
    with monkeypatch.context() as patched:  # (monkeypatch.undo would drop MFBENCH_DATA too)
        patched.setattr(data, "read_ratings", lambda *a, **k: calls.append(a) or first)
        second = data.load(path)
    assert not calls and np.array_equal(first.rating, second.rating)  # served from the cache
    write(path, lines("\t", ROWS[:3]))  # the file changes: the cache must not serve stale data
    assert len(data.load(path)) == 3


def test_unreadable_cache_is_rebuilt(tmp_path: Path, data_cache: Path, caplog) -> None:
    path = write(tmp_path / "u.data", lines("\t"))
    data.load(path)
    (cached,) = (data_cache / "parsed").glob("*.npz")
    cached.write_bytes(cached.read_bytes()[:200])  # truncate it
    assert_parsed(data.load(path))
    assert "cache unreadable" in caplog.text


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(InputError, match=r"unknown data set 'ml-7k'.*synthetic-seed-2017.*ml-100k"):
        data.load("ml-7k")
