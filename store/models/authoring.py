"""Answers to authoring: template errors of content being written, content rendered for a profile."""

from __future__ import annotations

from .common import Model


class ContentCheck(Model):
    errors: list[dict[str, str]]  # field and message (line and column in it), as a refused save gives them


class Rendered(Model):
    profile_id: str | None
    content: dict[str, str] | None = None
    error: str | None = None
