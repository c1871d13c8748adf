"""Opening a ratings file as text: compression, binary content and encoding, sniffed once.

``Source.open`` looks at the first ``SAMPLE_BYTES`` of a file and decides how it is read:

* **Compression** (by magic bytes, whatever the file is called): gzip, bz2 and xz are
  decompressed on the fly; a zip archive is read through the one file it holds, or the one
  member named like a MovieLens ratings file (``ml-25m.zip`` → ``ml-25m/ratings.csv``).
  Other compressors (zstd, 7z, lz4) are refused with a one-line message.
* **Binary content** (images, NumPy/Parquet/SQLite/Excel files, or any NUL byte in text
  without a UTF-16/32 byte-order mark) is refused, naming the kind where it is known.
* **Encoding**: UTF-8, with or without a byte-order mark; UTF-16 and UTF-32 with a
  byte-order mark (what spreadsheet tools write as "Unicode text"). Bytes that are not
  valid in the chosen encoding are refused naming ``file:line``.

Every read goes through ``Source.binary`` or ``Source.lines``, which turn I/O and
decompression failures into ``InputError`` naming the file, so no caller sees an
``OSError``, ``EOFError`` or ``UnicodeDecodeError``.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from suite.errors import InputError

#: How much of a file (after decompression) is looked at to decide how to read it.
SAMPLE_BYTES = 1 << 16

#: Magic bytes -> compression read transparently.
COMPRESSIONS = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # an empty archive
}

#: Magic bytes -> compression refused (no reader in the standard library).
UNSUPPORTED_COMPRESSIONS = {
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"\x04\x22\x4d\x18": "lz4",
}

#: Magic bytes -> kind of binary file, for the message that refuses it.
BINARY_KINDS = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF-": "a PDF document",
    b"\x93NUMPY": "a NumPy .npy array",
    b"PAR1": "a Parquet file",
    b"SQLite format 3\x00": "an SQLite database",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an Excel .xls workbook; export the sheet as CSV",
}

#: Byte-order marks -> encoding (UTF-32 first: its little-endian mark starts with UTF-16's).
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Compression -> function opening a compressed file (``open(path, "rb")``).
_OPENERS: dict[str, Callable[..., BinaryIO]] = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}

#: What a damaged file or archive raises while it is read.
_READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error, zipfile.BadZipFile)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" leaves


@dataclass(frozen=True)
class Source:
    """How to read one ratings file as text.

    Attributes
    ----------
    path : Path
        The file as given.
    name : str
        The name that tells its format: the file name without a compression suffix
        (``ratings.csv.gz`` → ``ratings.csv``), or the base name of the zip member read.
    compression : str or None
        ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zip"``, or ``None`` for plain text.
    member : str or None
        The zip member read (only when ``compression == "zip"``).
    encoding : str
        A Python codec name: ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"`` or ``"utf-32"``.
    """

    path: Path
    name: str
    compression: str | None = None
    member: str | None = None
    encoding: str = "utf-8"

    @classmethod
    def open(cls, path: str | Path, *, wanted: Collection[str] = ()) -> Source:
        """Sniff how ``path`` is read; refuse binary, unknown-compressed or undecodable files.

        Parameters
        ----------
        path : str or Path
            A file.
        wanted : collection of str
            File names to pick from a zip archive holding several files (and to suggest
            when ``path`` is a directory).

        Raises
        ------
        InputError
            Missing or unreadable file, unsupported compression, binary content, or a first
            ``SAMPLE_BYTES`` that are not text in the sniffed encoding (naming the line).
        """
        path = Path(path)
        if path.is_dir():
            inside = [str(path / name) for name in wanted if (path / name).is_file()]
            such_as = f" such as {inside[0]}" if inside else ""
            raise InputError(f"{path}: is a directory; pass a ratings file in it{such_as}")
        compression = _compression(path, _read_start(path))
        member = _zip_member(path, wanted) if compression == "zip" else None
        source = cls(path, _format_name(path, compression, member), compression, member)
        head, complete = source._head()
        _refuse_binary(path, head)
        source = cls(path, source.name, compression, member, _encoding(head))
        source._check_decodes(head, complete)
        return source

    # -- reading ----------------------------------------------------------------------------
    @contextmanager
    def binary(self) -> Iterator[BinaryIO]:
        """The file's decompressed bytes; a read or decompression error raises ``InputError``.

        ``UnicodeDecodeError`` raised by a reader of the stream passes through (it is a
        ``ValueError``): ``lines`` names the line.
        """
        try:
            with self._open() as stream:
                yield stream
        except _READ_ERRORS as exc:
            raise InputError(f"{self.path}: {self._damage(exc)}") from exc

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(line number, text)`` of every line, without its line break (1-based numbers).

        Raises
        ------
        InputError
            At the first line that is not text in ``encoding``, naming ``file:line``.
        """
        number = 0
        with self.binary() as stream:
            text = io.TextIOWrapper(stream, self.encoding, errors="surrogateescape", newline=None)
            try:
                for number, raw in enumerate(text, start=1):
                    line = raw.rstrip("\n")
                    bad = _UNDECODABLE.search(line)
                    if bad:
                        byte = ord(bad.group()) - 0xDC00
                        raise InputError(self._not_text(number, f"byte 0x{byte:02x}"))
                    yield number, line
            except UnicodeDecodeError as exc:
                raise InputError(self._not_text(number + 1, exc.reason)) from exc

    def head_lines(self) -> list[tuple[int, str]]:
        """The numbered lines of the first ``SAMPLE_BYTES``: the last one only if complete
        (or if it is the only one: a first line longer than the sample is still shown)."""
        head, complete = self._head()
        text = codecs.getincrementaldecoder(self.encoding)().decode(head, final=complete)
        lines = _LINE_BREAK.split(text)
        if (not complete and len(lines) > 1) or lines[-1] == "":
            lines.pop()  # cut off by the sample, or the empty text after the last break
        return list(enumerate(lines, start=1))

    # -- sniffing helpers -------------------------------------------------------------------
    @contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        if self.compression == "zip":
            with zipfile.ZipFile(self.path) as archive, archive.open(str(self.member)) as stream:
                yield stream  # type: ignore[misc]
        elif self.compression:
            with _OPENERS[self.compression](self.path, "rb") as stream:
                yield stream
        else:
            with self.path.open("rb") as stream:
                yield stream

    def _head(self) -> tuple[bytes, bool]:
        """The first ``SAMPLE_BYTES`` after decompression, and whether that is the whole file."""
        with self.binary() as stream:
            head = stream.read(SAMPLE_BYTES + 1)
        return head[:SAMPLE_BYTES], len(head) <= SAMPLE_BYTES

    def _check_decodes(self, head: bytes, complete: bool) -> None:
        try:
            codecs.getincrementaldecoder(self.encoding)().decode(head, final=complete)
        except UnicodeDecodeError as exc:
            before = head[: exc.start].decode(self.encoding, errors="replace")
            byte = f"byte 0x{head[exc.start]:02x}"
            raise InputError(self._not_text(before.count("\n") + 1, byte)) from exc

    def _not_text(self, line: int, what: str) -> str:
        return (
            f"{self.path}:{line}: not {self.encoding} text ({what}): a binary file, or text in "
            f"another encoding (save it as UTF-8)"
        )

    def _damage(self, exc: BaseException) -> str:
        if self.compression and not isinstance(exc, FileNotFoundError | PermissionError):
            return f"damaged {self.compression}-compressed file ({exc})"
        return f"cannot read it ({getattr(exc, 'strerror', None) or exc})"


