"""What the workspace says about itself: who is calling, and what seeding the demo put in it."""

from __future__ import annotations

from datetime import datetime

from .common import Model
from .people import User


class WorkspaceInfo(Model):
    data_dir: str
    user: User
    proof: str  # how the caller was proven: "OS account alice (uid 1001)", "bearer token"
    permissions: list[str]
    now: datetime  # the engine's clock: clients show times relative to it
    granted_to: dict[str, list[str]] = {}  # each permission → the roles that have it: why a key is hidden
    engine_pid: int | None = None  # the process serving this answer: a console shows it, and sees a restarted engine


class DemoSeeded(Model):
    """How many of each the demo created, in the order they are told."""

    users: int
    channel_configurations: int
    audiences: int
    profiles: int
    campaigns: int
