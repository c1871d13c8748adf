"""MovieLens releases: fetching (GroupLens, or PyPI for ML-100K), checksums, expected sizes.

The GroupLens license forbids redistributing MovieLens, so nothing here is committed: each
release is downloaded into the cache folder (``suite.data.cache.cache_dir()``) on first use.
"""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path

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
            raise InputError(f"ml-100k: GroupLens unreachable and `pip download` failed: {last}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            inter = wheel.read(RECBOLE_MEMBER)
    digest = hashlib.sha256(inter).hexdigest()
    if digest != RECBOLE_INTER_SHA256:
        raise InputError(
            f"ml-100k: {RECBOLE_MEMBER} in {wheels[0].name} has SHA-256 {digest}, "
            f"expected {RECBOLE_INTER_SHA256}; refusing it"
        )
    # RecBole's file is u.data with a typed header line ("user_id:token\t..."): drop it.
    target.write_bytes(inter.split(b"\n", 1)[1])
    return {"source": f"PyPI {RECBOLE_REQUIREMENT}: {RECBOLE_MEMBER}", "sha256_inter": digest}


def _sha256(path: Path) -> str:
    return _digest(path, "sha256")


def _digest(path: Path, algorithm: str) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, algorithm).hexdigest()
