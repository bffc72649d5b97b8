"""The workflow screen on the demo: open it from the campaign, move with the arrows, add, delete, connect and
edit activities (each saved in the draft, read back through the client), a refused save shown; snapshots of
the canvas at 120×40 and 80×24."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from .console_support import console, copy_workspace, frozen, screen_text, seed_demo, settle, wait_for

WORK = Path("/tmp/campaigns-workflow-console")


@pytest.fixture(scope="module")
def template():
    os.environ["TZ"] = "UTC"
    time.tzset()
    import shutil

    if WORK.exists():
        shutil.rmtree(WORK)
    return seed_demo(WORK / "template", frozen())


@pytest.fixture
def demo(template):
    return copy_workspace(template, WORK / "demo")


async def open_workflow(pilot, name: str = "Onboarding journey"):
    from console.screens.campaign_detail import CampaignDetailScreen
    from console.screens.workflow import WorkflowScreen

    await settle(pilot)
    from store.listing import CampaignFilter

    rows = await pilot.app.client.list_campaigns(CampaignFilter(all=True))
    campaign_id = next(r.id for r in rows if r.name == name)
    pilot.app.push_screen(CampaignDetailScreen(campaign_id))
    await settle(pilot)
    await pilot.press("W")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, WorkflowScreen), "the workflow screen")
    await settle(pilot)
    return campaign_id


def canvas(app):
    from console.widgets.workflow_canvas import WorkflowCanvas

    return app.screen.query_one(WorkflowCanvas)


async def draft_workflow(app, campaign_id):
    return (await app.client.campaign(campaign_id)).current.workflow


def test_arrows_move_along_transitions_and_within_columns(demo):
    async def run():
        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                await open_workflow(pilot)
                assert canvas(app).selected == "subscribers"
                assert "Loyalty tier" in screen_text(app) and "─ gold ─" in screen_text(app)
                await pilot.press("right")
                assert canvas(app).selected == "by-tier"
                await pilot.press("right")
                assert canvas(app).selected == "welcome-gold"
                await pilot.press("down")
                assert canvas(app).selected == "welcome-a"
                await pilot.press("down")
                assert canvas(app).selected == "welcome-b"
                await pilot.press("left")
                assert canvas(app).selected == "by-tier"

    asyncio.run(run())


def test_add_delete_and_connect_are_saved_in_the_draft(demo):
    async def run():
        from console.dialogs.activity_pick import ActivityPickDialog
        from console.dialogs.confirm import ConfirmDialog

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                campaign_id = await open_workflow(pilot)
                await pilot.press("right", "right")  # welcome-gold
                await pilot.press("a")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivityPickDialog), "the kind picker")
                app.screen.dismiss("wait")
                await settle(pilot)
                workflow = await draft_workflow(app, campaign_id)
                assert workflow.activity("wait").kind == "wait"
                assert [t.source for t in workflow.inbound("wait")] == ["welcome-gold"]
                assert canvas(app).selected == "wait"
                assert "Saved" in screen_text(app)

                canvas(app).select("two-days")  # one input (welcome-a), one output (tips)
                await pilot.press("d")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the delete question")
                app.screen.dismiss(True)
                await settle(pilot)
                workflow = await draft_workflow(app, campaign_id)
                assert "two-days" not in {a.id for a in workflow.activities}
                assert [t.source for t in workflow.inbound("tips")] == ["welcome-a"]

                canvas(app).select("wait")
                await pilot.press("c")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivityPickDialog), "the target picker")
                app.screen.dismiss("done-gold")
                await settle(pilot)
                workflow = await draft_workflow(app, campaign_id)
                assert [t.to for t in workflow.outbound("wait")] == ["done-gold"]
                assert len({t.name for t in workflow.transitions}) == len(workflow.transitions)

    asyncio.run(run())


def test_adding_after_a_split_takes_its_free_outlet(demo):
    async def run():
        from console.dialogs.activity_pick import ActivityPickDialog
        from console.dialogs.confirm import ConfirmDialog

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                campaign_id = await open_workflow(pilot)
                for activity_id in ("welcome-b", "done"):  # frees the split's remainder, "others"
                    canvas(app).select(activity_id)
                    await pilot.press("d")
                    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the delete question")
                    app.screen.dismiss(True)
                    await settle(pilot)
                canvas(app).select("tips")
                await pilot.press("a")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivityPickDialog), "the kind picker")
                app.screen.dismiss("end")
                await settle(pilot)
                canvas(app).select("by-tier")
                await pilot.press("a")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivityPickDialog), "the kind picker")
                app.screen.dismiss("end")
                await settle(pilot)
                workflow = await draft_workflow(app, campaign_id)
                assert [t.name for t in workflow.inbound("end-2")] == ["others"]
                assert "Not saved" not in screen_text(app)

    asyncio.run(run())


def test_settings_save_and_a_refusal_keeps_the_editor_open(demo):
    async def run():
        from textual.widgets import TextArea

        from console.dialogs.activity_settings import ActivitySettingsDialog

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                campaign_id = await open_workflow(pilot)
                canvas(app).select("two-days")
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivitySettingsDialog), "the settings")
                editor = app.screen.query_one(TextArea)
                editor.text = editor.text.replace('"2d"', '"3d"')
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda: not isinstance(app.screen, ActivitySettingsDialog), "the save")
                assert (await draft_workflow(app, campaign_id)).activity("two-days").duration == "3d"

                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, ActivitySettingsDialog), "the settings")
                editor = app.screen.query_one(TextArea)
                editor.text = editor.text.replace('"3d"', '"soon"')
                await pilot.press("ctrl+s")
                await wait_for(pilot, lambda: "Not saved" in screen_text(app), "the refusal")
                assert isinstance(app.screen, ActivitySettingsDialog)
                assert "two-days" in screen_text(app) and "duration" in screen_text(app)
                assert (await draft_workflow(app, campaign_id)).activity("two-days").duration == "3d"

    asyncio.run(run())


def test_counts_show_on_the_canvas(demo):
    """Counts built by hand (as a test or a run answers them) drawn on the screen's canvas."""
    async def run():
        from datetime import datetime, timezone

        from store.models.workflow import TransitionCount, WorkflowCounts

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                await open_workflow(pilot)
                counts = WorkflowCounts(campaign_id="x", version=app.screen.campaign.current.number, test=True,
                                        computed_at=datetime.now(timezone.utc), activities=[], transitions=[
                                            TransitionCount(source="by-tier", to="welcome-gold", name="gold",
                                                            count=1204)])
                app.screen._show_counts(counts, "Test")
                await pilot.pause()
                assert "─ gold 1,204 ─" in screen_text(app)

    asyncio.run(run())


