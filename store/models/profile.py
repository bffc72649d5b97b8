"""Profiles: a person's attributes, identities per channel, consent, suppression and lists.

The checks live in plain functions (``normalize_email`` …; ``where`` names the column in messages) so the importer can run them on a
million rows without building a model per row; the models call the same functions.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AliasChoices, Field, field_validator

from .common import Model

PROFILE_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")
LIST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s\"<>(),;:\\\[\]]+@([A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_PUSH_TOKEN = re.compile(r"^[^\s\x00-\x1f]{8,4096}$")

MAX_REJECTIONS = 1000
"""Rejections kept in detail; beyond that only the count grows, so a bad 1M-row file stays cheap."""


def normalize_profile_id(value: str, where: str = "") -> str:
    if not PROFILE_ID.match(value):
        raise ValueError(f"invalid id {value!r}{where} (use 1 to 128 characters without spaces)")
    return value


def normalize_email(value: str, where: str = "") -> str:
    """Trim and lower-case the domain (never the local part, which servers may treat as case-sensitive)."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"invalid email {value!r}{where} (expected name@domain.tld)")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str, where: str = "") -> str:
    """Keep an international number as ``+`` and digits: separators people type are dropped."""
    cleaned = _PHONE_SEPARATORS.sub("", value)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _E164.match(cleaned):
        raise ValueError(f"invalid phone {value!r}{where} (use international format, e.g. +33612345678)")
    return cleaned


def normalize_push_token(value: str, where: str = "") -> str:
    value = value.strip()
    if not _PUSH_TOKEN.match(value):
        raise ValueError(f"invalid push token {value[:40]!r}{where} (8 to 4096 characters, no spaces)")
    return value


def normalize_list_name(value: str, where: str = "") -> str:
    value = value.strip()
    if not LIST_NAME.match(value):
        raise ValueError(f"invalid list name {value!r}{where} (use letters, digits, '-', '_' or '.', up to 64)")
    return value


class Identities(Model):
    """Where a profile can be reached, one address per channel; missing means unreachable there."""

    email: str | None = None
    phone: str | None = None
    push_token: str | None = Field(None, validation_alias=AliasChoices("push_token", "pushToken"))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalize_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalize_phone(value)

    @field_validator("push_token")
    @classmethod
    def _push_token(cls, value: str | None) -> str | None:
        return None if value is None else normalize_push_token(value)


class Consent(Model):
    """Marketing consent per channel; absent means no consent (transactional sends ignore it)."""

    email: bool = False
    sms: bool = False
    push: bool = False


class Profile(Model):
    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    identities: Identities = Field(default_factory=Identities)
    consent: Consent = Field(default_factory=Consent)
    suppressed: bool = False
    lists: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return normalize_profile_id(value)

    @field_validator("lists")
    @classmethod
    def _list_names(cls, names: list[str]) -> list[str]:
        return sorted({normalize_list_name(n) for n in names})


class Rejection(Model):
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportSummary(Model):
    """Outcome of one chunk or of a whole file (``add`` merges chunks); ``rejected`` counts them all."""

    imported: int = 0
    updated: int = 0
    rejected: int = 0
    rejections: list[Rejection] = Field(default_factory=list)

    @property
    def rejections_truncated(self) -> bool:
        return self.rejected > len(self.rejections)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REJECTIONS:
            self.rejections.append(Rejection(line=line, reason=reason))

    def add(self, other: ImportSummary) -> ImportSummary:
        self.imported += other.imported
        self.updated += other.updated
        self.rejected += other.rejected
        room = MAX_REJECTIONS - len(self.rejections)
        self.rejections.extend(other.rejections[: max(room, 0)])
        return self


class ProfileStats(Model):
    profiles: int
    lists: dict[str, int]  # profiles on each list, by list name
