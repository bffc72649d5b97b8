"""The engine's journal in SQLite (``engine.sqlite3``): runs, claimed batches and deliveries.

The protocol that gives "no profile twice, none forgotten" (ENGINE-NOTES 2):
1. a batch (an id range of the frozen audience) is *claimed* and the run's cursor advanced, in
   one committed transaction, before anything is sent;
2. messages are sent (outbox lines are written, flushed and fsync'd at the end of the batch);
3. the batch is marked *done* with its deliveries and the run's counters, in one transaction.
After a crash only claimed batches are ambiguous; the outbox (or the provider's idempotency key)
tells which of their messages already left. ``synchronous=FULL``: a claim survives power loss.

Deliveries: every excluded or failed profile gets a row; sent ones get a row for network
providers. For the outbox provider the outbox file itself is the record of what was sent, which
keeps a million-message run fast.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..db.transaction import transaction
from ..errors import Conflict, NotFound, StoreCorrupted
from ..models import Run, RunCounters, RunFailure, RunStatus, RunTrigger
from .pace import time_left

FILE_NAME = "engine.sqlite3"
KEPT = timedelta(days=7)  # how long a caller's request id is remembered (unitary and audience executions)
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    occurrence TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    error TEXT,
    targeted INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    excluded TEXT NOT NULL DEFAULT '{}',
    cursor TEXT NOT NULL DEFAULT '',
    last_id TEXT,
    context TEXT,
    recipients TEXT,
    failure TEXT,
    rate REAL,
    parent TEXT,
    wake_at TEXT,
    UNIQUE (campaign_id, occurrence)
);
CREATE INDEX IF NOT EXISTS runs_by_campaign ON runs (campaign_id, created_at);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS audience_requests (
    campaign_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    run_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, request_id)
);
CREATE TABLE IF NOT EXISTS batches (
    run_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    after_id TEXT NOT NULL,
    last_id TEXT NOT NULL,
    outbox_offset INTEGER,
    state TEXT NOT NULL,
    PRIMARY KEY (run_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workflow_activities (
    run_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    state TEXT NOT NULL,
    inbound INTEGER,
    outbound TEXT NOT NULL DEFAULT '{}',
    unrouted INTEGER NOT NULL DEFAULT 0,
    wait_until TEXT,
    samples TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    PRIMARY KEY (run_id, activity_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    run_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, profile_id)
) WITHOUT ROWID;
"""

ACTIVE = (RunStatus.pending.value, RunStatus.running.value)
_RECORD_DELIVERY = "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?, ?, ?)"


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of one run: the profiles of the frozen audience with ids in (after_id, last_id]."""

    run_id: str
    number: int
    after_id: str
    last_id: str
    outbox_offset: int | None


@dataclass(slots=True)
class ActivityRecord:
    """An activity of a workflow run as journaled: its state (``ActivityState``), the profiles that reached it,
    those put on each outbound transition (with a few ids each), a wait's end, what went wrong."""

    activity_id: str
    state: str
    inbound: int | None = None
    outbound: dict[str, int] = field(default_factory=dict)
    unrouted: int = 0
    wait_until: datetime | None = None
    samples: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


