"""The plain words of DESIGN.md section 1 (channels, types, categories, statuses, roles, exclusion reasons) as
enums, with no pydantic: the command line declares its choices from them without loading the models, which
re-export them from ``store.models`` (one definition)."""

from __future__ import annotations

from enum import Enum


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
    api_client = "api-client"  # a system (a shop, a login service): calls API campaigns and reads executions


class ExclusionReason(str, Enum):
    no_address = "no_address"
    no_consent = "no_consent"
    suppressed = "suppressed"
    rendering_error = "rendering_error"
    dispatch_error = "dispatch_error"
    throttle_timeout = "throttle_timeout"
    stopped = "stopped"
