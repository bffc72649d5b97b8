"""The console's approvals inbox shows the requester's message under the highlighted request."""

from __future__ import annotations

import httpx
from textual.widgets import Static

from store.api.identity import USER_HEADER
from store.client import CampaignsClient
from store.listing import CampaignFilter

from .console_support import settle
from .test_console_approvals import approvals, demo_dir, select, workspace_dir  # noqa: F401 (fixtures)


async def test_the_approver_reads_the_requesters_message(workspace_dir):  # noqa: F811
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        alice = CampaignsClient(httpx.AsyncClient(transport=client.http._transport, base_url=client.http.base_url,
                                                  headers={USER_HEADER: "alice"}))
        rows = await alice.list_campaigns(CampaignFilter(all=True))
        await alice.request_approval(next(r.id for r in rows if r.name == "Q1 product survey"),
                                     "Legal approved the wording.\nNeeded by Friday.")
        screen.load_rows()
        await settle(pilot)
        select(screen, "Q1 product survey")
        await settle(pilot)
        detail = str(screen.query_one("#approval-detail", Static).render())
        assert "alice says: Legal approved the wording.\nNeeded by Friday." in detail
        select(screen, "Re-engagement winback")
        await settle(pilot)
        assert "says:" not in str(screen.query_one("#approval-detail", Static).render())