class Ledger:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        try:
            self._db = open_journal(self.path, SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
            if "recipients" not in columns:
                self._db.execute("ALTER TABLE runs ADD COLUMN recipients TEXT")  # journals from before API triggers
            if "failure" not in columns:
                self._db.execute("ALTER TABLE runs ADD COLUMN failure TEXT")  # journals from before typed reasons
            if "rate" not in columns:
                self._db.execute("ALTER TABLE runs ADD COLUMN rate REAL")  # journals from before live progress
            if "parent" not in columns:  # journals from before workflows
                self._db.execute("ALTER TABLE runs ADD COLUMN parent TEXT")
                self._db.execute("ALTER TABLE runs ADD COLUMN wake_at TEXT")
            self._db.execute("CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent) WHERE parent IS NOT NULL")
        except sqlite3.DatabaseError as error:
            raise StoreCorrupted(f"the engine journal {self.path} cannot be read ({error}); it was left untouched: "
                                 "restore it from a backup or move it away to start with no run history") from None
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock)

    # runs --------------------------------------------------------------------------------
    def create_run(self, campaign_id: str, version: int, trigger: RunTrigger, *, now: datetime,
                   occurrence: datetime | None = None, status: RunStatus = RunStatus.pending,
                   context: dict | None = None, error: str | None = None,
                   recipients: list[str] | None = None) -> Run | None:
        """A new run, or None when this occurrence of the campaign already has one (never fire twice).

        ``recipients`` narrows an API-triggered run to the profiles the call named."""
        with self._transaction() as db:
            run_id = _insert_run(db, campaign_id, version, trigger, now, occurrence, status, context, error, recipients)
        return None if run_id is None else self.run(run_id)

    def create_requested_run(self, campaign_id: str, version: int, *, now: datetime, context: dict,
                             request_id: str, digest: str) -> tuple[Run, bool]:
        """An audience execution keyed by the caller's request id, in one transaction with its key: (the run,
        replayed?). The same id with the same ``digest`` is the first run; with another, a Conflict. Keys older
        than ``KEPT`` (as long as a unitary call's) are forgotten on the way."""
        with self._transaction() as db:
            db.execute("DELETE FROM audience_requests WHERE created_at < ?", (_iso(now - KEPT),))
            known = db.execute("SELECT digest, run_id FROM audience_requests WHERE campaign_id = ? AND request_id = ?",
                               (campaign_id, request_id)).fetchone()
            if known is not None:
                if known[0] != digest:
                    raise Conflict(f"requestId {request_id!r} was already used for {campaign_id} with another body; "
                                   "use a new requestId for a new call")
                run_id, replayed = known[1], True
            else:
                run_id = _insert_run(db, campaign_id, version, RunTrigger.api, now, None, RunStatus.pending, context,
                                     None, None)
                assert run_id is not None  # only scheduled occurrences can collide
                db.execute("INSERT INTO audience_requests VALUES (?, ?, ?, ?, ?)",
                           (campaign_id, request_id, digest, run_id, _iso(now)))
                replayed = False
        return self.run(run_id), replayed

    def run(self, run_id: str) -> Run:
        with self._lock:
            row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"no run {run_id!r}")
        return _run_of(row)

    def runs(self, campaign_id: str) -> list[Run]:
        """The campaign's runs (a workflow's channel activities' child runs aside)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE campaign_id = ? AND parent IS NULL"
                                    " ORDER BY created_at, rowid",
                                    (campaign_id,)).fetchall()
        return [_run_of(r) for r in rows]

    def latest_runs(self) -> dict[str, dict]:
        """Each campaign's latest run that happened (missed ones aside), for the campaign list."""
        with self._lock:
            rows = self._db.execute(
                "SELECT campaign_id, status, sent, failed, excluded, coalesce(ended_at, started_at, created_at) FROM runs"
                " WHERE rowid IN (SELECT max(rowid) FROM runs WHERE status != 'missed' AND parent IS NULL"
                " GROUP BY campaign_id)").fetchall()
        return {r[0]: {"status": r[1], "sent": r[2], "failed": r[3], "excluded": sum(json.loads(r[4]).values()), "at": r[5]}
                for r in rows}

    def active_runs(self) -> list[Run]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE status IN (?, ?) AND parent IS NULL"
                                    " ORDER BY created_at, rowid", ACTIVE).fetchall()
        return [_run_of(r) for r in rows]

    def last_occurrence(self, campaign_id: str) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT max(occurrence) FROM runs WHERE campaign_id = ?", (campaign_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def cursor(self, run_id: str) -> str:
        """The last profile id claimed: new batches start after it."""
        with self._lock:
            return self._db.execute("SELECT cursor FROM runs WHERE id = ?", (run_id,)).fetchone()[0]

    def frozen_last_id(self, run_id: str) -> str | None:
        """The highest audience id when the run started: profiles added later are not targeted."""
        with self._lock:
            return self._db.execute("SELECT last_id FROM runs WHERE id = ?", (run_id,)).fetchone()[0]

    def recipients(self, run_id: str) -> list[str] | None:
        with self._lock:
            row = self._db.execute("SELECT recipients FROM runs WHERE id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def context(self, run_id: str) -> dict:
        with self._lock:
            row = self._db.execute("SELECT context FROM runs WHERE id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def start_run(self, run_id: str, *, now: datetime, targeted: int, last_id: str | None) -> None:
        """Freeze the audience: its size and highest id at the start; later profiles are not targeted."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET status = 'running', started_at = ?, targeted = ?, last_id = ? WHERE id = ?",
                       (_iso(now), targeted, last_id, run_id))
            _roll_up(db, run_id)

    def end_run(self, run_id: str, status: RunStatus, *, now: datetime, counters: RunCounters | None = None,
                error: str | None = None, failure: RunFailure | None = None) -> None:
        with self._transaction() as db:
            if counters is not None:
                db.execute("UPDATE runs SET targeted = ?, sent = ?, failed = ?, excluded = ? WHERE id = ?",
                           (counters.targeted, counters.sent, counters.failed, _excluded_json(counters), run_id))
            db.execute("UPDATE runs SET status = ?, ended_at = ?, error = coalesce(?, error), failure = ? WHERE id = ?",
                       (status.value, _iso(now), error, failure.value if failure else None, run_id))
            _roll_up(db, run_id)

    # workflows ---------------------------------------------------------------------------
    def child_run(self, parent: Run, activity_id: str, *, now: datetime) -> Run:
        """A channel activity's delivery run, ``"{parent}.{activity}"``: created the first time, the same run after
        a resume. It is not listed among the campaign's runs; its parent's counters sum its counters."""
        run_id = f"{parent.id}.{activity_id}"
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO runs (id, campaign_id, version, trigger, status, created_at, context, parent)"
                       " SELECT ?, campaign_id, version, trigger, 'pending', ?, context, id FROM runs WHERE id = ?",
                       (run_id, _iso(now), parent.id))
        return self.run(run_id)

    def child_runs(self, run_id: str) -> list[Run]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE parent = ? ORDER BY rowid",
                                    (run_id,)).fetchall()
        return [_run_of(r) for r in rows]

    def set_wake(self, run_id: str, wake_at: datetime | None) -> None:
        """A workflow run waiting on a Wait activity is not dispatched before ``wake_at``."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET wake_at = ? WHERE id = ?", (_iso(wake_at), run_id))

    def wake_times(self) -> dict[str, datetime]:
        """Active runs that sleep until a time (a workflow waiting), by run id."""
        with self._lock:
            rows = self._db.execute("SELECT id, wake_at FROM runs WHERE wake_at IS NOT NULL AND status IN (?, ?)",
                                    ACTIVE).fetchall()
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}

    def record_activity(self, run_id: str, activity: ActivityRecord) -> None:
        """One activity's state and counts in a workflow run, replacing what an earlier attempt recorded."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO workflow_activities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, activity.activity_id, activity.state, activity.inbound, json.dumps(activity.outbound),
                        activity.unrouted, _iso(activity.wait_until), json.dumps(activity.samples), activity.error))

    def activities(self, run_id: str) -> dict[str, ActivityRecord]:
        """Each recorded activity of a workflow run (activities not reached yet have none)."""
        with self._lock:
            rows = self._db.execute("SELECT activity_id, state, inbound, outbound, unrouted, wait_until, samples, error"
                                    " FROM workflow_activities WHERE run_id = ?", (run_id,)).fetchall()
        return {r[0]: ActivityRecord(r[0], r[1], r[2], json.loads(r[3]), r[4],
                                     datetime.fromisoformat(r[5]) if r[5] else None, json.loads(r[6]), r[7])
                for r in rows}

    # batches -----------------------------------------------------------------------------
    def claimed_batches(self, run_id: str) -> list[Batch]:
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, number, after_id, last_id, outbox_offset FROM batches WHERE run_id = ? AND state = 'claimed'"
                " ORDER BY number", (run_id,)).fetchall()
        return [Batch(*r) for r in rows]

    def claim_batch(self, run_id: str, after_id: str, last_id: str, outbox_offset: int | None) -> Batch:
        """Step 1: record the batch and advance the run's cursor, committed before any send."""
        with self._transaction() as db:
            number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM batches WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, 'claimed')", (run_id, number, after_id, last_id, outbox_offset))
            db.execute("UPDATE runs SET cursor = ? WHERE id = ?", (last_id, run_id))
        return Batch(run_id, number, after_id, last_id, outbox_offset)

    def complete_batch(self, batch: Batch, deliveries: Iterable[tuple], counters: RunCounters, *, done: bool = True,
                       rate: float | None = None) -> None:
        """Step 3: the batch's deliveries and the run's counters (and its recent ``rate``), in one transaction:
        readers of the run see its counters grow batch by batch.

        ``deliveries`` are (profile_id, outcome, reason, detail, at). With ``done=False`` (a stop or
        a shutdown in the middle of the batch) the batch stays claimed so a resume finishes it.
        """
        with self._transaction() as db:
            db.executemany(_RECORD_DELIVERY,
                           ((batch.run_id, *d) for d in deliveries))
            if done:
                db.execute("UPDATE batches SET state = 'done' WHERE run_id = ? AND number = ?", (batch.run_id, batch.number))
            db.execute("UPDATE runs SET sent = ?, failed = ?, excluded = ?, rate = coalesce(?, rate) WHERE id = ?",
                       (counters.sent, counters.failed, _excluded_json(counters), rate, batch.run_id))
            _roll_up(db, batch.run_id)

    def record_deliveries(self, run_id: str, deliveries: Iterable[tuple]) -> None:
        """Deliveries of a batch still in flight (network sends, as they go): a resume skips them."""
        with self._transaction() as db:
            db.executemany(_RECORD_DELIVERY, ((run_id, *d) for d in deliveries))

    def sent_times(self, run_id: str, *, limit: int) -> list[str]:
        """When the run's latest ``limit`` messages were sent (network providers journal each one)."""
        with self._lock:
            rows = self._db.execute("SELECT at FROM deliveries WHERE run_id = ? AND outcome = 'sent' ORDER BY at DESC LIMIT ?",
                                    (run_id, limit)).fetchall()
        return [r[0] for r in rows]

    def recent_outbox_offset(self, run_id: str) -> int | None:
        """Where the run's last three batches began in the outbox: a throttled batch is a second of sends
        (``runner.batch_size``), so every send of the last second was written after it, with a batch to spare
        for the profiles a batch excludes."""
        with self._lock:
            rows = self._db.execute("SELECT outbox_offset FROM batches WHERE run_id = ? ORDER BY number DESC LIMIT 3",
                                    (run_id,)).fetchall()
        return min((r[0] for r in rows if r[0] is not None), default=None)

    def delivered_profiles(self, run_id: str, after_id: str, last_id: str) -> set[str]:
        """Profiles of a batch range that already have an outcome (resume skips them)."""
        with self._lock:
            rows = self._db.execute("SELECT profile_id FROM deliveries WHERE run_id = ? AND profile_id > ? AND profile_id <= ?",
                                    (run_id, after_id, last_id)).fetchall()
        return {r[0] for r in rows}

    def delivery_count(self, run_id: str) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM deliveries WHERE run_id = ?", (run_id,)).fetchone()[0]

    def failure_reasons(self, campaign_id: str) -> dict[str, int]:
        """Failed deliveries of every run of the campaign, by reason (dispatch_error, provider_unavailable)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reason, count(*) FROM deliveries WHERE outcome = 'failed' AND run_id IN"
                " (SELECT id FROM runs WHERE campaign_id = ?) GROUP BY reason", (campaign_id,)).fetchall()
        return {reason or "dispatch_error": count for reason, count in rows}

    def deliveries(self, run_id: str, *, outcome: str | None = None, limit: int = 1000) -> list[dict]:
        sql = "SELECT profile_id, outcome, reason, detail, at FROM deliveries WHERE run_id = ?"
        params: list = [run_id]
        if outcome:
            sql += " AND outcome = ?"
            params.append(outcome)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY profile_id LIMIT ?", (*params, limit)).fetchall()
        return [dict(zip(("profile_id", "outcome", "reason", "detail", "at"), r)) for r in rows]


_RUN_COLUMNS = ("id, campaign_id, version, trigger, occurrence, status, started_at, ended_at, targeted, sent, failed, "
                "excluded, error, failure, rate")


def _run_of(row: tuple) -> Run:
    """A run as journaled; one in flight also gets its recent rate and the time left at it."""
    (run_id, campaign_id, version, trigger, occurrence, status, started, ended, targeted, sent, failed, excluded,
     error, failure, rate) = row
    counters = RunCounters(targeted=targeted, sent=sent, failed=failed, excluded=json.loads(excluded))
    if status != RunStatus.running.value:
        rate = None
    eta = time_left(targeted, sent + failed + counters.excluded_total, rate)
    return Run(id=run_id, campaign_id=campaign_id, version=version, trigger=trigger, occurrence=occurrence,
               status=status, started_at=started, ended_at=ended, error=error, failure=failure,
               counters=counters, rate=rate, eta_seconds=eta)


def _excluded_json(counters: RunCounters) -> str:
    return json.dumps({k.value if hasattr(k, "value") else k: v for k, v in counters.excluded.items() if v})


def open_journal(path: Path, schema: str) -> sqlite3.Connection:
    """A connection to the engine journal (WAL, every commit fsync'd) with ``schema`` created if missing; the
    ledger and the executions each keep one."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA busy_timeout = 10000")
    db.executescript(schema)
    return db


