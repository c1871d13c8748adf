"""Reading ratings files: MovieLens u.data, ratings.dat, ratings.csv, and generic CSV/TSV/SSV.

A file either loads as it is meant or is refused with one ``InputError`` line naming
``file:line`` (where there is one) and the reason. It is read in four steps:

1. ``Source.open`` (``suite.data.source``): compression (gzip, bz2, xz, zip read
   transparently), binary files refused, encoding (UTF-8 with or without BOM, UTF-16/32
   with BOM).
2. ``sniff_layout``: format, separator, header, column positions and decimal mark, from
   the first lines.
3. pandas' C parser reads every row (the fast path). When it fails, the line scanner
   (``_raise_bad_line``) names the first malformed line.
4. ``_rows_are_valid`` checks every value at once against the rules below; a failing row
   is named by the same line scanner, so both paths apply one set of rules.

The rules
---------
* **Fields**: headerless lines hold ``user, item, rating[, timestamp]``; with a header the
  columns are found by name in any order (``COLUMN_NAMES``). A header is recognised in
  every format (a first line that names a known column, or has three fields or more and no
  number), so a u.data or ratings.dat file with a header line loads, and a ratings.csv
  without one too. Quoted fields (``"4.5"``) are unquoted.
* **Skipped lines**: blank lines, and lines whose fields are all empty (``,,,`` as
  spreadsheets export empty rows). Line endings may be LF, CRLF or CR.
* **Ids are labels**: a column whose ids are all integers that fit 64 bits (negative ones
  included) is read as ``int64``; otherwise (ids beyond 64 bits, names, ``1.5``) the whole
  column is read as text, stripped of surrounding spaces. Codes follow the sorted ids. An
  id holding a control character (a NUL, say) is refused as damage.
* **Ratings**: numbers, finite, within ``±RATING_LIMIT`` (10⁶; the reason is in
  ``suite.data.ratings``). Files separated by ``;`` or tabs may use a decimal comma
  (``4,5``, as spreadsheets in many locales write) when their first lines do (with one or
  two decimals: ``1,000`` might be a thousand). A file uses one decimal mark throughout.
* **Timestamps**: seconds since the epoch within ``TIMESTAMP_RANGE`` (1970 to 2100);
  milliseconds fall outside it and are refused. Fractional seconds are dropped (floor).
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from suite.data.ratings import RATING_LIMIT, TIMESTAMP_RANGE, Ratings
from suite.data.source import Source
from suite.errors import InputError

log = logging.getLogger("mfbench")

#: Header names (lower case, without ``_``, spaces or a ``:type`` suffix) of each column.
COLUMN_NAMES = {
    "user": {"user", "userid", "uid", "users"},
    "item": {"item", "itemid", "iid", "items", "movie", "movieid"},
    "rating": {"rating", "ratings", "score", "value"},
    "timestamp": {"timestamp", "time", "ts", "unixtime"},
}

#: Format name -> field separator. Whether a file has a header is read from its first line.
FORMATS: dict[str, str] = {
    "u.data": "\t",  # ML-100K: user \t item \t rating \t timestamp
    "ratings.dat": "::",  # ML-1M, ML-10M: user::item::rating::timestamp
    "ratings.csv": ",",  # ML-20M and later: userId,movieId,rating,timestamp
    "csv": ",",
    "tsv": "\t",
    "ssv": ";",
}

#: Columns of a headerless line, in order.
POSITIONS = ("user", "item", "rating", "timestamp")

#: File names of the MovieLens formats: the member read from a zip archive of a release.
MOVIELENS_FILES = ("u.data", "ratings.dat", "ratings.csv")

#: Bumped whenever the rules change, so that parses cached under other rules are rebuilt.
PARSER_VERSION = 3  # 3: ids kept as written (007 and 7 are two users)

#: Numeric columns -> (lowest, highest accepted value, the range as messages name it).
BOUNDS = {
    "rating": (-RATING_LIMIT, RATING_LIMIT, f"±{RATING_LIMIT:g} (the ratings limit)"),
    "timestamp": (
        *TIMESTAMP_RANGE,
        f"{TIMESTAMP_RANGE[0]}..{TIMESTAMP_RANGE[1]} (seconds since the epoch, 1970..2100)",
    ),
}

#: A number written with a decimal comma: one or two decimals, so that a thousands separator
#: (``1,000``) is never taken for one (such a file is refused, naming the line, instead).
#: What no id holds: a control character is a sign of a damaged or binary file.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")

#: A line of nothing but separators and spaces holds no field (``,,,``, ``;;;``).
_NO_FIELDS = re.compile(r"[\s,;:]*")

_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d{1,2}\s*$")


@dataclass(frozen=True)
class Layout:
    """Where the four fields sit in a file's lines."""

    format: str
    sep: str
    header_lines: int  # lines before the first rating (blank lines and the header)
    n_fields: int  # fields per line
    columns: dict[str, int]  # "user", "item", "rating" and maybe "timestamp" -> field index
    decimal: str = "."  # decimal mark of the numbers: "." or ","


