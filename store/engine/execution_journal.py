"""Executions in the engine's journal (``engine.sqlite3``, table ``executions``), committed in groups.

An execution is durable before ``accept`` returns: callers arriving together queue their executions and one
committer thread writes them all in one fsync'd transaction (``synchronous=FULL``), so 16 concurrent calls cost
one commit rather than 16. The (campaign, request id) key makes a replay find the first execution; a body that
differs (its digest) is a Conflict naming the request id. Ids are kept ``KEPT`` (7 days), purged by an index.

Sending follows the ledger's protocol (ENGINE-NOTES 2): a group is *claimed* with the outbox offsets before
anything is written, then *completed* with each recipient's outcome; after a crash only claimed executions are
ambiguous, and the outbox says which of their messages already left.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from ..errors import Conflict, NotFound, StoreCorrupted
from ..models.execution import Execution, ExecutionStatus
from .ledger import FILE_NAME, KEPT, immediate, open_journal

PURGE_EVERY = 1000  # commits between purges of ids older than KEPT (one indexed delete)
SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    offsets TEXT,
    UNIQUE (campaign_id, request_id)
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE INDEX IF NOT EXISTS executions_by_campaign ON executions (campaign_id, created_at);
CREATE INDEX IF NOT EXISTS executions_by_age ON executions (created_at);
"""
OPEN = (ExecutionStatus.accepted.value, ExecutionStatus.in_progress.value)


class _Pending:
    """One caller's execution waiting for the group's commit, and what the commit answered; ``done`` is called
    (on the committer's thread) once it is known."""

    __slots__ = ("execution", "digest", "done", "answer", "error")

    def __init__(self, execution: Execution, digest: str, done: Callable[[], None]) -> None:
        self.execution, self.digest, self.done = execution, digest, done
        self.answer: tuple[Execution, bool] | None = None
        self.error: Exception | None = None

    def result(self) -> tuple[Execution, bool]:
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


