"""Start the console on a workspace, hosting its engine here unless another process already does."""

from __future__ import annotations

from pathlib import Path

from store.embedded import connect

from .app import CampaignsApp


async def run_console(data: Path, user: str | None) -> int:
    async with connect(data, user, host=True) as client:
        app = CampaignsApp(client)
        await app.run_async()
    return app.return_code or 0