def read_ratings(
    path: str | Path, *, format: str | None = None, name: str | None = None
) -> Ratings:
    """Parse a ratings file into ``Ratings`` (raw ids → codes, duplicates dropped).

    Parameters
    ----------
    path : str or Path
        File in one of ``FORMATS``, possibly compressed (see the module docstring).
    format : str, optional
        Force a format instead of sniffing it from the file name and first line.
    name : str, optional
        Data set name (default: the file name).

    Raises
    ------
    InputError
        Unreadable, binary or empty file, unknown format, or a line that breaks a rule of
        the module docstring (the message gives ``file:line``).
    """
    path = Path(path)
    source = Source.open(path, wanted=MOVIELENS_FILES)
    layout = sniff_layout(source, format)
    frame = _parse(source, layout)
    ratings = Ratings.from_frame(
        frame, name=name or path.name, metadata={"source": str(path), "format": layout.format}
    )
    dropped = ratings.metadata["n_duplicates_dropped"]
    if dropped:
        kept = "the last in the file" if ratings.timestamp is None else "the latest by timestamp"
        log.warning("%s: dropped %d duplicate (user, item) ratings, kept %s", path, dropped, kept)
    return ratings


# -- the layout -----------------------------------------------------------------------------


def sniff_layout(source: Source, format: str | None = None) -> Layout:
    """Work out format, separator, header, columns and decimal mark from the first lines."""
    sample = [(n, line) for n, line in source.head_lines() if not _NO_FIELDS.fullmatch(line)]
    if not sample:
        raise InputError(f"{source.path}: empty file")
    first_number, first_line = sample[0]
    if format is None:
        format = _sniff_format(source, first_line)
    if format not in FORMATS:
        raise InputError(f"--format {format!r}: unknown format; choose from {', '.join(FORMATS)}")
    sep = FORMATS[format]
    fields = _split(first_line, sep)
    if _is_header(fields):
        columns = _columns_from_header(source.path, first_number, fields)
        header_lines, rows = first_number, sample[1:]
    elif len(fields) in (3, 4):
        columns = {column: index for index, column in enumerate(POSITIONS[: len(fields)])}
        header_lines, rows = first_number - 1, sample
    else:
        raise InputError(
            f"{source.path}:{first_number}: expected 3 or 4 fields "
            f"(user, item, rating[, timestamp]) separated by {sep!r}, saw {len(fields)}"
        )
    decimal = _sniff_decimal([_split(line, sep) for _, line in rows], sep, columns)
    return Layout(format, sep, header_lines, len(fields), columns, decimal)