def _read_start(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(16)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from exc


def _compression(path: Path, start: bytes) -> str | None:
    for magic, name in UNSUPPORTED_COMPRESSIONS.items():
        if start.startswith(magic):
            raise InputError(f"{path}: {name}-compressed; decompress it first")
    return next((name for magic, name in COMPRESSIONS.items() if start.startswith(magic)), None)


def _zip_member(path: Path, wanted: Collection[str]) -> str:
    """The one member of a zip archive to read (its only file, or the one ``wanted``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: damaged zip archive ({exc})") from exc
    if names and all(name.endswith(".npy") for name in names):
        raise InputError(f"{path}: binary file (a NumPy .npz archive), not a text ratings file")
    if "[Content_Types].xml" in names:
        raise InputError(
            f"{path}: binary file (an Office document such as .xlsx), not a text ratings "
            f"file; export the sheet as CSV"
        )
    chosen = names if len(names) == 1 else [n for n in names if Path(n).name in wanted]
    if len(chosen) != 1:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise InputError(
            f"{path}: zip archive with {len(names)} files ({shown}); extract the ratings "
            f"file and pass its path"
        )
    return chosen[0]


def _format_name(path: Path, compression: str | None, member: str | None) -> str:
    if member is not None:
        return Path(member).name
    suffixes = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz"}
    suffix = suffixes.get(compression or "")
    return path.stem if suffix and path.name.endswith(suffix) else path.name


def _refuse_binary(path: Path, head: bytes) -> None:
    kind = next((kind for magic, kind in BINARY_KINDS.items() if head.startswith(magic)), None)
    if kind is None and b"\x00" in head and not _has_wide_mark(head):
        kind = "NUL bytes in its first lines"
    if kind is None and any(head.startswith(magic) for magic in COMPRESSIONS):
        kind = "compressed twice"
    if kind is not None:
        raise InputError(f"{path}: binary file ({kind}), not a text ratings file")


def _has_wide_mark(head: bytes) -> bool:
    return any(head.startswith(mark) for mark, name in BYTE_ORDER_MARKS if name != "utf-8-sig")


def _encoding(head: bytes) -> str:
    return next((name for mark, name in BYTE_ORDER_MARKS if head.startswith(mark)), "utf-8")
