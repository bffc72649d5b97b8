"""Fencing: a run is sent by exactly one live process (ENGINE-NOTES 7).

The process that sends a run holds an exclusive ``flock`` on ``DATA/fences/<run>.lock`` for as long as
it works on it. The kernel releases the lock when that process dies, however it dies, so a new host may
resume a run exactly when no live process still owns it: an orphaned sender whose host was killed keeps
its run to itself until it is gone. A lock taken by the host would not do: the host is the process that
gets killed, while its sending child lives on.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

DIRECTORY = "fences"


class RunLock:
    """The held lock on one run; ``release`` once the run is no longer being sent by this process."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    def release(self, *, finished: bool) -> None:
        """``finished``: the run ended, so its lock file goes (unlinked while still held, so a process
        waiting on the old file sees it replaced and retries rather than sharing a run)."""
        if self._fd < 0:
            return
        if finished:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        os.close(self._fd)
        self._fd = -1


class Fences:
    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / DIRECTORY

    def _path(self, run_id: str) -> Path:
        return self.directory / f"{run_id}.lock"

    def hold(self, run_id: str) -> RunLock | None:
        """Take the run for this process, or None when a live process already holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(run_id)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return RunLock(path, fd)
            os.close(fd)  # the previous owner finished and removed the file under us: take the new one

    def owner(self, run_id: str) -> int | None:
        """The pid of the live process that holds the run, or None when nobody does (it may be resumed)."""
        path = self._path(run_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 32, 0).decode(errors="replace").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)