class ExecutionJournal:
    def __init__(self, data_dir: Path, on_commit=lambda: None) -> None:
        """``on_commit``: called after each group is durable (the sender wakes)."""
        self.path = Path(data_dir) / FILE_NAME
        try:
            self._db = open_journal(self.path, SCHEMA)
        except sqlite3.DatabaseError as error:
            raise StoreCorrupted(f"the engine journal {self.path} cannot be read ({error}); it was left untouched: "
                                 "restore it from a backup or move it away to start with no execution history") from None
        self._lock = threading.RLock()
        self._queue: list[_Pending] = []
        self._queued = threading.Condition()
        self._closed = False
        self._commits = 0
        self._on_commit = on_commit
        self._committer = threading.Thread(target=self._commit_groups, name="campaigns-executions", daemon=True)
        self._committer.start()

    def close(self) -> None:
        with self._queued:
            self._closed = True
            self._queued.notify()
        self._committer.join()
        with self._lock:
            self._db.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock)

    # accepting ------------------------------------------------------------------------------
    def accept(self, execution: Execution, digest: str) -> tuple[Execution, bool]:
        """(the execution as stored, replayed?) once it is committed; Conflict for a request id reused with
        another body. A replay seen before queueing costs no commit."""
        first = self._existing(execution.campaign_id, execution.request_id)
        if first is not None:
            return self._replay(first, execution.request_id, digest)
        committed = threading.Event()
        pending = _Pending(execution, digest, committed.set)
        self._enqueue(pending)
        committed.wait()
        return pending.result()

    async def accept_async(self, execution: Execution, digest: str) -> tuple[Execution, bool]:
        """``accept`` for the server's event loop: awaits the group's commit instead of holding a thread. No read
        before queueing (it would block the loop while a commit holds the connection): a replay is found in the
        group's transaction, at the cost of a share of one commit."""
        loop = asyncio.get_running_loop()
        committed = loop.create_future()

        def resolve() -> None:
            if not committed.done():
                committed.set_result(None)

        def done() -> None:
            loop.call_soon_threadsafe(resolve)

        pending = _Pending(execution, digest, done)
        self._enqueue(pending)
        await asyncio.shield(committed)  # a caller that hangs up leaves the execution accepted, as it is
        return pending.result()

    def _enqueue(self, pending: _Pending) -> None:
        with self._queued:
            if self._closed:
                raise Conflict("the engine is shutting down; send the call again in a moment")
            self._queue.append(pending)
            self._queued.notify()

    def _commit_groups(self) -> None:
        while True:
            with self._queued:
                while not self._queue and not self._closed:
                    self._queued.wait()
                group, self._queue = self._queue, []
                if not group and self._closed:
                    return
            try:
                self._commit(group)
            except Exception as error:  # the disk failed: every caller of the group hears it, none is lost silently
                for pending in group:
                    pending.error = error
            for pending in group:
                pending.done()
            self._on_commit()

    def _commit(self, group: list[_Pending]) -> None:
        with self._transaction() as db:
            for pending in group:
                e = pending.execution
                inserted = db.execute(
                    "INSERT OR IGNORE INTO executions (id, campaign_id, request_id, digest, created_at, status, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (e.id, e.campaign_id, e.request_id, pending.digest, e.created_at.isoformat(), e.status.value,
                     e.model_dump_json())).rowcount
                if inserted:
                    pending.answer = (e, False)
                    continue
                first = self._existing(e.campaign_id, e.request_id)  # the same id twice in one group, or a race
                assert first is not None
                try:
                    pending.answer = self._replay(first, e.request_id, pending.digest)
                except Conflict as conflict:
                    pending.error = conflict
            self._commits += 1
            if self._commits % PURGE_EVERY == 1:
                oldest = (group[0].execution.created_at - KEPT).isoformat()
                db.execute("DELETE FROM executions WHERE created_at < ? AND status NOT IN (?, ?)", (oldest, *OPEN))

    def _existing(self, campaign_id: str, request_id: str) -> tuple[str, str] | None:
        with self._lock:
            return self._db.execute("SELECT digest, body FROM executions WHERE campaign_id = ? AND request_id = ?",
                                    (campaign_id, request_id)).fetchone()

    @staticmethod
    def _replay(first: tuple[str, str], request_id: str, digest: str) -> tuple[Execution, bool]:
        if first[0] != digest:
            raise Conflict(f"request id {request_id!r} was already used with a different body; "
                           "send a new request id for a new call (a replay must repeat the body exactly)")
        return Execution.model_validate_json(first[1]), True

    # reading --------------------------------------------------------------------------------
    def get(self, execution_id: str) -> Execution:
        with self._lock:
            row = self._db.execute("SELECT body FROM executions WHERE id = ?", (execution_id,)).fetchone()
        if row is None:
            raise NotFound(f"no execution {execution_id!r} (ids are kept {KEPT.days} days)")
        return Execution.model_validate_json(row[0])

    def of_campaign(self, campaign_id: str, limit: int) -> list[Execution]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM executions WHERE campaign_id = ? ORDER BY created_at DESC, rowid DESC"
                                    " LIMIT ?", (campaign_id, limit)).fetchall()
        return [Execution.model_validate_json(r[0]) for r in rows]

    # sending --------------------------------------------------------------------------------
    def open(self, limit: int) -> list[tuple[Execution, dict[str, int] | None]]:
        """Executions not yet sent, oldest first, with the outbox offsets of a claim a crash interrupted."""
        with self._lock:
            rows = self._db.execute("SELECT body, offsets FROM executions WHERE status IN (?, ?) ORDER BY rowid LIMIT ?",
                                    (*OPEN, limit)).fetchall()
        return [(Execution.model_validate_json(body), json.loads(offsets) if offsets else None) for body, offsets in rows]

    def claim(self, ids: list[str], offsets: dict[str, int]) -> None:
        """Step 1: the group and where the outbox ended, committed before any line is written."""
        with self._transaction() as db:
            db.executemany("UPDATE executions SET status = ?, offsets = ? WHERE id = ?",
                           [(ExecutionStatus.in_progress.value, json.dumps(offsets), i) for i in ids])

    def complete(self, finished: list[Execution]) -> None:
        """Step 3: each execution's outcomes, in one transaction."""
        with self._transaction() as db:
            db.executemany("UPDATE executions SET status = ?, body = ? WHERE id = ?",
                           [(e.status.value, e.model_dump_json(), e.id) for e in finished])