def test_workflow_snapshot(snap_compare, demo):
    with console(demo, clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 40), run_before=open_workflow)


def test_workflow_snapshot_at_80_columns_scrolled(snap_compare, demo):
    async def scrolled(pilot):
        await open_workflow(pilot)
        await pilot.press("right", "right", "down", "right", "right", "right")  # …two-days, tips, done
        await pilot.pause()

    with console(demo, clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(80, 24), run_before=scrolled)


def test_palette_names_the_workflow_commands(demo):
    async def run():
        from console.commands import available_actions

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                await open_workflow(pilot)
                names = {a.name for a in available_actions(app, app.screen)}
                assert {"Add activity", "Connect activities", "Test workflow", "Show transition counts"} <= names

    asyncio.run(run())


def test_a_viewer_sees_the_workflow_read_only(demo):
    async def run():
        from console.commands import available_actions

        with console(demo, "eve", clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                await open_workflow(pilot)
                assert "read only" in screen_text(app)
                names = {a.name for a in available_actions(app, app.screen)}
                assert "Add activity" not in names and "Delete activity" not in names
                await pilot.press("a")
                await pilot.pause()
                assert app.screen.__class__.__name__ == "WorkflowScreen"

    asyncio.run(run())


def test_test_mode_puts_counts_on_the_canvas_and_previews_an_activity(demo):
    async def run():
        from console.dialogs.workflow_preview import WorkflowPreviewDialog

        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                await open_workflow(pilot)
                await pilot.press("t")
                await wait_for(pilot, lambda: app.screen.counts is not None, "the test's counts")
                await settle(pilot)
                counts = app.screen.counts
                gold = next(t for t in counts.transitions if t.name == "gold")
                assert f"─ gold {gold.count:,} ─" in screen_text(app)
                canvas(app).select("by-tier")
                await pilot.press("p")
                await wait_for(pilot, lambda: isinstance(app.screen, WorkflowPreviewDialog), "the preview")
                await pilot.pause()
                assert f"gold → welcome-gold: {gold.count:,} profiles" in screen_text(app)

    asyncio.run(run())


def test_a_live_workflow_opens_with_its_latest_runs_counts(demo):
    async def run():
        with console(demo, clock=frozen()) as (app, ws, engine):
            async with app.run_test(size=(120, 40)) as pilot:
                campaign_id = await open_workflow(pilot, "Quarterly lookbook")
                await wait_for(pilot, lambda: app.screen.counts is not None, "the run's counts")
                assert app.screen.counts.run_id == f"{campaign_id}-r1"
                assert "sent 199" in screen_text(app)

    asyncio.run(run())
