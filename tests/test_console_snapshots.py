"""SVG snapshots of the main screens on a deterministic demo (frozen clock, fixed path, UTC).

Update after an intended change with: pytest tests/test_console_snapshots.py --snapshot-update
and look at the new SVGs (snapshot_report.html shows differences when a test fails).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .console_support import console, copy_workspace, frozen, seed_demo, settle, wait_for

SNAPSHOT_DIR = Path("/tmp/campaigns-snapshots")


@pytest.fixture(scope="module")
def demo():
    os.environ["TZ"] = "UTC"
    time.tzset()
    return seed_demo(copy_workspace_dir(SNAPSHOT_DIR / "template"), frozen())


def copy_workspace_dir(path: Path) -> Path:
    import shutil

    if path.exists():
        shutil.rmtree(path)
    return path


def snapshot_workspace(demo: Path) -> Path:
    return copy_workspace(demo, SNAPSHOT_DIR / "demo")


def find(app, name: str) -> str:
    from console.widgets.campaign_table import CampaignTable

    rows = app.screen.query_one(CampaignTable).rows
    return next(r.id for r in rows if r.name == name)


def test_campaign_list(snap_compare, demo):
    with console(snapshot_workspace(demo), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 36), run_before=settle)


def test_campaign_list_at_80_columns(snap_compare, demo):
    with console(snapshot_workspace(demo), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_activate_confirmation(snap_compare, demo):
    async def open_activate(pilot):
        from console.widgets.campaign_table import CampaignTable
        from textual.screen import ModalScreen

        await settle(pilot)
        pilot.app.screen.query_one(CampaignTable).select_id(find(pilot.app, "Win a trip contest"))
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModalScreen), "the activate dialog")
        await pilot.pause()

    with console(snapshot_workspace(demo), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 36), run_before=open_activate)


def test_help_screen(snap_compare, demo):
    async def open_help(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    with console(snapshot_workspace(demo), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 36), run_before=open_help)


def test_compare_view(snap_compare, demo):
    async def open_compare(pilot):
        from console.widgets.campaign_table import CampaignTable

        await settle(pilot)
        pilot.app.screen.query_one(CampaignTable).select_id(find(pilot.app, "Weekly newsletter"))
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    with console(snapshot_workspace(demo), clock=frozen()) as (app, ws, engine):
        assert snap_compare(app, terminal_size=(120, 36), run_before=open_compare)
