"""MovieLens releases: fetching (GroupLens, or PyPI for ML-100K), checksums, expected sizes.

The GroupLens license forbids redistributing MovieLens, so nothing here is committed: each
release is downloaded into the cache folder (``suite.data.cache.cache_dir()``) on first use.

ML-100K side features (``suite.data.load("ml-100k", features=True)``) come from the same
RecBole 1.2.1 wheel: its ``ml-100k.user`` and ``ml-100k.item`` (tab-separated, typed
header), each checked against a pinned SHA-256 and kept verbatim in
``<cache>/raw/ml-100k-features``. Rows are matched to the ratings' codes by raw id (the
tokens of ``.inter`` and of ``.user``/``.item`` are the same ids). Encoding, one column per
value, weight 1, no identity columns (``Features.with_identity`` adds them):

* users: ``age=<18`` / ``18-24`` / ``25-34`` / ``35-44`` / ``45-49`` / ``50-55`` / ``56+``
  (ML-1M's buckets), ``gender=M``, ``occupation=writer``, ``zip=9`` (first digit of the zip
  code, the US region; ``zip=other`` for a code that starts with a letter, e.g. Canadian);
* items: ``genre=Comedy``, one per genre (a movie may have several; RecBole's ``unknown``
  genre counts as missing), ``decade=1990s`` from the release year; titles are not used.

A missing or unreadable attribute (empty field, an age that is not a number, a release
year that is not four digits) gives no column for that attribute; a user or item absent
from the file gets an empty row. Columns are ordered by attribute as listed, then value
(age buckets in age order, the rest sorted).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from suite.data.features import Features
from suite.data.ratings import Ratings
from suite.errors import InputError

log = logging.getLogger("mfbench")

#: Base address of the releases; ``$MFBENCH_GROUPLENS_URL`` points it at a mirror.
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens"


@dataclass(frozen=True)
class Release:
    """One MovieLens release: where its ratings live and what they must hold."""

    name: str
    member: str  # ratings file inside the zip
    md5: str | None  # of the zip, as GroupLens publishes it (None: not pinned, release changes)
    n_ratings: int | None = None
    n_users: int | None = None
    n_items: int | None = None

    @property
    def url(self) -> str:
        base = os.environ.get("MFBENCH_GROUPLENS_URL", GROUPLENS_URL).rstrip("/")
        return f"{base}/{self.name}.zip"

    @property
    def format(self) -> str:
        return Path(self.member).name


#: Published sizes; ml-latest-small changes with each refresh, so it is not pinned.
RELEASES: dict[str, Release] = {
    r.name: r
    for r in (
        Release(
            "ml-100k", "ml-100k/u.data", "0e33842e24a9c977be4e0107933c0723", 100_000, 943, 1_682
        ),
        Release(
            "ml-1m",
            "ml-1m/ratings.dat",
            "c4d9eecfca2ab87c1945afe126590906",
            1_000_209,
            6_040,
            3_706,
        ),
        Release(
            "ml-10m",
            "ml-10M100K/ratings.dat",
            "ce571fd55effeba0271552578f2648bd",
            10_000_054,
            69_878,
            10_677,
        ),
        Release(
            "ml-20m",
            "ml-20m/ratings.csv",
            "cd245b17a1ae2cc31bb14903e1204af3",
            20_000_263,
            138_493,
            26_744,
        ),
        Release(
            "ml-25m",
            "ml-25m/ratings.csv",
            "6b51fb2759a8657d3bfcbfc42b592ada",
            25_000_095,
            162_541,
            59_047,
        ),
        Release("ml-32m", "ml-32m/ratings.csv", None, 32_000_204, 200_948, 84_432),
        Release("ml-latest-small", "ml-latest-small/ratings.csv", None),
    )
}

#: ML-100K as shipped in the RecBole 1.2.1 wheel on PyPI (same rows, same order as u.data).
RECBOLE_REQUIREMENT = "recbole==1.2.1"
RECBOLE_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
RECBOLE_INTER_SHA256 = "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"

#: The feature files in the same wheel, by their name in the cache, and their SHA-256.
RECBOLE_FEATURE_MEMBERS = {
    "ml-100k.user": "recbole/dataset_example/ml-100k/ml-100k.user",
    "ml-100k.item": "recbole/dataset_example/ml-100k/ml-100k.item",
}
RECBOLE_FEATURE_SHA256 = {
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
}

#: Bump when the feature encoding changes: parsed copies with features are then rebuilt.
FEATURES_VERSION = 1

#: ML-1M's age buckets: (label, lowest age in it), in age order.
AGE_BUCKETS = (
    ("<18", 0),
    ("18-24", 18),
    ("25-34", 25),
    ("35-44", 35),
    ("45-49", 45),
    ("50-55", 50),
    ("56+", 56),
)

_SOURCE_FILE = "source.json"


def fetch(name: str, *, force: bool = False) -> Path:
    """Download release ``name`` into the cache (if not there yet); return its ratings file.

    The zip's MD5 is checked against the published one; a mismatch deletes the download and
    tries once more, then refuses. When GroupLens cannot be reached, ML-100K is taken from
    the RecBole 1.2.1 wheel on PyPI (``pip download --no-deps``; RecBole is never
    installed) and checked against a pinned SHA-256.
    """
    from suite.data.cache import cache_dir

    release = _release(name)
    folder = cache_dir() / "raw" / name
    target = folder / release.format
    if not force and _verified(folder, target):
        return target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        source = _fetch_from_grouplens(release, target)
    except urllib.error.URLError as exc:  # unreachable, not a checksum problem
        if name != "ml-100k":
            raise InputError(
                f"{name}: cannot download {release.url} ({exc.reason}); download it elsewhere "
                f"and pass the path of its {release.format} instead of the name"
            ) from exc
        log.info(
            "%s: GroupLens unreachable (%s); using the %s wheel from PyPI",
            name,
            exc.reason,
            RECBOLE_REQUIREMENT,
        )
        source = _fetch_ml100k_from_pypi(target)
    source["sha256"] = _sha256(target)
    (folder / _SOURCE_FILE).write_text(json.dumps(source, indent=1))
    return target


class MovieLensSource:
    """The MovieLens releases, as a data source (``suite.data.catalogue``): fetched once into
    the cache, parsed once into a binary copy there, and checked against the published counts.
    """

    def names(self) -> list[str]:
        return list(RELEASES)

    def load(self, name: str, *, seed: int, features: bool, use_cache: bool) -> Ratings:
        from suite.data import cache
        from suite.data.files import PARSER_VERSION, read_ratings

        if features and not self.has_features(name):
            raise InputError(f"{name}: side features are available for ml-100k only")
        stem = f"{name}+features" if features else name
        parsed = cache.cache_dir() / "parsed" / f"{stem}.npz"
        fingerprint: dict[str, object] = {"release": name, "parser": PARSER_VERSION}
        if features:
            fingerprint["features"] = FEATURES_VERSION
        ratings = cache.load_parsed(parsed, fingerprint) if use_cache else None
        if ratings is None:
            ratings = read_ratings(fetch(name), name=name)
            check_counts(ratings, name)  # before caching: never store a wrong copy
            if features:
                user_features, item_features = read_features(name, ratings)
                ratings = ratings.with_features(
                    user_features=user_features, item_features=item_features
                )
            if use_cache:
                cache.save_parsed(ratings, parsed, fingerprint)
        else:
            check_counts(ratings, name)
        return ratings

    def has_features(self, name: str) -> bool:
        return name == "ml-100k"

    def fetch(self, name: str, *, force: bool) -> Path | None:
        return fetch(name, force=force)


SOURCE = MovieLensSource()


def check_counts(ratings: Ratings, name: str) -> None:
    """Refuse a parsed release whose size differs from the published one."""
    release = _release(name)
    expected = (release.n_ratings, release.n_users, release.n_items)
    found = (len(ratings), ratings.n_users, ratings.n_items)
    for want, got, what in zip(expected, found, ("ratings", "users", "items"), strict=True):
        if want is not None and want != got:
            raise InputError(f"{name}: parsed {got:,} {what}, the release has {want:,}")


def _release(name: str) -> Release:
    if name not in RELEASES:
        raise InputError(f"unknown MovieLens release {name!r}; choose from {', '.join(RELEASES)}")
    return RELEASES[name]


def _verified(folder: Path, target: Path) -> bool:
    """True when ``target`` exists and still matches the checksum taken when it was fetched."""
    try:
        source = json.loads((folder / _SOURCE_FILE).read_text())
    except (OSError, ValueError):
        return False
    if target.exists() and source.get("sha256") == _sha256(target):
        return True
    log.warning("%s: does not match its recorded checksum, fetching again", target)
    return False


def _fetch_from_grouplens(release: Release, target: Path) -> dict[str, str]:
    archive = target.parent / f"{release.name}.zip"
    for attempt in (1, 2):
        _download(release.url, archive)
        digest = _digest(archive, "md5")
        if release.md5 is None or digest == release.md5:
            break
        archive.unlink()
        if attempt == 2:
            raise InputError(
                f"{release.url}: MD5 {digest} does not match the published {release.md5} "
                "(twice); refusing the download"
            )
        log.warning("%s: MD5 mismatch, downloading again", release.url)
    with (
        zipfile.ZipFile(archive) as zipped,
        zipped.open(release.member) as member,
        target.open("wb") as out,
    ):
        shutil.copyfileobj(member, out)
    archive.unlink()
    return {"source": release.url, "md5": digest}


def _download(url: str, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    with urllib.request.urlopen(url, timeout=30) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out, length=1 << 20)
    os.replace(partial, path)


def _fetch_ml100k_from_pypi(target: Path) -> dict[str, str]:
    with _recbole_wheel() as wheel_path, zipfile.ZipFile(wheel_path) as wheel:
        inter = wheel.read(RECBOLE_MEMBER)
        _keep_features(wheel, wheel_path.name)  # same download; a failure here is not fatal
    digest = hashlib.sha256(inter).hexdigest()
    if digest != RECBOLE_INTER_SHA256:
        raise InputError(
            f"ml-100k: {RECBOLE_MEMBER} in {wheel_path.name} has SHA-256 {digest}, "
            f"expected {RECBOLE_INTER_SHA256}; refusing it"
        )
    # RecBole's file is u.data with a typed header line ("user_id:token\t..."): drop it.
    target.write_bytes(inter.split(b"\n", 1)[1])
    return {"source": f"PyPI {RECBOLE_REQUIREMENT}: {RECBOLE_MEMBER}", "sha256_inter": digest}


@contextlib.contextmanager
def _recbole_wheel(why: str = "GroupLens unreachable and ") -> Iterator[Path]:
    """``pip download --no-deps`` the RecBole wheel into a temporary folder; yield its path."""
    with tempfile.TemporaryDirectory(prefix="mfbench-recbole-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            RECBOLE_REQUIREMENT,
            "--dest",
            tmp,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("recbole-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise InputError(f"ml-100k: {why}`pip download` failed: {last}")
        yield wheels[0]


# -- side features (ML-100K) ----------------------------------------------------------------
def fetch_features(name: str) -> dict[str, Path]:
    """The ML-100K feature files in the cache (``"ml-100k.user"``, ``"ml-100k.item"`` → path).

    Fetched from the RecBole wheel when missing or when a file no longer matches the
    SHA-256 recorded when it was fetched (which must be the pinned one); a wheel whose
    members differ from the pinned checksums is refused.
    """
    if name != "ml-100k":
        raise InputError(f"{name}: side features are available for ml-100k only")
    folder = _features_folder()
    if _features_verified(folder):
        return {member: folder / member for member in RECBOLE_FEATURE_MEMBERS}
    with _recbole_wheel("") as wheel_path, zipfile.ZipFile(wheel_path) as wheel:
        problem = _keep_features(wheel, wheel_path.name)
    if problem:
        raise InputError(f"ml-100k: {problem}; refusing it")
    return {member: folder / member for member in RECBOLE_FEATURE_MEMBERS}


def read_features(name: str, ratings: Ratings) -> tuple[Features, Features]:
    """``(user_features, item_features)`` of release ``name``, rows aligned to ``ratings``' codes.

    The encoding is described in the module docstring.
    """
    files = fetch_features(name)
    users = _read_recbole(files["ml-100k.user"], ("user_id", "age", "gender", "occupation"))
    items = _read_recbole(files["ml-100k.item"], ("item_id", "release_year", "class"))
    user_rows = _rows(ratings.user_ids, users.pop("user_id"), files["ml-100k.user"])
    item_rows = _rows(ratings.item_ids, items.pop("item_id"), files["ml-100k.item"])
    age = pd.to_numeric(users["age"], errors="coerce").to_numpy()
    known = age >= 0  # NaN (not a number) and negative ages: missing
    bucket = np.searchsorted([low for _, low in AGE_BUCKETS], age[known], side="right") - 1
    zip_code = users["zip_code"].str.strip() if "zip_code" in users else None
    user_values = [
        ("age", user_rows[known], np.array([AGE_BUCKETS[b][0] for b in bucket], dtype=object)),
        *(
            _present(column, user_rows, users[column].str.strip())
            for column in ("gender", "occupation")
        ),
    ]
    if zip_code is not None:
        first = zip_code.str[:1]
        region = first.where(first.str.isdigit() | (first == ""), "other")
        user_values.append(_present("zip", user_rows, region))
    year = items["release_year"].str.strip()
    four_digits = year.str.fullmatch(r"\d{4}").to_numpy(dtype=bool)
    decades = (year[four_digits].astype(int) // 10 * 10).astype(str) + "s"
    genres = items["class"].str.split().explode().dropna()
    genres = genres[genres != "unknown"]
    item_values = [
        _present("genre", item_rows[genres.index.to_numpy()], genres),
        ("decade", item_rows[four_digits], decades.to_numpy(dtype=object)),
    ]
    age_order = [label for label, _ in AGE_BUCKETS]
    return (
        _one_hot(user_values, ratings.n_users, {"age": age_order}),
        _one_hot(item_values, ratings.n_items, {}),
    )


def _features_folder() -> Path:
    from suite.data.cache import cache_dir

    return cache_dir() / "raw" / "ml-100k-features"


def _features_verified(folder: Path) -> bool:
    """True when every feature file is there and matches its recorded (and pinned) SHA-256."""
    try:
        recorded = json.loads((folder / _SOURCE_FILE).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for member, pinned in RECBOLE_FEATURE_SHA256.items():
        path = folder / member
        if not (path.exists() and recorded.get(member) == pinned == _sha256(path)):
            log.warning("%s: missing or does not match its checksum, fetching again", path)
            return False
    return True


def _keep_features(wheel: zipfile.ZipFile, wheel_name: str) -> str | None:
    """Store the wheel's feature files in the cache if they match the pinned checksums.

    Returns ``None`` when stored, else what is wrong (the ratings fetch, which calls this to
    spare a second download, ignores it; ``fetch_features`` refuses).
    """
    contents = {}
    for member, path_in_wheel in RECBOLE_FEATURE_MEMBERS.items():
        try:
            contents[member] = wheel.read(path_in_wheel)
        except KeyError:
            return f"{wheel_name} has no {path_in_wheel}"
        digest = hashlib.sha256(contents[member]).hexdigest()
        if digest != RECBOLE_FEATURE_SHA256[member]:
            return (
                f"{path_in_wheel} in {wheel_name} has SHA-256 {digest}, "
                f"expected {RECBOLE_FEATURE_SHA256[member]}"
            )
    folder = _features_folder()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for member, content in contents.items():
        (folder / member).write_bytes(content)
    source = {
        "source": f"PyPI {RECBOLE_REQUIREMENT}: {', '.join(RECBOLE_FEATURE_MEMBERS.values())}",
        "sha256": {member: _sha256(folder / member) for member in contents},
    }
    (folder / _SOURCE_FILE).write_text(json.dumps(source, indent=1))
    return None


def _read_recbole(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """A RecBole atomic file as text columns named without their type (``age:token`` → ``age``)."""
    frame = pd.read_csv(
        path,
        sep="\t",
        dtype=str,
        keep_default_na=False,
        quoting=3,  # csv.QUOTE_NONE: titles hold quotes
        encoding="utf-8",
        encoding_errors="replace",
    )
    frame.columns = [str(column).split(":", 1)[0] for column in frame.columns]
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)} in its header")
    return frame


def _rows(known_ids: np.ndarray, file_ids: pd.Series, path: Path) -> np.ndarray:
    """Code of each line's raw id in the ratings (-1: id not rated there)."""
    ids = file_ids.str.strip()
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise InputError(f"{path}: id {repeated.iloc[0]!r} appears on more than one line")
    return pd.Index(np.asarray(known_ids).astype(str)).get_indexer(ids.to_numpy())


