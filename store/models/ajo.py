"""The execution API in Adobe Journey Optimizer's shape (its field names), so a client written for AJO works unchanged.

Requests validate what a model can see (sizes, unique recipients); the context's byte limit (413) and its
reserved ``system`` key (422) are checked by ``context_refusal`` because one of them is not a field error.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, model_validator

from .common import Model
from .execution import MAX_RECIPIENTS, Recipient, check_unique_recipients

REQUEST_ID_CHARS = 200  # AJO's request ids are UUIDs; room for any caller's own scheme
RESERVED_CONTEXT_KEY = "system"  # AJO reserves context.system for its own use


class UnitaryExecutionRequest(Model):
    """One call naming its recipients (1 to 20, each userId once)."""

    request_id: str = Field(alias="requestId", min_length=1, max_length=REQUEST_ID_CHARS,
                            description="the caller's id for this call: the same id again returns the first execution")
    campaign_id: str = Field(alias="campaignId", min_length=1, max_length=64)
    recipients: list[Recipient] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    context: dict[str, Any] | None = Field(None, description="read by {{context.*}}; a recipient's own context overrides it")

    @model_validator(mode="after")
    def _unique_recipients(self) -> "UnitaryExecutionRequest":
        check_unique_recipients(self.recipients)
        return self


class AudienceRef(Model):
    id: str = Field(min_length=1, max_length=64)


class ExecutionSchedule(Model):
    execute_at: datetime = Field(alias="executeAt", description="when to run it, with its time zone (ISO 8601)")


class AudienceExecutionRequest(Model):
    """A run of the campaign over its audience, now or at ``schedule.executeAt``."""

    campaign_id: str = Field(alias="campaignId", min_length=1, max_length=64)
    request_id: str | None = Field(None, alias="requestId", min_length=1, max_length=REQUEST_ID_CHARS)
    audience: AudienceRef | None = Field(None, description="the campaign's own audience (the only one it sends to)")
    context: dict[str, Any] | None = None
    schedule: ExecutionSchedule | None = None


class ExecutionAccepted(Model):
    execution_id: str = Field(alias="executionId")
    request_id: str = Field(alias="requestId")
    created_at: datetime = Field(alias="createdAt")
    created_by: str = Field(alias="createdBy")


class ScheduleStatus(str, Enum):
    scheduled = "Scheduled"
    triggered = "Triggered"
    cancelled = "Cancelled"


class ScheduledExecution(Model):
    """An audience execution waiting for ``executeAt`` (or done waiting: its execution, or why there is none)."""

    schedule_id: str = Field(alias="scheduleId")
    schedule_status: ScheduleStatus = Field(alias="scheduleStatus")
    campaign_id: str = Field(alias="campaignId")
    execute_at: datetime = Field(alias="executeAt")
    request_id: str | None = Field(None, alias="requestId")
    execution_id: str | None = Field(None, alias="executionId", description="once Triggered")
    error: str | None = Field(None, description="once Triggered, when the campaign refused the call")


class ScheduleAccepted(Model):
    schedule_id: str = Field(alias="scheduleId")
    schedule_status: ScheduleStatus = Field(alias="scheduleStatus")
    campaign_id: str = Field(alias="campaignId")
    execute_at: datetime = Field(alias="executeAt")


class AudienceExecutionStatus(str, Enum):
    in_progress = "InProgress"
    succeeded = "Succeeded"
    failed = "Failed"


class AudienceExecution(Model):
    execution_id: str = Field(alias="executionId")
    campaign_id: str = Field(alias="campaignId")
    status: AudienceExecutionStatus
    targeted_profile_count: int = Field(alias="targetedProfileCount")
    sent_count: int = Field(alias="sentCount")
    excluded_count: int = Field(alias="excludedCount")
    failed_count: int = Field(alias="failedCount")
    started_at: datetime | None = Field(None, alias="startedAt")
    ended_at: datetime | None = Field(None, alias="endedAt")
    error: str | None = None