def _sniff_format(source: Source, first_line: str) -> str:
    if "::" in first_line:
        return "ratings.dat"
    if source.name == "u.data":
        return "u.data"
    candidates = (("\t", "tsv"), (";", "ssv"), (",", "csv"))  # ',' last: it is also a decimal
    splitting = [fmt for sep, fmt in candidates if len(_split(first_line, sep)) >= 3]
    present = [fmt for sep, fmt in candidates if sep in first_line]
    for fmt in splitting or present:
        return "ratings.csv" if fmt == "csv" and source.name == "ratings.csv" else fmt
    raise InputError(
        f"{source.path}:1: cannot tell the format (no tab, comma, ';' or '::'); "
        f"pass --format ({', '.join(FORMATS)})"
    )


def _is_header(fields: list[str]) -> bool:
    """A header names a known column, or has three fields or more and no number at all
    (``4,5`` counts as a number)."""
    names = set().union(*COLUMN_NAMES.values())
    if any(_normalise(field) in names for field in fields):
        return True
    numbers = [_parsed_number(field.replace(",", "."), ".") for field in fields]
    return len(fields) >= 3 and all(number is None for number in numbers)


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


def _sniff_decimal(rows: list[list[str]], sep: str, columns: dict[str, int]) -> str:
    """``","`` when a file not separated by commas writes a number of the first lines so."""
    if sep == ",":
        return "."
    numeric = [columns[column] for column in BOUNDS if column in columns]
    for fields in rows:
        if any(i < len(fields) and _DECIMAL_COMMA.match(fields[i]) for i in numeric):
            return ","
    return "."


# -- parsing --------------------------------------------------------------------------------


def _parse(source: Source, layout: Layout) -> pd.DataFrame:
    """Every rating of the file as columns ``user, item, rating[, timestamp]``.

    Ids are read as the text the file writes (``_labels``); a malformed line is named by the
    scanner.
    """
    try:
        frame = _labels(_read_frame(source, layout, id_dtype="str"))
    except (ValueError, OverflowError) as exc:  # includes ParserError, UnicodeDecodeError
        _raise_bad_line(source, layout)
        raise InputError(f"{source.path}: could not parse the ratings ({exc})") from exc
    if frame.empty:
        raise InputError(f"{source.path}: no ratings after the header")
    if not _rows_are_valid(frame):
        _raise_bad_line(source, layout)
        raise InputError(f"{source.path}: a rating breaks the rules, but no line could be named")
    return frame


def _read_frame(source: Source, layout: Layout, id_dtype: str) -> pd.DataFrame:
    """Fast path: pandas' C parser. ``::`` is read as ``:`` with the empty fields skipped.

    Every field is read (no ``usecols``) so that a line with extra fields is an error;
    a line with missing fields shows up as NaN. Only an empty field is missing (no
    ``"NA"``/``"null"`` guessing: those are ids like any other, and not numbers).
    """
    sep, positions, n_fields = layout.sep, dict(layout.columns), layout.n_fields
    if sep == "::":
        sep, n_fields = ":", 2 * n_fields - 1
        positions = {column: 2 * index for column, index in positions.items()}
    dtypes = {"user": id_dtype, "item": id_dtype, "rating": "float64", "timestamp": "float64"}
    with source.binary() as stream:
        frame = pd.read_csv(
            stream,
            sep=sep,
            header=None,
            names=range(n_fields),
            skiprows=layout.header_lines,
            dtype={positions[column]: dtypes[column] for column in positions},
            engine="c",
            skip_blank_lines=True,
            encoding=source.encoding,
            decimal=layout.decimal,
            keep_default_na=False,
            na_values=[""],
        )
    return pd.DataFrame({column: frame[index] for column, index in positions.items()})


