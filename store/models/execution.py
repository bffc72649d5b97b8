"""Executions: one call of an API-triggered campaign (AJO's word for it), and what happened to each recipient.

An execution is accepted durably before its 202 is answered, keyed by the caller's ``request_id`` per
campaign (a replay returns the first execution), and sent in batches shared with other executions. A
recipient that cannot be sent to is that recipient's outcome (``excluded``, with the reason), never the
campaign's: a call never fails a Live campaign.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, model_validator

from .common import ExclusionReason, Model

MAX_RECIPIENTS = 20  # AJO's unitary limit per call


class RecipientType(str, Enum):
    aep = "aep"  # a known profile, looked up by the namespace
    external = "external"  # no stored profile: sent by its channel data alone (transactional campaigns only)


class Namespace(str, Enum):
    """How ``user_id`` is looked up (AJO's identity namespaces)."""

    email = "email"
    phone = "phone"
    push_token = "pushToken"
    profile_id = "profileId"


class ChannelData(Model):
    email_address: str | None = Field(None, alias="emailAddress", max_length=320)
    mobile_phone_number: str | None = Field(None, alias="mobilePhoneNumber", max_length=32)
    push_token: str | None = Field(None, alias="pushToken", max_length=4096)


class Recipient(Model):
    type: RecipientType = RecipientType.aep
    user_id: str = Field(alias="userId", min_length=1, max_length=320)
    namespace: Namespace
    channel_data: ChannelData | None = Field(None, alias="channelData")
    profile: dict[str, Any] | None = Field(None, description="attributes for {{profile.*}} for this message only")
    context: dict[str, Any] | None = Field(None, description="overrides the request's context for this recipient")


class ExecutionStatus(str, Enum):
    accepted = "accepted"  # durable, not yet sending
    in_progress = "in_progress"
    succeeded = "succeeded"  # every recipient has its outcome (excluded ones included)
    failed = "failed"  # the execution itself could not be sent (e.g. the campaign stopped meanwhile)


class Outcome(str, Enum):
    pending = "pending"
    sent = "sent"
    excluded = "excluded"
    failed = "failed"


class RecipientOutcome(Model):
    user_id: str
    outcome: Outcome = Outcome.pending
    profile_id: str | None = None  # the stored profile it resolved to (aep recipients)
    message_id: str | None = None  # when sent
    reason: ExclusionReason | str | None = None  # when excluded: why, in the engine's words
    error: str | None = None  # when failed: the provider's error


class Execution(Model):
    id: str
    campaign_id: str
    request_id: str
    created_at: datetime
    created_by: str
    status: ExecutionStatus = ExecutionStatus.accepted
    context: dict[str, Any] = Field(default_factory=dict)
    recipients: list[Recipient] = Field(default_factory=list)
    outcomes: list[RecipientOutcome] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_recipients(self) -> "Execution":
        check_unique_recipients(self.recipients)
        return self


def check_unique_recipients(recipients: list[Recipient]) -> None:
    """Each userId once per call: a duplicate would be sent twice, or its outcome be ambiguous."""
    seen: set[str] = set()
    for r in recipients:
        if r.user_id in seen:
            raise ValueError(f"recipients: userId {r.user_id!r} appears twice; name each recipient once")
        seen.add(r.user_id)
