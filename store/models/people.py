"""Workspace users with their role, and the approval policies that decide who must approve."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ..limits import NAME_CHARS
from ..text import single_line

from .channel import SLUG
from .common import CampaignType, Category, Channel, Model, Role

USER_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$"


OS_USER = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$"  # a login name, as useradd allows one


class User(Model):
    name: str = Field(pattern=USER_NAME)
    role: Role
    display_name: str | None = Field(None, max_length=NAME_CHARS)
    email: str | None = None
    os_user: str | None = Field(None, pattern=OS_USER,
                                description="the OS account this user logs in as on a shared host (default: the same name)")

    _display_name_text = field_validator("display_name")(single_line)

    @property
    def os_account(self) -> str:
        return self.os_user or self.name


class Caller(User):
    """A user as one request proved who they are: ``proof`` says how (an OS account the kernel named, a token)."""

    proof: str


def proof_of(user: User) -> str | None:
    """How the acting user was proven, for the audit trail; None for the engine acting on its own."""
    return user.proof if isinstance(user, Caller) else None


class PolicyConditions(Model):
    """A policy applies when every non-empty list matches the campaign (empty list: any)."""

    types: list[CampaignType] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="the campaign has at least one of these tags")

    def matches(self, type: CampaignType, category: Category, channel: Channel | None, tags: list[str]) -> bool:
        return (
            (not self.types or type in self.types)
            and (not self.categories or category in self.categories)
            and (not self.channels or channel in self.channels)
            and (not self.tags or bool(set(self.tags) & set(tags)))
        )


class Approvers(Model):
    users: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> "Approvers":
        if not self.users and not self.roles:
            raise ValueError("approvers: name at least one user or one role who may approve")
        return self

    def includes(self, user: User) -> bool:
        return user.name in self.users or user.role in self.roles


class ApprovalPolicy(Model):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=NAME_CHARS)
    conditions: PolicyConditions = Field(default_factory=PolicyConditions)
    approvers: Approvers
    block_self_approval: bool = True
    enabled: bool = True

    _name_text = field_validator("name")(single_line)