def immediate(db: sqlite3.Connection, lock: threading.RLock | threading.Lock) -> AbstractContextManager[sqlite3.Connection]:
    """One write transaction on the engine journal, begun at once (BEGIN IMMEDIATE), rolled back on any error."""
    return transaction(db, lock)


def _sum_of_children(db: sqlite3.Connection, parent: str) -> RunCounters:
    total = RunCounters()
    for targeted, sent, failed, excluded in db.execute(
            "SELECT targeted, sent, failed, excluded FROM runs WHERE parent = ?", (parent,)):
        total.targeted, total.sent, total.failed = total.targeted + targeted, total.sent + sent, total.failed + failed
        for reason, count in json.loads(excluded).items():
            total.excluded[reason] = total.excluded.get(reason, 0) + count
    return total


def _roll_up(db: sqlite3.Connection, run_id: str) -> None:
    """When ``run_id`` is a channel activity's run, its workflow run's counters become the sum of its siblings'."""
    row = db.execute("SELECT parent FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None or row[0] is None:
        return
    total = _sum_of_children(db, row[0])
    db.execute("UPDATE runs SET targeted = ?, sent = ?, failed = ?, excluded = ? WHERE id = ?",
               (total.targeted, total.sent, total.failed, _excluded_json(total), row[0]))


def _insert_run(db: sqlite3.Connection, campaign_id: str, version: int, trigger: RunTrigger, now: datetime,
                occurrence: datetime | None, status: RunStatus, context: dict | None, error: str | None,
                recipients: list[str] | None) -> str | None:
    """Insert a run numbered after the campaign's others; its id, or None when the occurrence already has one."""
    number = db.execute("SELECT count(*) FROM runs WHERE campaign_id = ? AND parent IS NULL",
                        (campaign_id,)).fetchone()[0] + 1
    run_id = f"{campaign_id}-r{number}"
    cursor = db.execute(
        "INSERT OR IGNORE INTO runs (id, campaign_id, version, trigger, occurrence, status, created_at, context, error,"
        " ended_at, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, campaign_id, version, trigger.value, _iso(occurrence), status.value, _iso(now),
         json.dumps(context) if context is not None else None, error,
         _iso(now) if status is RunStatus.missed else None,
         json.dumps(recipients) if recipients is not None else None))
    return run_id if cursor.rowcount else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