def _present(
    attribute: str, rows: np.ndarray, values: pd.Series
) -> tuple[str, np.ndarray, np.ndarray]:
    """``(attribute, rows, values)`` without the empty values (a missing attribute)."""
    given = (values != "").to_numpy(dtype=bool)
    return attribute, rows[given], values.to_numpy(dtype=object)[given]


def _one_hot(
    values: list[tuple[str, np.ndarray, np.ndarray]], n_rows: int, order: dict[str, list[str]]
) -> Features:
    """One column per ``attribute=value``, weight 1; rows of ids the ratings lack (-1) dropped."""
    names: list[str] = []
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for attribute, row, value in values:
        row, value = row[row >= 0], value[row >= 0]
        present = set(value.tolist())
        labels = [v for v in order[attribute] if v in present] if attribute in order else None
        labels = labels if labels is not None else sorted(present)
        column = pd.Index(labels).get_indexer(value) + len(names)
        names.extend(f"{attribute}={label}" for label in labels)
        rows.append(row)
        columns.append(column)
    row, column = np.concatenate(rows), np.concatenate(columns)
    pairs = np.unique(np.stack([row, column], axis=1), axis=0)  # a genre listed twice: once
    matrix = sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.float32), (pairs[:, 0], pairs[:, 1])),
        shape=(n_rows, len(names)),
    )
    return Features(matrix, tuple(names))


def _sha256(path: Path) -> str:
    return _digest(path, "sha256")


def _digest(path: Path, algorithm: str) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, algorithm).hexdigest()
