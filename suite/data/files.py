"""Reading ratings files: MovieLens u.data, ratings.dat, ratings.csv, and generic CSV/TSV."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from suite.data.ratings import Ratings
from suite.errors import InputError

log = logging.getLogger("mfbench")

#: Header names (lower case, without ``_``, spaces or a ``:type`` suffix) of each column.
COLUMN_NAMES = {
    "user": {"user", "userid", "uid", "users"},
    "item": {"item", "itemid", "iid", "items", "movie", "movieid"},
    "rating": {"rating", "ratings", "score", "value"},
    "timestamp": {"timestamp", "time", "ts", "unixtime"},
}

#: Format name -> (field separator, header): True = always, False = never, None = sniffed.
FORMATS: dict[str, tuple[str, bool | None]] = {
    "u.data": ("\t", False),  # ML-100K: user \t item \t rating \t timestamp
    "ratings.dat": ("::", False),  # ML-1M, ML-10M: user::item::rating::timestamp
    "ratings.csv": (",", True),  # ML-20M and later: userId,movieId,rating,timestamp
    "csv": (",", None),
    "tsv": ("\t", None),
    "ssv": (";", None),
}


@dataclass(frozen=True)
class Layout:
    """Where the four fields sit in a file's lines."""

    format: str
    sep: str
    header_lines: int  # lines before the first rating (blank lines and the header)
    n_fields: int  # fields per line
    columns: dict[str, int]  # "user", "item", "rating" and maybe "timestamp" -> field index


def read_ratings(
    path: str | Path, *, format: str | None = None, name: str | None = None
) -> Ratings:
    """Parse a ratings file into ``Ratings`` (raw ids → codes, duplicates dropped).

    Parameters
    ----------
    path : str or Path
        File in one of ``FORMATS``.
    format : str, optional
        Force a format instead of sniffing it from the file name and first line.
    name : str, optional
        Data set name (default: the file name).

    Raises
    ------
    InputError
        Unknown format, empty file, or a malformed line (the message gives ``file:line``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    layout = sniff_layout(path, format)
    try:
        frame = _read_frame(path, layout, id_dtype="int64")
    except (ValueError, pd.errors.ParserError) as exc:
        _raise_bad_line(path, layout, exc)
        frame = _read_frame(path, layout, id_dtype="str")  # ids that are not integers
    if frame.empty:
        raise InputError(f"{path}: no ratings after the header")
    if frame.isna().to_numpy().any() or not np.isfinite(frame["rating"].to_numpy()).all():
        _raise_bad_line(path, layout, None)
    ratings = Ratings.from_frame(
        frame, name=name or path.name, metadata={"source": str(path), "format": layout.format}
    )
    dropped = ratings.metadata["n_duplicates_dropped"]
    if dropped:
        kept = "the last in the file" if ratings.timestamp is None else "the latest by timestamp"
        log.warning("%s: dropped %d duplicate (user, item) ratings, kept %s", path, dropped, kept)
    return ratings


def sniff_layout(path: Path, format: str | None = None) -> Layout:
    """Work out format, separator, header and column positions from the file's first line."""
    first_number, first_line = _first_line(path)
    if first_line is None:
        raise InputError(f"{path}: empty file")
    if format is None:
        format = _sniff_format(path, first_line)
    if format not in FORMATS:
        raise InputError(f"--format {format!r}: unknown format; choose from {', '.join(FORMATS)}")
    sep, header = FORMATS[format]
    fields = first_line.split(sep)
    if header is None:  # a header names a known column, or holds no number at all
        header = any(_normalise(f) in names for f in fields for names in COLUMN_NAMES.values())
        header = header or not any(_is_number(f) for f in fields)
    if header:
        columns = _columns_from_header(path, first_number, fields)
        return Layout(format, sep, first_number, len(fields), columns)
    if len(fields) not in (3, 4):
        raise InputError(
            f"{path}:{first_number}: expected 3 or 4 fields "
            f"(user, item, rating[, timestamp]) separated by {sep!r}, saw {len(fields)}"
        )
    columns = dict(zip(["user", "item", "rating", "timestamp"], range(len(fields)), strict=False))
    return Layout(format, sep, first_number - 1, len(fields), columns)


