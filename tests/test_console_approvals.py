"""The "awaiting my approval" screen, driven with Textual's Pilot over a real demo workspace."""

from __future__ import annotations

import sys
import types
from contextlib import asynccontextmanager

import httpx
import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.app import CampaignsApp
from console.dialogs.confirm import ConfirmDialog
from console.dialogs.message import MessageDialog
from console.screens.approvals import SELF_BLOCKED, ApprovalsScreen
from console.screens.campaign_list import CampaignListScreen
from store.api.identity import USER_HEADER
from store.client import CampaignsClient, edit_from_file_document
from store.embedded import connect

from .console_support import copy_workspace, seeded_by_cli, settle
from store.listing import CampaignFilter
from store.models import editable_document

AWAITING_CHLOE = {"Winter sale teaser", "VIP private sale", "Re-engagement winback", "Referral programme launch",
                  "Holiday hours update"}


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    return seeded_by_cli(tmp_path_factory.mktemp("console-approvals") / "demo")


@pytest.fixture
async def workspace_dir(demo_dir, tmp_path):
    return copy_workspace(demo_dir, tmp_path / "ws")


@asynccontextmanager
async def approvals(workspace_dir, user="chloe", size=(120, 36), before=None):
    async with connect(workspace_dir, user) as client:
        if before is not None:
            await before(client)
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("w")
            await settle(pilot)
            assert isinstance(app.screen, ApprovalsScreen)
            yield app, pilot, client, app.screen


def names(screen: ApprovalsScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def select(screen: ApprovalsScreen, name: str) -> str:
    table = screen.query_one(DataTable)
    index = names(screen).index(name)
    table.move_cursor(row=index)
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def detail(screen: ApprovalsScreen) -> str:
    return str(screen.query_one("#approval-detail", Static).render())


async def test_lists_what_awaits_me(workspace_dir):
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        assert set(names(screen)) == AWAITING_CHLOE
        assert "5 drafts" in str(screen.query_one("#approvals-title", Static).render())
        cid = select(screen, "VIP private sale")
        await pilot.pause()
        assert f"({cid})" in detail(screen) and "requested by" in detail(screen)
        assert SELF_BLOCKED not in " ".join(str(c) for c in screen.query_one(DataTable).get_row(cid))
        assert not screen.check_action("cancel_request", ())  # chloe requested none of them
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)


async def test_approve_goes_through_the_activation_confirmation(workspace_dir):
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        cid = select(screen, "Holiday hours update")
        await pilot.press("y")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.title_text == "Activate Holiday hours update?"
        campaign = await client.campaign(cid)
        assert campaign.draft.approval.state.value == "approved" and campaign.draft.approval.decided_by == "chloe"
        await pilot.press("enter")  # the Activate button has the focus
        await settle(pilot)
        assert app.screen is screen
        assert (await client.campaign(cid)).status.value in ("Activating", "Scheduled", "Live")
        assert "Holiday hours update" not in names(screen)


async def test_approve_then_decline_activation_leaves_it_approved(workspace_dir):
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        cid = select(screen, "Re-engagement winback")
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        campaign = await client.campaign(cid)
        assert campaign.status.value == "Draft" and campaign.draft.approval.state.value == "approved"
        assert "Re-engagement winback" not in names(screen)


async def test_request_changes_requires_a_message(workspace_dir):
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        cid = select(screen, "Referral programme launch")
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        await pilot.press("enter")  # empty: refused in the dialog
        await settle(pilot)
        assert app.screen is dialog
        assert "message is required" in str(dialog.query_one("#message-error", Static).render())
        await pilot.press(*"Add the referral terms link")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        campaign = await client.campaign(cid)
        assert campaign.status.value == "Draft"
        assert campaign.draft.approval.state.value == "changes_requested"
        assert campaign.draft.approval.message == "Add the referral terms link"
        assert "Referral programme launch" not in names(screen)


async def _root_requests_q1(client) -> None:
    """root (an admin, so an approver of every policy) edits a draft and asks for its approval."""
    rows = await client.list_campaigns(CampaignFilter(all=True))
    cid = next(r.id for r in rows if r.name == "Q1 product survey")
    doc = editable_document(await client.campaign(cid))
    doc["description"] = "Edited by root"
    await client.edit_draft(cid, edit_from_file_document(doc))
    await client.request_approval(cid)


async def test_self_blocked_row_says_so_and_approving_shows_the_refusal(workspace_dir):
    async with approvals(workspace_dir, user="root", before=_root_requests_q1) as (app, pilot, client, screen):
        assert "Q1 product survey" in names(screen)
        cid = select(screen, "Q1 product survey")
        await pilot.pause()
        row = [str(c) for c in screen.query_one(DataTable).get_row(cid)]
        assert SELF_BLOCKED in row
        assert "blocks self-approval" in detail(screen)
        app.save_screenshot("/tmp/approvals-self-blocked.svg")

        notified = len(app._notifications)
        assert screen.check_action("approve", ()) is False  # the server does not list it for root: hidden
        screen.action_approve()  # as from a row gone stale: the engine refuses, saying why
        await settle(pilot)
        assert app.screen is screen
        messages = [n.message for n in list(app._notifications)[notified:]]
        assert any("blocks self-approval" in m for m in messages), messages
        campaign = await client.campaign(cid)
        assert campaign.status.value == "In review" and campaign.draft.approval.state.value == "requested"

        assert screen.check_action("cancel_request", ())  # root asked: root may withdraw
        await pilot.press("R")
        await settle(pilot)
        assert (await client.campaign(cid)).status.value == "Draft"
        assert "Q1 product survey" not in names(screen)


async def test_enter_opens_the_comparison(workspace_dir, monkeypatch):
    opened: list[str] = []

    class CompareScreen(Screen):
        def __init__(self, campaign_id: str) -> None:
            super().__init__()
            opened.append(campaign_id)

    fake = types.ModuleType("console.screens.compare")
    fake.CompareScreen = CompareScreen
    monkeypatch.setitem(sys.modules, "console.screens.compare", fake)
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        cid = select(screen, "Winter sale teaser")
        await pilot.press("enter")
        await settle(pilot)
        assert opened == [cid] and isinstance(app.screen, CompareScreen)
        app.pop_screen()
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert opened == [cid, cid]


async def test_nothing_awaits_a_viewer(workspace_dir):
    async with approvals(workspace_dir, user="eve") as (app, pilot, client, screen):
        assert names(screen) == []
        assert screen.has_class("-empty")
        assert not screen.check_action("approve", ())


async def test_refresh_picks_up_new_requests(workspace_dir):
    async with approvals(workspace_dir) as (app, pilot, client, screen):
        alice = CampaignsClient(httpx.AsyncClient(transport=client.http._transport, base_url=client.http.base_url,
                                                  headers={USER_HEADER: "alice"}))
        cursor_on = select(screen, "Re-engagement winback")
        rows = await alice.list_campaigns(CampaignFilter(all=True))
        await alice.request_approval(next(r.id for r in rows if r.name == "Q1 product survey"))
        screen.load_rows()
        await settle(pilot)
        assert "Q1 product survey" in names(screen)
        table = screen.query_one(DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == cursor_on
        await alice.aclose()


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_screen_fits(workspace_dir, size, tmp_path):
    async with approvals(workspace_dir, size=size) as (app, pilot, client, screen):
        app.save_screenshot(str(tmp_path / "approvals.svg"))
        assert screen.query_one(DataTable).size.height >= 5
        assert screen.query_one("#approval-detail").region.bottom <= size[1] - 1
