"""What screens and widgets reach on the app that hosts them, typed.

``self.app`` is typed as Textual's ``App``; the console's app imports its screens, so they cannot import it
back to name its type. They name what they use instead: ``host(self)`` is the app as a ``ConsoleHost``,
checked once at run time (a screen mounted in any other app fails there, saying so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Literal, Protocol, TypeVar, overload, runtime_checkable

from textual.dom import DOMNode

from store.client import CampaignsClient

T = TypeVar("T")


@runtime_checkable
class ConsoleHost(Protocol):
    client: CampaignsClient
    refresh_seconds: float
    unsaved_edit: bool
    ready: asyncio.Event  # set once we know who is acting
    identity: dict | None
    permissions: set[str]  # the user's permission words (/v1/me)
    granted_to: dict[str, list[str]]  # each permission word → the roles that hold it

    def now(self) -> datetime: ...

    def allowed(self, permission: str) -> bool: ...

    def open_compare(self, campaign_id: str) -> None: ...

    @overload
    async def call_api(self, call: Awaitable[T], *, quiet: bool = ..., none_is_success: Literal[False] = ...) -> T | None: ...

    @overload
    async def call_api(self, call: Awaitable[T], *, quiet: bool = ..., none_is_success: Literal[True]) -> T | Literal[False]: ...


def host(node: DOMNode) -> ConsoleHost:
    """The console app running ``node``."""
    app = node.app
    if not isinstance(app, ConsoleHost):
        raise TypeError(f"{type(app).__name__} is not the campaigns console: it lacks what ConsoleHost lists")
    return app
