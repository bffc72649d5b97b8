"""One process per workspace: an exclusive ``flock`` on ``DATA/lock``.

The kernel releases a ``flock`` when its holder dies, so a lock file left by a crashed
process never blocks: the file's contents are only a description of the holder (one
JSON line: pid, user, started_at, endpoint and any extra info), read by
``read_holder`` without locking, to name the holder in the error and to reach the
process that hosts the workspace through its ``endpoint`` socket (``store.embedded``). The file is never deleted
(deleting a flock-ed file lets two processes lock two different inodes).

The descriptor is close-on-exec, so subprocesses do not keep the lock alive; a plain
``os.fork()`` child does share it until it exits.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from store.errors import WorkspaceLocked

LOCK_NAME = "lock"


def lock_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / LOCK_NAME


def read_holder(data_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The recorded holder, or None if nobody recorded one (may be stale: the flock decides)."""
    try:
        text = lock_path(data_dir).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        holder = None
    if isinstance(holder, dict):
        return holder
    if isinstance(holder, int) or text.isdigit():  # a bare PID
        return {"pid": int(text)}
    return None


class WorkspaceLock:
    """Exclusive lock on a data directory; ``with WorkspaceLock(dir):`` or acquire/release."""

    def __init__(self, data_dir: str | os.PathLike) -> None:
        self.data_dir = Path(data_dir)
        self.path = lock_path(self.data_dir)
        self._fd: int | None = None
        self._info: dict[str, Any] = {}

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, info: dict[str, Any] | None = None) -> WorkspaceLock:
        """Take the lock or raise ``WorkspaceLocked`` naming the holder; record ``info`` too."""
        if self._fd is not None:
            raise RuntimeError(f"workspace lock {self.path} is already held by this object")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._locked_error() from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._info = {
            "pid": os.getpid(),
            "user": _user(),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "endpoint": None,
        }
        try:
            self.update(info or {})
        except BaseException:
            self.release()
            raise
        return self

    def update(self, info: dict[str, Any]) -> None:
        """Merge ``info`` into the holder record (e.g. ``{"endpoint": "/run/x.sock"}``)."""
        if self._fd is None:
            raise RuntimeError(f"workspace lock {self.path} is not held")
        self._info.update(info)
        data = (json.dumps(self._info) + "\n").encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        """Clear the holder record and unlock; harmless if not held."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # releases the flock

    def __enter__(self) -> WorkspaceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _locked_error(self) -> WorkspaceLocked:
        holder = read_holder(self.data_dir) or {}
        pid = holder.get("pid") if isinstance(holder.get("pid"), int) else None
        who = f"process {pid}" if pid is not None else "another process"
        details = []
        if holder.get("user"):
            details.append(f"user {holder['user']}")
        if holder.get("started_at"):
            details.append(f"since {_local_time(holder['started_at'])}")
        if details:
            who += f" ({' '.join(details)})"
        return WorkspaceLocked(
            f"workspace {self.data_dir} is in use by {who}; stop that process or use "
            "another data directory",
            pid=pid,
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return str(os.getuid())


def _local_time(stamp: Any) -> str:
    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(stamp)
