"""One SQLite write transaction under a lock: committed at the end of the block, rolled back if it raises, so a
crash or an error leaves the state before it. The engine journal, the profile store and workflow populations
all write through it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.RLock | threading.Lock, *,
                begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """``begin``: IMMEDIATE takes the write lock at once (a shared file); a private in-memory one needs no more
    than BEGIN."""
    with lock:
        db.execute(begin)
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
