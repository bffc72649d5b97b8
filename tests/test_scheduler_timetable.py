"""The scheduler keeps a timetable the catalogue's changes update, instead of reading every campaign."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from store.client import edit_from_file_document
from store.engine.engine import Engine
from store.engine.timetable import Timetable
from store.lifecycle import ENGINE
from store.models import RunStatus, Status

from .conftest import T0
from .engine_setup import email_campaign

START = T0 + timedelta(hours=2)
BARE = edit_from_file_document({"name": "Bare", "type": "action", "category": "marketing", "draft": {
    "channel": "email", "content": {"email": {"subject": "Hi", "body": "Hello"}}}})
SCHEDULE = {"time_zone": "UTC", "start": START.replace(tzinfo=None).isoformat(timespec="minutes")}


class Reads:
    """Counts the times the engine reads every campaign's row (the walk an idle scheduler must not do)."""

    def __init__(self, catalogue) -> None:
        self.count, self._rows = 0, catalogue.campaign_rows
        catalogue.campaign_rows = self

    def __call__(self):
        self.count += 1
        return self._rows()


async def test_a_campaign_activated_for_later_waits_in_the_timetable_and_fires_at_its_time(root, engine, clock, workspace):
    engine.run_until_idle()  # start-up: the catalogue is read once
    reads = Reads(workspace.catalogue)
    c = await root.create_campaign(email_campaign(schedule=SCHEDULE))
    assert (await root.activate(c.id)).status is Status.scheduled
    engine.run_until_idle()
    assert engine.next_fire(c.id) == START  # the change reached the timetable
    clock.advance(START - T0 - timedelta(seconds=1))
    engine.run_until_idle()
    assert await root.runs(c.id) == []
    clock.advance(1)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.status is RunStatus.completed and run.counters.sent == 4
    assert (await root.campaign(c.id)).status is Status.live
    assert reads.count == 0  # nothing but the changes and the timetable was looked at


async def test_a_stopped_campaign_leaves_the_timetable_and_never_fires(root, engine, clock):
    c = await root.create_campaign(email_campaign(schedule=SCHEDULE))
    await root.activate(c.id)
    engine.run_until_idle()
    assert engine.next_fire(c.id) == START
    await root.stop(c.id)
    engine.run_until_idle()
    assert engine.next_fire(c.id) is None
    clock.advance(timedelta(days=1))
    engine.run_until_idle()
    assert await root.runs(c.id) == []


async def test_a_change_made_beside_the_api_reaches_the_timetable(root, engine, workspace):
    """The lifecycle called in-process (as the CLI's embedded engine and the engine itself do)."""
    c = await root.create_campaign(email_campaign(schedule=SCHEDULE))
    engine.run_until_idle()
    workspace.lifecycle.activate_campaign(ENGINE, c.id, None)  # left Activating, as a crash would leave it
    engine.run_until_idle()
    assert (await root.campaign(c.id)).status is Status.scheduled
    assert engine.next_fire(c.id) == START


async def test_an_engine_started_on_a_workspace_schedules_what_it_finds(root, engine, workspace, clock):
    """Campaigns Scheduled before the engine started, and one a crash left Activating."""
    waiting = await root.create_campaign(email_campaign(schedule=SCHEDULE))
    await root.activate(waiting.id)
    crashed = await root.create_campaign(email_campaign("Crashed", schedule=SCHEDULE))
    workspace.lifecycle.activate_campaign(ENGINE, crashed.id, None)
    fresh = Engine(workspace)
    try:
        fresh.run_until_idle()
        assert fresh.next_fire(waiting.id) == START and fresh.next_fire(crashed.id) == START
        assert (await root.campaign(crashed.id)).status is Status.scheduled
    finally:
        fresh.shutdown()


async def test_an_idle_engine_does_not_read_the_catalogue(root, engine, clock, workspace):
    for n in range(3):
        c = await root.create_campaign(email_campaign(f"Later {n}", schedule=SCHEDULE))
        await root.activate(c.id)
    engine.run_until_idle()
    reads = Reads(workspace.catalogue)
    for _ in range(20):
        clock.advance(60)
        engine.tick()
    assert reads.count == 0


def test_the_catalogue_announces_committed_changes_only_and_after_the_commit(workspace):
    heard: list[tuple[str, int]] = []  # each campaign announced, with its audit events then
    workspace.catalogue.add_listener(
        lambda campaign_id: heard.append((campaign_id, len(workspace.catalogue.audit_trail(campaign_id)))))
    c = workspace.lifecycle.create_campaign(ENGINE, BARE)
    assert heard == [(c.id, 1)]  # once, when the campaign and its audit event were both committed
    with pytest.raises(RuntimeError):
        with workspace.catalogue.atomic():
            workspace.lifecycle.create_campaign(ENGINE, BARE)
            raise RuntimeError("the caller gives up")
    assert heard == [(c.id, 1)]


def test_the_timetable_gives_the_earliest_entry_and_forgets_replaced_ones():
    at = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    table = Timetable()
    table.set("cmp-1", at + timedelta(hours=3))
    table.set("cmp-2", at + timedelta(hours=1))
    table.set("cmp-2", at + timedelta(hours=5))  # changed: its first entry is forgotten
    table.set("cmp-3", at + timedelta(hours=2))
    table.discard("cmp-3")  # stopped
    assert table.earliest() == at + timedelta(hours=3)
    assert table.pop_due(at + timedelta(hours=4)) == ["cmp-1"]
    assert table.pop_due(at + timedelta(hours=4)) == []
    assert table.pop_due(at + timedelta(hours=6)) == ["cmp-2"]
    assert table.earliest() is None and len(table) == 0
