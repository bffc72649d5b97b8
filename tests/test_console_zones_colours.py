"""Screens that read right: the list's times say the operator's zone, and Failed has a colour of its own."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from console.display import zoned
from console.widgets.campaign_table import CampaignTable
from store.models import Status

from .console_support import console, copy_workspace, frozen, seed_demo, settle

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def in_paris(monkeypatch):
    """The operator's terminal is in Paris (TZ, as the console reads the local zone)."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("zones") / "demo", frozen())


def test_a_column_of_local_times_is_titled_with_the_zone(in_paris):
    assert zoned("Next run") == f"Next run ({datetime.now(PARIS).strftime('%Z')})"
    assert zoned("Next run") in ("Next run (CET)", "Next run (CEST)")


def line(table: CampaignTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


async def test_the_lists_next_run_is_local_time_under_a_title_naming_the_zone(demo, tmp_path, in_paris):
    with console(copy_workspace(demo, tmp_path / "ws"), clock=frozen()) as (app, ws, engine):
        engine.tick()  # the scheduler's timetable: the Scheduled campaigns' next runs
        async with app.run_test(size=(160, 36)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(CampaignTable)
            zone = datetime.now(PARIS).strftime("%Z")
            header = line(table, 0)
            assert f"Next run ({zone})" in header and f"Updated ({zone})" in header
            index, row = next((i, r) for i, r in enumerate(table.rows) if r.next_run is not None)
            local = row.next_run.astimezone(PARIS)
            shown = local.strftime("%H:%M") if local.date() == app.now().astimezone(PARIS).date() \
                else local.strftime("%d %b %H:%M")
            assert shown in line(table, index + 1)
            assert row.next_run.strftime("%H:%M") != local.strftime("%H:%M")  # Paris, not UTC


async def test_failed_has_its_own_colour_not_in_reviews(demo, tmp_path):
    with console(copy_workspace(demo, tmp_path / "ws"), clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(160, 36)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(CampaignTable)

            def status_colour(status: Status):
                index = next(i for i, r in enumerate(table.rows) if r.status is status and not r.has_draft)
                cell = next(s for s in table.render_line(index + 1) if s.text.startswith(status.value))
                return cell.style.color

            failed, in_review, live = (status_colour(s) for s in (Status.failed, Status.in_review, Status.live))
            assert len({failed, in_review, live}) == 3
            assert failed == table.get_component_rich_style("table--failed").color
