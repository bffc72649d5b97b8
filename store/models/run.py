"""Runs (one execution of a version) and deliveries (one message to one profile in one run)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import Field

from .common import Channel, ExclusionReason, Model


class RunTrigger(str, Enum):
    activation = "activation"
    schedule = "schedule"
    api = "api"


class RunStatus(str, Enum):
    pending = "pending"
    running = "running"
    paused = "paused"  # shown, never journaled: a running run while no process hosts the engine
    completed = "completed"
    failed = "failed"
    stopped = "stopped"
    missed = "missed"


class RunFailure(str, Enum):
    """Why a run failed, as a value the engine decides on (the run's ``error`` says it in words)."""

    audience_empty = "audience_empty"
    audience_missing = "audience_missing"
    channel_configuration_missing = "channel_configuration_missing"
    version_missing = "version_missing"
    content_invalid = "content_invalid"
    every_send_failed = "every_send_failed"
    sender_lost = "sender_lost"
    workflow_activity_failed = "workflow_activity_failed"  # a workflow's set activity could not be computed


class RunCounters(Model):
    targeted: int = 0
    sent: int = 0
    failed: int = 0
    excluded: dict[ExclusionReason, int] = Field(default_factory=dict)

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())


class Run(Model):
    id: str
    campaign_id: str
    version: int
    trigger: RunTrigger
    occurrence: datetime | None = Field(None, description="the scheduled fire time in UTC, unique per campaign")
    status: RunStatus = RunStatus.pending
    started_at: datetime | None = None
    ended_at: datetime | None = None
    counters: RunCounters = Field(default_factory=RunCounters)
    error: str | None = None
    failure: RunFailure | None = Field(None, description="why it failed; None on runs journaled before it was kept")
    rate: float | None = Field(None, description="profiles handled a second over the last seconds, while it runs")
    eta_seconds: float | None = Field(None, description="time left at that rate for the profiles not yet handled")


class ActiveRun(Model):
    """A run in flight as the list watches it: its counters, rate and time left, without its campaign's row."""

    campaign_id: str
    run_id: str
    status: RunStatus
    counters: RunCounters
    rate: float | None = None
    eta_seconds: float | None = None


class DeliveryOutcome(str, Enum):
    sent = "sent"
    failed = "failed"
    excluded = "excluded"


class Delivery(Model):
    run_id: str
    campaign_id: str
    profile_id: str
    channel: Channel
    message_key: str
    outcome: DeliveryOutcome
    reason: ExclusionReason | None = None
    detail: str = ""
    at: datetime
