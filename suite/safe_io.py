"""Files that are valid at every instant, and reads that fail in one line.

Every file mfbench derives (``results.csv``, ``REPORT.md``, plots, ``grid.json``, the gate's
reference files) is written to a temporary file beside its target, flushed to disk and then
renamed over it: a crash, a full disk or Ctrl-C leaves either the old file or the new one,
never half of one. The append-only JSON lines of a run are the exception, handled by
``suite.results``. A write that fails raises ``InputError`` naming the file and the reason
(disk full, read-only, not a folder), so the command line reports it in one line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed over ``path`` on success.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        os.fchmod(handle, _mode(path))  # mkstemp's 0600 would make results private
        os.close(handle)
    except OSError as exc:
        raise unwritable(path, exc) from exc
    try:
        yield Path(temporary)
        with open(temporary, "rb+") as written:  # on disk before it replaces the old file
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise unwritable(path, exc) from exc
    finally:
        Path(temporary).unlink(missing_ok=True)


def _mode(path: Path) -> int:
    """The permissions ``path`` has, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8), atomically."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: Path, value: Any) -> None:
    """Replace ``path``'s content with ``value`` as indented JSON, atomically."""
    write_text(path, json.dumps(value, indent=1) + "\n")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Replace ``path``'s content with ``frame`` as CSV (no index), atomically."""
    with replacing(path) as temporary:
        frame.to_csv(temporary, index=False)


def write_with(path: Path, save: Callable[[Path], None]) -> None:
    """Replace ``path`` with what ``save(temporary_path)`` writes (e.g. a figure), atomically."""
    with replacing(path) as temporary:
        save(temporary)


def read_json(path: Path, what: str = "JSON") -> Any:
    """The JSON document in ``path``; ``InputError`` naming the file (and line) if it is not one."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not {what} (not UTF-8 text)") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not {what} ({exc.msg})") from exc


def unwritable(path: Path, exc: OSError) -> InputError:
    """The one-line error for a write to ``path`` that the system refused."""
    reason = exc.strerror or type(exc).__name__
    return InputError(f"{path}: cannot write ({reason})")


def make_folder(path: Path, option: str = "--out") -> Path:
    """Create the folder ``path`` (and its parents); ``InputError`` naming ``option`` if not."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{option} {path}: cannot create the folder ({reason})") from exc
    if not os.access(path, os.W_OK):
        raise InputError(f"{option} {path}: the folder is not writable")
    return path
