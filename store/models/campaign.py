"""Campaigns and their versions: the live one, the draft beside it, and history."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from ..limits import DESCRIPTION_CHARS, NAME_CHARS, TAG_CHARS, TAGS
from ..text import multi_line, single_line, unsafe_character
from .channel import SLUG
from .common import CampaignType, Category, Channel, Model, Status
from .content import Content, EmailContent, PushContent, RateControl, SmsContent, oversized_content
from .schedule import Schedule
from .workflow import Workflow

TAG = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{TAG_CHARS - 1}}}$")


class CampaignAction(str, Enum):
    """What a person can do to a campaign; the server lists those open to the caller (``actions``)."""

    edit = "edit"
    request_approval = "request_approval"
    cancel_approval_request = "cancel_approval_request"
    approve = "approve"
    request_changes = "request_changes"
    activate = "activate"
    stop = "stop"
    archive = "archive"
    duplicate = "duplicate"
    delete = "delete"
    compare = "compare"
    trigger = "trigger"


class ApprovalState(str, Enum):
    requested = "requested"
    approved = "approved"
    changes_requested = "changes_requested"


def waiting_policies(policies: list[str], policy: str, approved_by: dict[str, str]) -> list[str]:
    """Of the policies an approval was requested under, those no one has approved under yet (the list reads
    stored approvals through this too, without building the model)."""
    return [p for p in policies or [policy] if p not in approved_by]


class Approval(Model):
    """A request for approval of one version and its decisions: every policy matching the campaign applies, and
    the version is approved only once each has been approved by one of its approvers."""

    state: ApprovalState
    policy: str  # the first policy (by id) it was requested under
    policies: list[str] = Field(default_factory=list, description="every policy it was requested under "
                                "(empty on requests stored before several policies applied: then ``policy`` alone)")
    approved_by: dict[str, str] = Field(default_factory=dict, description="policy id: who approved under it")
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    message: str | None = None
    request_message: str | None = Field(None, description="the requester's message to the approvers")

    @property
    def waiting(self) -> list[str]:
        """The policies still waiting for an approval."""
        return waiting_policies(self.policies, self.policy, self.approved_by)


class VersionFields(Model):
    """The editable part of a version, as stored: read back as it was written, even by an older version
    with looser limits, so such a version still opens (and can be fixed)."""

    audience: str | None = Field(None, pattern=SLUG)
    channel: Channel
    channel_configuration: str | None = Field(None, pattern=SLUG)
    content: Content = Field(default_factory=Content)
    schedule: Schedule = Field(default_factory=Schedule)
    rate_control: RateControl | None = None
    workflow: Workflow | None = Field(None, description="an orchestrated campaign's activities and transitions")

    @model_validator(mode="before")
    @classmethod
    def _channel_of_workflow(cls, data: Any) -> Any:
        """A workflow's version may leave ``channel`` out: it is then its first channel activity's (email if none),
        which the list shows."""
        if isinstance(data, dict) and "channel" not in data and isinstance(data.get("workflow"), dict):
            activities = data["workflow"].get("activities")
            kinds = [a.get("kind") for a in activities if isinstance(a, dict)] if isinstance(activities, list) else []
            data = {**data, "channel": next((k for k in kinds if k in ("email", "sms", "push")), "email")}
        return data


class VersionSpec(VersionFields):
    """What a person writes in a create or edit file: within the limits of ``store.limits``."""

    @field_validator("content")
    @classmethod
    def _content_within_limits(cls, content: Content) -> Content:
        errors = oversized_content(content)
        if errors:
            raise ValueError("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        return content


class Version(VersionFields):
    number: int = Field(ge=1)
    revision: int = Field(1, ge=1)
    approval: Approval | None = None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    activated_by: str | None = None
    activated_at: datetime | None = None


class CampaignFields(Model):
    """A campaign's own fields, as stored: read back as they were written, so a campaign saved by an
    older version (before today's limits) still opens, and its text is shown escaped (``store.text``)."""

    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    type: CampaignType
    category: Category


class CampaignSpec(CampaignFields):
    """The campaign fields a person submits: bounded, and free of characters that would act on a terminal."""

    name: str = Field(min_length=1, max_length=NAME_CHARS)
    description: str = Field("", max_length=DESCRIPTION_CHARS)
    tags: list[str] = Field(default_factory=list, max_length=TAGS)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        single_line(value)  # before stripping: a trailing CR is refused, not silently dropped
        if not value.strip():
            raise ValueError("a campaign needs a name")
        return value.strip()

    _description_text = field_validator("description")(multi_line)

    @field_validator("tags")
    @classmethod
    def _tags_are_words(cls, tags: list[str]) -> list[str]:
        for number, tag in enumerate(tags, 1):
            problem = unsafe_character(tag)
            if problem:
                raise ValueError(f"tag {number} {problem}")
        bad = [t for t in tags if not TAG.match(t)]
        if bad:
            raise ValueError(f"tags must be words of at most {TAG_CHARS} characters (letters, digits, _ . : -): "
                             f"{', '.join(map(repr, bad))}")
        return list(dict.fromkeys(tags))


def check_version_fits_type(type: CampaignType, spec: VersionFields) -> None:
    """Rules that need both the campaign and the version: recurrence is for action and orchestrated campaigns;
    an end date-time ends a recurrence, or the calls an api campaign takes; a workflow is an orchestrated
    campaign's alone."""
    if spec.schedule.recurrence is not None and type is CampaignType.api:
        raise ValueError("schedule.recurrence: a recurrence does not apply to api campaigns; they send on each API call")
    if spec.workflow is not None and type is not CampaignType.orchestrated:
        raise ValueError(f"workflow: only orchestrated campaigns have a workflow; an {type.value} campaign sends "
                         + ("on each API call" if type is CampaignType.api else "its content to its audience"))
    if spec.schedule.end is not None and spec.schedule.recurrence is None and type is not CampaignType.api:
        raise ValueError("schedule.end: an end date-time only applies to a recurring campaign or an api campaign: "
                         "add a recurrence or remove end")


class Campaign(CampaignFields):
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
    actions: list[CampaignAction] | None = Field(
        None, exclude_if=lambda actions: actions is None,
        description="what the caller may do to it now (role, status, approval policy); never stored")

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
    actions: list[CampaignAction] = Field(default_factory=list, description="what the caller may do to it now")


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
                       "updated_at", "has_draft", "channel", "actions"}
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
