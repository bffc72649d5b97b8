"""Channel configurations: how a channel is sent, by whom, for which category."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import Field, field_validator, model_validator

from .common import Category, Channel, Model

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
ALPHA_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")


class Provider(str, Enum):
    outbox = "outbox"
    smtp = "smtp"
    webhook = "webhook"


class SmtpSettings(Model):
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    username: str | None = None
    password_env: str | None = Field(None, description="name of the environment variable holding the password")


class WebhookSettings(Model):
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(10.0, gt=0, le=120)


class ChannelConfiguration(Model):
    """A campaign can select a channel only through one of these (it must exist first)."""

    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    channel: Channel
    category: Category
    provider: Provider = Provider.outbox
    sender: str | None = Field(None, description="email: from address; sms: E.164 number or alphanumeric id; push: app id")
    sender_name: str | None = None
    reply_to: str | None = None
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None

    @field_validator("reply_to")
    @classmethod
    def _reply_to_is_email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _sender_fits_channel(self) -> "ChannelConfiguration":
        sender = self.sender
        if self.channel is Channel.email:
            if not sender:
                raise ValueError("sender: an email configuration needs a sender address, e.g. news@example.com")
            if not EMAIL.match(sender):
                raise ValueError(f"sender: {sender!r} is not an email address")
        elif self.channel is Channel.sms:
            if not sender:
                raise ValueError("sender: an SMS configuration needs a sender number (+33612345678) or an alphanumeric id")
            if not (PHONE.match(sender) or ALPHA_SENDER.match(sender)):
                raise ValueError(f"sender: {sender!r} is neither an E.164 number nor an alphanumeric id of 11 characters at most")
        elif not sender:
            raise ValueError("sender: a push configuration needs the app id it sends as")
        if self.provider is Provider.smtp:
            if self.channel is not Channel.email:
                raise ValueError(f"provider: smtp only sends email; use webhook or outbox for {self.channel.value}")
            if self.smtp is None:
                self.smtp = SmtpSettings()
        if self.provider is Provider.webhook and self.webhook is None:
            raise ValueError("webhook: a webhook configuration needs webhook.url")
        return self
