"""What a message says per channel, and how fast a delivery may send: shared by versions and workflow activities."""

from __future__ import annotations

from pydantic import Field, field_validator

from ..limits import CONTENT_FIELD_BYTES, in_words
from .common import Channel, Model


REQUIRED_CONTENT = {Channel.email: ("subject", "body"), Channel.sms: ("text",), Channel.push: ("body",)}
"""The fields a message on each channel cannot go without (a version's, or a workflow's channel activity's)."""


class EmailContent(Model):
    subject: str = ""
    preheader: str = ""
    body: str = ""


class SmsContent(Model):
    text: str = ""


class PushContent(Model):
    title: str = ""
    body: str = ""


class Content(Model):
    """Content per channel; a version sends the entry of its own channel."""

    email: EmailContent | None = None
    sms: SmsContent | None = None
    push: PushContent | None = None

    def for_channel(self, channel: Channel) -> EmailContent | SmsContent | PushContent | None:
        return getattr(self, channel.value)


def oversized_content(content: Content, prefix: str = "") -> list[dict[str, str]]:
    """Every content field over ``CONTENT_FIELD_BYTES`` (UTF-8), as field errors named ``prefix`` + ``email.body``:
    each field is bounded so that saving, checking and compiling a version is bounded work too."""
    errors = []
    for channel in Channel:
        fields = content.for_channel(channel)
        for name, value in (fields.model_dump() if fields is not None else {}).items():
            # A character is at most 4 bytes: only a long text needs encoding to be measured.
            size = len(value.encode("utf-8", "surrogatepass")) if len(value) * 4 > CONTENT_FIELD_BYTES else 0
            if size > CONTENT_FIELD_BYTES:
                errors.append({"field": f"{prefix}{channel.value}.{name}", "message": (
                    f"{size:,} bytes is over the limit of {in_words(CONTENT_FIELD_BYTES)} per content field; shorten it")})
    return errors


class RateControl(Model):
    messages_per_second: int = Field(description="never exceeded over any one-second window")

    @field_validator("messages_per_second")
    @classmethod
    def _within_limits(cls, rate: int) -> int:
        if not 1 <= rate <= 2000:
            raise ValueError(f"a rate must be between 1 and 2000 messages per second, not {rate}")
        return rate
