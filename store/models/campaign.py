"""Campaigns and their versions: the live one, the draft beside it, and history."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from .channel import SLUG
from .common import CampaignType, Category, Channel, Model, Status
from .schedule import Schedule

TAG = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}$"


class EmailContent(Model):
    subject: str = Field("", max_length=500)
    preheader: str = Field("", max_length=500)
    body: str = ""


class SmsContent(Model):
    text: str = Field("", max_length=1600)


class PushContent(Model):
    title: str = Field("", max_length=200)
    body: str = Field("", max_length=2000)


class Content(Model):
    """Content per channel; a version sends the entry of its own channel."""

    email: EmailContent | None = None
    sms: SmsContent | None = None
    push: PushContent | None = None

    def for_channel(self, channel: Channel) -> EmailContent | SmsContent | PushContent | None:
        return getattr(self, channel.value)


class RateControl(Model):
    messages_per_second: int = Field(description="never exceeded over any one-second window")

    @field_validator("messages_per_second")
    @classmethod
    def _within_limits(cls, rate: int) -> int:
        if not 1 <= rate <= 2000:
            raise ValueError(f"a rate must be between 1 and 2000 messages per second, not {rate}")
        return rate


class ApprovalState(str, Enum):
    requested = "requested"
    approved = "approved"
    changes_requested = "changes_requested"


class Approval(Model):
    state: ApprovalState
    policy: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    message: str | None = None


class VersionSpec(Model):
    """The editable part of a version: what a person writes in a create or edit file."""

    audience: str | None = Field(None, pattern=SLUG)
    channel: Channel
    channel_configuration: str | None = Field(None, pattern=SLUG)
    content: Content = Field(default_factory=Content)
    schedule: Schedule = Field(default_factory=Schedule)
    rate_control: RateControl | None = None


class Version(VersionSpec):
    number: int = Field(ge=1)
    revision: int = Field(1, ge=1)
    approval: Approval | None = None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    activated_by: str | None = None
    activated_at: datetime | None = None


class CampaignSpec(Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    type: CampaignType
    category: Category

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a campaign needs a name")
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _tags_are_words(cls, tags: list[str]) -> list[str]:
        import re

        bad = [t for t in tags if not re.match(TAG, t)]
        if bad:
            raise ValueError(f"tags must be short words (letters, digits, _ . : -): {', '.join(map(repr, bad))}")
        return list(dict.fromkeys(tags))


def check_version_fits_type(type: CampaignType, spec: VersionSpec) -> None:
    """Rules that need both the campaign and the version: recurrence is for action campaigns only."""
    if spec.schedule.recurrence is not None and type is not CampaignType.action:
        raise ValueError(
            f"schedule.recurrence: a recurrence only applies to action campaigns; an {type.value} campaign sends "
            + ("on each API call" if type is CampaignType.api else "through its workflow")
        )


class Campaign(CampaignSpec):
    id: str
    status: Status = Status.draft
    status_reason: str | None = None
    resume_status: Status | None = Field(
        None, description="while a draft beside a live version is Activating: the status to return to if it fails")
    live: Version | None = None
    draft: Version | None = None
    history: list[Version] = Field(default_factory=list)
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @model_validator(mode="after")
    def _versions_fit_type(self) -> "Campaign":
        for version in (self.live, self.draft):
            if version is not None:
                check_version_fits_type(self.type, version)
        return self

    @property
    def has_draft(self) -> bool:
        """An "open draft": a draft standing beside a live (or scheduled) version."""
        return self.draft is not None and self.live is not None

    @property
    def current(self) -> Version:
        """The version a person is working on: the draft if there is one, else the live one."""
        version = self.draft or self.live
        assert version is not None, f"campaign {self.id} has no version"
        return version

    @property
    def channel(self) -> Channel:
        return self.current.channel

    def next_version_number(self) -> int:
        return 1 + max([v.number for v in (self.live, self.draft, *self.history) if v is not None], default=0)


class LastRun(Model):
    """The latest run of a campaign, as the list shows it."""

    status: str
    sent: int
    failed: int
    excluded: int
    at: datetime | None = None


class CampaignSummary(Model):
    """One row of the campaign list: small enough to send 10,000 of them quickly."""

    id: str
    name: str
    type: CampaignType
    category: Category
    status: Status
    channel: Channel
    has_draft: bool
    draft_approval: ApprovalState | None = None
    tags: list[str] = Field(default_factory=list)
    updated_by: str
    updated_at: datetime
    next_run: datetime | None = None
    last_run: LastRun | None = None


class CampaignEdit(Model):
    """A create or edit request: campaign fields, the version spec, and the revision it was based on."""

    campaign: CampaignSpec
    version: VersionSpec
    base_revision: int | None = Field(
        None, description="revision of the draft (or of the live version when creating the draft) the edit started from"
    )

    @model_validator(mode="after")
    def _fits(self) -> "CampaignEdit":
        check_version_fits_type(self.campaign.type, self.version)
        return self


_READ_ONLY_CAMPAIGN = {"id", "status", "status_reason", "resume_status", "history", "created_by", "created_at", "updated_by",
                       "updated_at", "has_draft", "channel"}
_READ_ONLY_VERSION = {"number", "revision", "approval", "created_by", "created_at", "updated_by", "updated_at",
                      "activated_by", "activated_at"}


def edit_from_document(document: dict[str, Any]) -> CampaignEdit:
    """Read a create/edit file in the shape ``campaigns show --json`` prints.

    The draft is taken if present, else the live version, else a ``version`` key. Fields the
    server manages (ids, statuses, timestamps, history) are ignored; any other unknown key is
    refused so a typo is never dropped silently.
    """
    if not isinstance(document, dict):
        raise ValueError("the file must hold one JSON object in the shape `campaigns show --json` prints")
    doc = {k: v for k, v in document.items() if k not in _READ_ONLY_CAMPAIGN}
    version = doc.pop("draft", None) or doc.pop("live", None) or doc.pop("version", None)
    doc.pop("draft", None), doc.pop("live", None), doc.pop("version", None)
    if not isinstance(version, dict):
        raise ValueError("the file has no version: add a \"draft\" object with at least \"channel\"")
    base = version.get("revision")
    spec = {k: v for k, v in version.items() if k not in _READ_ONLY_VERSION}
    return CampaignEdit.model_validate({"campaign": doc, "version": spec, "base_revision": base})


def editable_document(campaign: Campaign) -> dict[str, Any]:
    """What a person edits: campaign fields and the draft (or the live version a draft will start from).

    It carries the revision it was taken at, so an edit made meanwhile by someone else is detected.
    """
    version = campaign.draft or campaign.live
    assert version is not None
    editable = version.model_dump(mode="json", include=set(VersionSpec.model_fields) | {"revision"})
    return {
        "id": campaign.id,
        **campaign.model_dump(mode="json", include=set(CampaignSpec.model_fields)),
        "draft": {"revision": editable.pop("revision"), **editable},
    }


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field": "draft.schedule.end", "message": ...}`` for people and problem JSON."""
    out = []
    for e in error.errors():
        loc = [str(p) for p in e["loc"] if p not in ("campaign",)]
        loc = ["draft" if p == "version" else p for p in loc]
        message = str(e["msg"]).removeprefix("Value error, ")
        if ": " in message and not loc and message.split(": ", 1)[0].replace(".", "").replace("_", "").isalnum():
            field, message = message.split(": ", 1)
            loc = [field]
        out.append({"field": ".".join(loc) or "(document)", "message": message})
    return out