#: An id column whose every id matches this is read as integers: ``7``, ``-3``, ``1000`` —
#: not ``007``, ``+7``, ``1e3`` or ``1.0``, which would then name the same user as ``7``,
#: ``1000`` or ``1``. Any other id stays the text the file writes.
_CANONICAL_INTEGER = r"0|-?[1-9][0-9]{0,17}"


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Text ids stripped (blank → missing), rows with every field empty dropped, and each id
    column whose ids are all written as plain integers (``_CANONICAL_INTEGER``) turned into
    ``int64``: ids are kept as the file writes them, never merged by a conversion."""
    for column in ("user", "item"):
        frame[column] = frame[column].str.strip().replace("", np.nan)
    frame = frame.dropna(how="all")
    for column in ("user", "item"):
        ids = frame[column]
        if ids.notna().all() and ids.str.fullmatch(_CANONICAL_INTEGER).all():
            frame[column] = ids.astype(np.int64)
    return frame


def _rows_are_valid(frame: pd.DataFrame) -> bool:
    """Whether every id is present and printable, and every number within its ``BOUNDS``
    (NaN is not)."""
    valid = np.ones(len(frame), dtype=bool)
    for column in ("user", "item"):
        ids = frame[column]
        valid &= ids.notna().to_numpy()
        if ids.dtype.kind not in "iu":  # text ids
            valid &= ~ids.str.contains(_CONTROL_CHARACTER.pattern, na=False).to_numpy()
    for column, (low, high, _) in BOUNDS.items():
        if column in frame:
            values = frame[column].to_numpy()
            valid &= (values >= low) & (values <= high)
    return bool(valid.all())


# -- naming the bad line --------------------------------------------------------------------


def _raise_bad_line(source: Source, layout: Layout) -> None:
    """Scan the file line by line and raise ``InputError`` naming the first malformed line.

    Returns when every line is well formed (the ids then are text, not integers).
    """
    for number, line in source.lines():
        if number <= layout.header_lines or not line.strip():
            continue
        fields = _split(line, layout.sep)
        if len(fields) <= layout.n_fields and not any(field.strip() for field in fields):
            continue  # an empty row: skipped like a blank line
        problem = _line_problem(fields, layout)
        if problem:
            raise InputError(f"{source.path}:{number}: {problem}: {line[:80]!r}")


def _line_problem(fields: list[str], layout: Layout) -> str | None:
    if len(fields) != layout.n_fields:
        return f"expected {layout.n_fields} fields separated by {layout.sep!r}, saw {len(fields)}"
    for column, index in layout.columns.items():
        value = fields[index].strip()
        if not value:
            return f"empty {column}"
        if _CONTROL_CHARACTER.search(value):
            return f"{column} {value!r} holds a control character"
        if column in BOUNDS:
            problem = _value_problem(column, value, layout.decimal)
            if problem:
                return problem
    return None


def _value_problem(column: str, value: str, decimal: str) -> str | None:
    """What is wrong with a number ``value`` of ``column`` (``None`` if nothing is)."""
    number = _parsed_number(value, decimal)
    if number is None:
        other = "." if decimal == "," else ","
        hint = f" (this file writes decimals with {decimal!r})" if other in value else ""
        return f"{column} {value!r} is not a number{hint}"
    low, high, shown = BOUNDS[column]
    if not math.isfinite(number):
        return f"{column} {value!r} is not finite"
    if not low <= number <= high:
        return f"{column} {value!r} is outside {shown}"
    return None


# -- small helpers --------------------------------------------------------------------------


def _split(line: str, sep: str) -> list[str]:
    """The fields of ``line``, unquoting ``"..."`` as pandas does (``::`` has no quoting)."""
    if len(sep) > 1:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep), [])


def _normalise(header_field: str) -> str:
    """``"user_id:token"`` -> ``"userid"``: lower case, no type suffix, no separators."""
    return re.sub(r"[\s_\-]", "", header_field.split(":")[0].lower())


def _parsed_number(text: str, decimal: str) -> float | None:
    """``text`` as pandas reads a number with that decimal mark, or ``None`` (Python alone
    would also read ``1_0`` and digits of other scripts, ``٣``; pandas reads ASCII only)."""
    if "_" in text or not text.isascii() or (decimal == "," and "." in text):
        return None
    try:
        return float(text.replace(",", ".") if decimal == "," else text)
    except ValueError:
        return None
