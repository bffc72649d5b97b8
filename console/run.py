"""Start the console on its target: a workspace here (hosting its engine unless another process already
does), or a server reached with ``--connect``."""

from __future__ import annotations

from .app import CampaignsApp
from .target import Target


async def run_console(target: Target) -> int:
    async with target.connect(host=True) as client:
        app = CampaignsApp(client)
        await app.run_async()
    return app.return_code or 0
