"""One writer per run folder: an exclusive lock held while a grid runs into it.

Two ``mfbench run --resume`` on the same folder would both run the pending runs (duplicate
records, timings taken under each other's load). ``FolderLock`` takes an exclusive
``flock`` on ``<folder>/.lock`` and writes its PID there; a second writer is refused with
one line naming the holder. The operating system releases the lock when its process ends,
however it ends (Ctrl-C, SIGKILL, a crash), so a stale lock never blocks a resume.
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

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._handle: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise unwritable(self.path, exc) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 64, 0).decode(errors="replace").strip() or "?"
            os.close(handle)
            raise InputError(
                f"--out {self.path.parent}: another mfbench (pid {holder}) is writing to this "
                "run folder; wait for it to finish, or use another --out"
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        self._handle = handle
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            os.ftruncate(self._handle, 0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None
