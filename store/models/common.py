"""Words shared by every model: channels, types, categories, statuses, roles."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Base of every model: unknown fields are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Channel(str, Enum):
    email = "email"
    sms = "sms"
    push = "push"


class CampaignType(str, Enum):
    action = "action"
    api = "api"
    orchestrated = "orchestrated"


class Category(str, Enum):
    marketing = "marketing"
    transactional = "transactional"


class Status(str, Enum):
    """The nine statuses, with the words shown everywhere (console, CLI, API)."""

    draft = "Draft"
    in_review = "In review"
    activating = "Activating"
    scheduled = "Scheduled"
    live = "Live"
    stopped = "Stopped"
    completed = "Completed"
    failed = "Failed"
    archived = "Archived"


HIDDEN_BY_DEFAULT = frozenset({Status.stopped, Status.completed, Status.archived})


class Role(str, Enum):
    viewer = "viewer"
    manager = "manager"
    approver = "approver"
    admin = "admin"


class ExclusionReason(str, Enum):
    no_address = "no_address"
    no_consent = "no_consent"
    suppressed = "suppressed"
    rendering_error = "rendering_error"
    dispatch_error = "dispatch_error"
    throttle_timeout = "throttle_timeout"
    stopped = "stopped"
