"""The console's approval-policy screen, driven with Pilot over a real demo workspace: admins add, edit and
enable or disable policies there, everyone else reads them."""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager

import pytest
from textual.widgets import Checkbox, DataTable, Input, Static

from console.app import CampaignsApp
from console.dialogs.policy_form import PolicyDialog
from console.screens.campaign_list import CampaignListScreen
from console.screens.policies import PoliciesScreen
from store.embedded import connect

from .console_support import console, copy_workspace, frozen, seed_demo, seeded_by_cli, settle, wait_for
from .test_console_snapshots import SNAPSHOT_DIR, copy_workspace_dir


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    return seeded_by_cli(tmp_path_factory.mktemp("console-policies") / "demo")


@pytest.fixture
def workspace_dir(demo_dir, tmp_path):
    return copy_workspace(demo_dir, tmp_path / "ws")


@asynccontextmanager
async def policies(workspace_dir, user="root"):
    async with connect(workspace_dir, user) as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("P")
            await settle(pilot)
            assert isinstance(app.screen, PoliciesScreen)
            yield app, pilot, client, app.screen


def ids(screen: PoliciesScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def select(screen: PoliciesScreen, policy_id: str) -> None:
    screen.query_one(DataTable).move_cursor(row=ids(screen).index(policy_id))


def type_into(pilot, widget_id: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{widget_id}", Input).value = text


async def open_form(pilot, key: str) -> PolicyDialog:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PolicyDialog), f"the policy form after {key!r}")
    await pilot.pause()
    return pilot.app.screen


async def test_an_admin_adds_a_policy_through_the_form(workspace_dir):
    async with policies(workspace_dir) as (app, pilot, client, screen):
        assert ids(screen) == ["marketing-email", "vip-offers"]
        await open_form(pilot, "n")
        type_into(pilot, "policy-id", "sms-promos")
        type_into(pilot, "policy-name", "SMS promotions need Fatima")
        type_into(pilot, "policy-channels", "sms")
        type_into(pilot, "policy-tags", "promo, flash")
        type_into(pilot, "policy-users", "fatima")
        type_into(pilot, "policy-roles", "admin")
        app.screen.query_one("#policy-block-self", Checkbox).value = False
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the form to close after saving")
        await settle(pilot)
        saved = {p.id: p for p in await client.approval_policies()}["sms-promos"]
        assert saved.name == "SMS promotions need Fatima" and saved.enabled and not saved.block_self_approval
        assert [c.value for c in saved.conditions.channels] == ["sms"] and saved.conditions.tags == ["promo", "flash"]
        assert saved.approvers.users == ["fatima"] and [r.value for r in saved.approvers.roles] == ["admin"]
        assert "sms-promos" in ids(screen)
        assert "Approval policies · 3 policies" in str(screen.query_one("#policies-title", Static).render())


async def test_an_admin_edits_and_toggles_a_policy(workspace_dir):
    async with policies(workspace_dir) as (app, pilot, client, screen):
        select(screen, "vip-offers")
        await pilot.press("space")
        await settle(pilot)
        assert not {p.id: p for p in await client.approval_policies()}["vip-offers"].enabled
        assert "no" == str(screen.query_one(DataTable).get_row("vip-offers")[2])
        await pilot.press("space")
        await settle(pilot)
        assert {p.id: p for p in await client.approval_policies()}["vip-offers"].enabled
        form = await open_form(pilot, "enter")
        assert form.query_one("#policy-users", Input).value == "dmitri"
        type_into(pilot, "policy-users", "dmitri, fatima")
        await pilot.click("#save")
        await wait_for(pilot, lambda: app.screen is screen, "the form to close after saving")
        assert {p.id: p for p in await client.approval_policies()}["vip-offers"].approvers.users == ["dmitri", "fatima"]


async def test_a_refused_save_shows_the_engines_reason_and_keeps_the_form(workspace_dir):
    async with policies(workspace_dir) as (app, pilot, client, screen):
        before = await client.approval_policies()
        form = await open_form(pilot, "n")
        type_into(pilot, "policy-id", "marketing-email")  # exists: the engine refuses (409)
        type_into(pilot, "policy-name", "Another marketing rule")
        type_into(pilot, "policy-roles", "approver")
        await pilot.press("ctrl+s")
        error = form.query_one("#policy-error", Static)
        await wait_for(pilot, lambda: "already" in str(error.render()), "the engine's refusal in the form")
        assert "policies edit marketing-email" in str(error.render())
        assert app.screen is form and form.query_one("#policy-name", Input).value == "Another marketing rule"
        type_into(pilot, "policy-id", "other-marketing")
        type_into(pilot, "policy-roles", "boss")  # no such role: refused, one line naming the field
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "roles" in str(error.render()), "the role refused in the form")
        assert app.screen is form and form.query_one("#policy-roles", Input).value == "boss"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and await client.approval_policies() == before


async def test_a_manager_reads_the_policies_but_may_not_change_them(workspace_dir):
    async with policies(workspace_dir, "alice") as (app, pilot, client, screen):
        assert ids(screen) == ["marketing-email", "vip-offers"]
        assert "Read-only: only an admin" in str(screen.query_one("#policies-note", Static).render())
        for action in ("add", "edit", "toggle_enabled"):
            assert screen.check_action(action, ()) is False  # not offered in the footer or palette
        before = await client.approval_policies()
        for key in ("n", "e", "space", "enter"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert await client.approval_policies() == before


async def test_the_palette_opens_the_policy_screen(workspace_dir):
    async with connect(workspace_dir, "chloe") as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"approval policies")
            await pilot.pause(0.3)  # the palette searches as you type
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, PoliciesScreen), "the policy screen")
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CampaignListScreen)


def test_policy_screen_snapshot(snap_compare):
    os.environ["TZ"] = "UTC"
    time.tzset()
    demo = seed_demo(copy_workspace_dir(SNAPSHOT_DIR / "policies-template"), frozen())

    async def open_policies(pilot):
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)

    with console(copy_workspace(demo, SNAPSHOT_DIR / "policies"), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 36), run_before=open_policies)
