"""Channel configurations: how a channel is sent, by whom, for which category."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import Field, field_validator, model_validator

from ..limits import NAME_CHARS
from ..text import single_line
from .common import Category, Channel, Model

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
ALPHA_SENDER = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
# What the API shows instead of a secret: it says a value is set and nothing of the value.
SECRET_MASK = "••••••"


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
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="bound of each network wait: connect, each reply")


class WebhookSettings(Model):
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict, description=(
        f"sent with every request; their values are secrets (Authorization, API keys), shown as {SECRET_MASK!r}"))
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    def masked(self) -> "WebhookSettings":
        return self.model_copy(update={"headers": dict.fromkeys(self.headers, SECRET_MASK)})

    def unmasked(self, stored: "WebhookSettings | None") -> "WebhookSettings":
        """Each header value still showing the mask keeps the stored secret of that header (names are
        case-insensitive in HTTP); a mask with nothing stored behind it is refused, never sent."""
        if SECRET_MASK not in self.headers.values():
            return self
        secrets = {name.casefold(): value for name, value in (stored.headers if stored else {}).items()}
        headers = {}
        for name, value in self.headers.items():
            if value == SECRET_MASK:
                if name.casefold() not in secrets:
                    raise ValueError(f"header {name!r} shows the mask {SECRET_MASK!r} but no value is stored "
                                     "for it; give its real value")
                value = secrets[name.casefold()]
            headers[name] = value
        return self.model_copy(update={"headers": headers})


class ChannelConfiguration(Model):
    """A campaign can select a channel only through one of these (it must exist first)."""

    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=NAME_CHARS)
    channel: Channel
    category: Category
    provider: Provider = Provider.outbox
    sender: str | None = Field(None, description="email: from address; sms: E.164 number or alphanumeric id; push: app id")
    sender_name: str | None = None
    reply_to: str | None = None
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None

    _name_text = field_validator("name")(single_line)

    def masked(self) -> "ChannelConfiguration":
        """The configuration as it may be shown or sent out: webhook header values replaced by the mask."""
        return self if self.webhook is None else self.model_copy(update={"webhook": self.webhook.masked()})

    def unmasked(self, stored: "ChannelConfiguration | None") -> "ChannelConfiguration":
        """A masked document written back (e.g. `show --json` edited) keeps the stored secrets."""
        if self.webhook is None:
            return self
        kept = self.webhook.unmasked(stored.webhook if stored else None)
        return self.model_copy(update={"webhook": kept})

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
