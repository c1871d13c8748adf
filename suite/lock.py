"""One writer per run folder: an exclusive lock held while a grid runs into it.

Two ``mfbench run --resume`` on the same folder would both run the pending runs (duplicate
records, timings taken under each other's load). ``FolderLock`` takes an exclusive
``flock`` on an open descriptor of the folder itself — not on a file in it, which someone
could delete and so let a second writer in — and writes its PID to ``<folder>/.lock`` for
the message that refuses a second writer. The operating system releases the lock when its
process ends, however it ends (Ctrl-C, SIGKILL, a crash), so a stale lock never blocks a
resume.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from suite.errors import InputError
from suite.safe_io import unwritable

LOCK_FILE = ".lock"


class FolderLock:
    """``with FolderLock(folder):`` — this process is the folder's only writer inside."""

    path: Path

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._handle: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            handle = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise unwritable(self.path.parent, exc) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise InputError(
                f"--out {self.path.parent}: another mfbench (pid {self._holder()}) is writing "
                "to this run folder; wait for it to finish, or use another --out"
            ) from None
        self._handle = handle
        try:
            self.path.write_text(f"{os.getpid()}\n")
        except OSError as exc:
            self.__exit__(None, None, None)
            raise unwritable(self.path, exc) from exc
        return self

    def _holder(self) -> str:
        try:
            return self.path.read_text(errors="replace").strip() or "?"
        except OSError:
            return "?"

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None
