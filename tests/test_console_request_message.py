"""The message typed in the console's request-approval dialog reaches the approver's inbox."""

from __future__ import annotations

from textual.widgets import Static

from console.app import CampaignsApp
from console.dialogs.message import MessageDialog
from console.widgets.campaign_table import CampaignTable
from store.embedded import connect
from store.models import CampaignAction

from .console_support import settle, wait_for
from .test_console_approvals import approvals, demo_dir, select, workspace_dir  # noqa: F401 (fixtures)


async def test_the_message_typed_with_a_request_reaches_the_approver(workspace_dir):  # noqa: F811
    async with connect(workspace_dir, "alice") as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(CampaignTable)
            table.select_id(next(r.id for r in table.rows if r.name == "Q1 product survey"))
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog), "the request-approval dialog")
            await pilot.press("escape")  # changed my mind: nothing is sent
            await settle(pilot)
            assert not app._notifications and CampaignAction.request_approval in table.selected.actions
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, MessageDialog), "the request-approval dialog")
            await pilot.press(*"Legal approved the wording")
            await pilot.press("enter")
            await settle(pilot)
            assert any("sent for approval" in n.message for n in app._notifications)
    async with approvals(workspace_dir) as (app, pilot, client, inbox):  # chloe, an approver
        select(inbox, "Q1 product survey")
        await settle(pilot)
        assert "alice says: Legal approved the wording" in str(inbox.query_one("#approval-detail", Static).render())
