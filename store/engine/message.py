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
    unavailable = "unavailable"  # not delivered because the gateway is down (the circuit breaker's verdict)


@dataclass(slots=True)
class SendResult:
    """What one attempt (or one message, retries included) came to.

    ``gateway_fault`` tells "the gateway is down" from "this message was refused": it is set, as a verb
    phrase that follows the gateway's name ("timed out", "refused the connection", "answered 421"), only
    when the failure says nothing about the message (no answer, connection refused or reset, SMTP 421,
    HTTP 502/503/504). The circuit breaker counts those; a refused address proves the gateway is up.
    """

    outcome: Outcome
    detail: str = ""
    retry_after: float | None = None  # the receiver's own wait (HTTP Retry-After), in seconds
    gateway_fault: str | None = None


def network_fault(error: BaseException) -> str:
    """The ``gateway_fault`` of a failed connection: the first OSError among its causes says which."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, ConnectionRefusedError):
        return "refused the connection"
    if isinstance(cause, ConnectionError):
        return "dropped the connection"
    return "could not be reached"


class Provider(Protocol):
    """Synchronous: providers run in the engine's sending thread, never on the UI's event loop.

    ``gateway`` names where messages go ("smtp mail.example:587") for details and the breaker;
    ``timeout_seconds`` bounds one attempt, and from it the retries bound a whole message.
    """

    gateway: str
    timeout_seconds: float

    def send(self, message: OutboundMessage) -> SendResult: ...

    def close(self) -> None: ...