def _sniff_format(path: Path, first_line: str) -> str:
    if "::" in first_line:
        return "ratings.dat"
    if path.name == "u.data":
        return "u.data"
    for sep, fmt in (("\t", "tsv"), (",", "csv"), (";", "ssv")):
        if sep in first_line:
            if fmt == "csv" and path.name == "ratings.csv":
                return "ratings.csv"
            return fmt
    raise InputError(
        f"{path}:1: cannot tell the format (no tab, comma, ';' or '::'); "
        f"pass --format ({', '.join(FORMATS)})"
    )


def _columns_from_header(path: Path, line_number: int, fields: list[str]) -> dict[str, int]:
    normalised = [_normalise(f) for f in fields]
    columns = {}
    for column, aliases in COLUMN_NAMES.items():
        matches = [i for i, field in enumerate(normalised) if field in aliases]
        if matches:
            columns[column] = matches[0]
        elif column != "timestamp":
            raise InputError(
                f"{path}:{line_number}: header {fields} has no {column} column "
                f"(accepted names: {', '.join(sorted(aliases))})"
            )
    return columns


def _read_frame(path: Path, layout: Layout, id_dtype: str) -> pd.DataFrame:
    """Fast path: pandas' C parser. ``::`` is read as ``:`` with the empty fields skipped.

    Every field is read (no ``usecols``) so that a line with extra fields is an error;
    a line with missing fields shows up as NaN.
    """
    sep, positions, n_fields = layout.sep, dict(layout.columns), layout.n_fields
    if sep == "::":
        sep, n_fields = ":", 2 * n_fields - 1
        positions = {column: 2 * index for column, index in positions.items()}
    dtypes = {"user": id_dtype, "item": id_dtype, "rating": "float32", "timestamp": "float64"}
    frame = pd.read_csv(
        path,
        sep=sep,
        header=None,
        names=range(n_fields),
        skiprows=layout.header_lines,
        dtype={positions[column]: dtypes[column] for column in positions},
        engine="c",
        skip_blank_lines=True,
    )
    return pd.DataFrame({column: frame[index] for column, index in positions.items()})


def _raise_bad_line(path: Path, layout: Layout, cause: Exception | None) -> None:
    """Scan the file line by line and raise ``InputError`` naming the first malformed line.

    Returns without raising when every line is well formed but ``cause`` came from ids that
    are not integers (the caller then re-reads them as strings).
    """
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip("\r\n")
            if number <= layout.header_lines or not line.strip():
                continue
            problem = _line_problem(line.split(layout.sep), layout)
            if problem:
                raise InputError(f"{path}:{number}: {problem}: {line[:80]!r}")
    if cause is not None and not isinstance(cause, pd.errors.ParserError):
        return
    detail = f" ({cause})" if cause is not None else " (a user or item id read as missing)"
    raise InputError(f"{path}: could not parse the ratings{detail}")


def _line_problem(fields: list[str], layout: Layout) -> str | None:
    if len(fields) != layout.n_fields:
        return f"expected {layout.n_fields} fields separated by {layout.sep!r}, saw {len(fields)}"
    for column, index in layout.columns.items():
        value = fields[index].strip()
        if not value:
            return f"empty {column}"
        if column in ("rating", "timestamp"):
            if not _is_number(value):
                return f"{column} {value!r} is not a number"
            if not math.isfinite(float(value)):
                return f"{column} {value!r} is not finite"
    return None


def _normalise(header_field: str) -> str:
    """``"user_id:token"`` -> ``"userid"``: lower case, no type suffix, no separators."""
    return re.sub(r"[\s_\-]", "", header_field.split(":")[0].lower())


def _first_line(path: Path) -> tuple[int, str | None]:
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            if raw.strip():
                return number, raw.rstrip("\r\n")
    return 0, None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
