"""Open a workspace in this process and hand back a client that reaches its API in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from .api import create_app
from .api.identity import USER_HEADER
from .clock import Clock
from .client import CampaignsClient
from .workspace import Workspace, default_user


@asynccontextmanager
async def embedded_client(data_dir: Path, user: str | None = None, *, clock: Clock | None = None) -> AsyncIterator[CampaignsClient]:
    """The embedded default: the engine's API served to this process only, as workspace user ``user``."""
    ws = Workspace(data_dir, clock=clock)
    try:
        transport = httpx.ASGITransport(app=create_app(ws))
        http = httpx.AsyncClient(transport=transport, base_url="http://campaigns.embedded",
                                 headers={USER_HEADER: user or default_user()}, timeout=None)
        client = CampaignsClient(http)
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        ws.close()
