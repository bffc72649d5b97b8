"""What a provider is handed, and what it answers: the seam between runs and channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from ..models import Channel


@dataclass(slots=True)
class OutboundMessage:
    """One rendered message to one profile in one run.

    ``message_key`` is deterministic (run id + profile id): it is the idempotency key of
    webhooks and the Message-ID of email, so a resend after a crash is recognised downstream.
    """

    message_key: str
    campaign_id: str
    run_id: str
    profile_id: str
    channel: Channel
    to: str
    content: dict[str, str]
    sender: str | None = None
    sender_name: str | None = None
    reply_to: str | None = None
    context: dict = field(default_factory=dict)


class Outcome(str, Enum):
    sent = "sent"
    transient = "transient"  # worth retrying later: connection dropped, 4xx SMTP, HTTP 5xx/429, timeout
    permanent = "permanent"  # retrying will not help: 5xx SMTP, HTTP 4xx, invalid address


@dataclass(slots=True)
class SendResult:
    outcome: Outcome
    detail: str = ""
    retry_after: float | None = None  # the receiver's own wait (HTTP Retry-After), in seconds


class Provider(Protocol):
    """Synchronous: providers run in the engine's sending thread, never on the UI's event loop."""

    def send(self, message: OutboundMessage) -> SendResult: ...

    def close(self) -> None: ...
