"""Audience executions scheduled for later (AJO's ``schedule.executeAt``), kept in the engine's journal.

Each is a row of ``scheduled_executions`` in ``engine.sqlite3`` (its own connection: the ledger's stays the
runs'), so a schedule survives a restart. The engine holds the pending ones in its timetable under
``schedule_key`` (``take_new`` hands it those it has not seen: at start every pending one); at ``executeAt`` on
its clock it calls ``fire``. The row turns Triggered before the trigger is made, so a crash in between loses that
execution rather than making it twice; it then records the execution made, or why the campaign refused it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import CampaignsError, InvalidTransition, NotFound
from ..models.ajo import ScheduledExecution, ScheduleStatus
from .ledger import FILE_NAME

SCHEMA = """
CREATE TABLE IF NOT EXISTS scheduled_executions (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    request_id TEXT,
    context TEXT NOT NULL,
    execute_at TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    execution_id TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS scheduled_executions_by_status ON scheduled_executions (status);
"""
KEY_PREFIX = "schedule:"  # timetable keys; campaign ids never start with it
_COLUMNS = "id, campaign_id, request_id, execute_at, status, execution_id, error"

# (campaign id, user name, context) -> the execution id it made
Fire = Callable[[str, str, dict], str]


def schedule_key(schedule_id: str) -> str:
    return KEY_PREFIX + schedule_id


class ScheduledExecutions:
    def __init__(self, data_dir: Path) -> None:
        self._db = sqlite3.connect(Path(data_dir) / FILE_NAME, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._new: list[ScheduledExecution] = self._pending()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, campaign_id: str, execute_at: datetime, *, created_by: str, context: dict,
            request_id: str | None) -> ScheduledExecution:
        schedule_id = "sch-" + secrets.token_hex(8)
        with self._lock:
            self._db.execute("INSERT INTO scheduled_executions (id, campaign_id, request_id, context, execute_at, status,"
                             " created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (schedule_id, campaign_id, request_id, json.dumps(context), execute_at.isoformat(),
                              ScheduleStatus.scheduled.value, created_by))
        schedule = self.get(schedule_id)
        with self._lock:
            self._new.append(schedule)
        return schedule

    def get(self, schedule_id: str) -> ScheduledExecution:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM scheduled_executions WHERE id = ?", (schedule_id,)).fetchone()
        if row is None:
            raise NotFound(f"no scheduled execution {schedule_id!r}; the audience call with a schedule returned its scheduleId")
        return _schedule_of(row)

    def cancel(self, schedule_id: str) -> ScheduledExecution:
        """Scheduled → Cancelled; one already Triggered or Cancelled is refused, saying which."""
        with self._lock:
            done = self._db.execute("UPDATE scheduled_executions SET status = ? WHERE id = ? AND status = ?",
                                    (ScheduleStatus.cancelled.value, schedule_id, ScheduleStatus.scheduled.value))
        schedule = self.get(schedule_id)
        if done.rowcount == 0:
            raise InvalidTransition(f"{schedule_id} is {schedule.schedule_status.value}; only a Scheduled execution "
                                    "can be cancelled")
        return schedule

    def take_new(self) -> list[ScheduledExecution]:
        """The schedules added since the last call (at first, every one still waiting), for the timetable."""
        with self._lock:
            new, self._new = self._new, []
        return new

    def _pending(self) -> list[ScheduledExecution]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM scheduled_executions WHERE status = ?",
                                (ScheduleStatus.scheduled.value,)).fetchall()
        return [_schedule_of(row) for row in rows]

    def fire(self, key: str, trigger: Fire) -> None:
        """Make the execution of the schedule under timetable ``key``, once: a cancelled one is skipped, and
        a refusal (the campaign stopped meanwhile) is recorded as the schedule's error."""
        schedule_id = key.removeprefix(KEY_PREFIX)
        with self._lock:
            row = self._db.execute("SELECT campaign_id, created_by, context FROM scheduled_executions"
                                   " WHERE id = ? AND status = ?", (schedule_id, ScheduleStatus.scheduled.value)).fetchone()
            if row is None:
                return  # cancelled
            self._db.execute("UPDATE scheduled_executions SET status = ? WHERE id = ?",
                             (ScheduleStatus.triggered.value, schedule_id))
        execution_id, error = None, None
        try:
            execution_id = trigger(row[0], row[1], json.loads(row[2]))
        except CampaignsError as refused:
            error = refused.detail
        with self._lock:
            self._db.execute("UPDATE scheduled_executions SET execution_id = ?, error = ? WHERE id = ?",
                             (execution_id, error, schedule_id))


def is_schedule_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX)


def _schedule_of(row: tuple) -> ScheduledExecution:
    return ScheduledExecution.model_validate({
        "scheduleId": row[0], "campaignId": row[1], "requestId": row[2], "executeAt": datetime.fromisoformat(row[3]),
        "scheduleStatus": row[4], "executionId": row[5], "error": row[6]})
