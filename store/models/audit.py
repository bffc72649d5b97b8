"""The audit trail: one event per change, who did what to which object and when."""

from __future__ import annotations

from datetime import datetime

from .common import Model


class AuditEvent(Model):
    at: datetime
    user: str
    action: str
    target: str
    campaign_id: str | None = None
    version: int | None = None
    detail: str = ""
    proof: str | None = None  # how the user was proven (an OS account, a bearer token); None: the engine
