"""A key hidden for the user (their role, or the campaign's state) says why when pressed, instead of nothing."""

from __future__ import annotations

import pytest

from console.widgets.campaign_table import CampaignTable
from store.models import Status

from .console_support import console, copy_workspace, frozen, seed_demo, settle, wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("hidden-keys") / "demo", frozen())


async def said_after(pilot, key: str) -> str:
    app = pilot.app
    before = len(app._notifications)
    await pilot.press(key)
    await wait_for(pilot, lambda: len(app._notifications) > before, f"a reason after {key!r}")
    return list(app._notifications)[-1].message


async def select(pilot, status: Status) -> str:
    table = pilot.app.screen.query_one(CampaignTable)
    row = next(r for r in table.rows if r.status is status and not r.has_draft)
    table.select_id(row.id)
    await pilot.pause()
    return row.name


async def test_a_viewer_pressing_edit_is_told_which_roles_may(demo, tmp_path):
    with console(copy_workspace(demo, tmp_path / "ws"), "eve", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, Status.draft)
            assert await said_after(pilot, "e") == "eve is a viewer: edit draft needs manager or admin"
            assert await said_after(pilot, "n") == "eve is a viewer: new campaign needs manager or admin"
            assert app.screen.query_one(CampaignTable).has_focus  # nothing opened


async def test_a_manager_pressing_approve_is_told_who_approves(demo, tmp_path):
    with console(copy_workspace(demo, tmp_path / "ws"), "alice", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, Status.in_review)
            assert await said_after(pilot, "y") == "alice is a manager: approve needs approver or admin"


async def test_an_action_the_campaigns_state_rules_out_names_the_state(demo, tmp_path):
    with console(copy_workspace(demo, tmp_path / "ws"), "root", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            name = await select(pilot, Status.live)
            assert await said_after(pilot, "D") == f"Delete draft is not possible on {name} now (Live)"
