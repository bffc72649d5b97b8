"""Orchestrated campaigns executed by the engine on a frozen clock: a run walks its workflow, waits on the clock,
delivers each channel activity as a child run, journals every transition's count, and stops when told."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from store.client import edit_from_file_document
from store.clock import FrozenClock
from store.models import RunStatus, Status

from .conftest import T0
from .engine_setup import reasons

GREETING = "Hi {{profile.person.name.firstName | default: \"you\"}}"


class ActingClock(FrozenClock):
    """Does ``action`` once, the first time the throttle waits: a person pressing Stop, or hours passing."""

    action = None

    def sleep(self, seconds):
        super().sleep(seconds)
        if self.action:
            action, self.action = self.action, None
            action()


@pytest.fixture
def clock():
    return ActingClock(T0)


def mail(activity_id: str, subject: str, rate: int | None = None) -> dict:
    activity = {"id": activity_id, "kind": "email", "channel_configuration": "email-marketing",
                "content": {"subject": subject, "body": f"<p>{GREETING}</p>"}}
    if rate:
        activity["rate_control"] = {"messages_per_second": rate}
    return activity


def split_and_wait(first_rate: int | None = None, second_rate: int | None = None) -> dict:
    """VIPs (p01, p07) are mailed at once; the others two days later."""
    return {
        "activities": [
            {"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
            {"id": "vip-split", "kind": "split", "remainder": "others", "segments": [
                {"transition": "vips", "rule": {"kind": "attribute", "attr": "vip", "op": "eq", "value": True}}]},
            mail("vip-mail", "VIP " + GREETING, first_rate),
            {"id": "two-days", "kind": "wait", "duration": "2d"},
            mail("follow-up", "Later " + GREETING, second_rate),
            {"id": "done", "kind": "end"},
        ],
        "transitions": [
            {"from": "everyone", "to": "vip-split", "name": "all"},
            {"from": "vip-split", "to": "vip-mail", "name": "vips"},
            {"from": "vip-split", "to": "two-days", "name": "others"},
            {"from": "two-days", "to": "follow-up", "name": "waited"},
            {"from": "vip-mail", "to": "done", "name": "vips-mailed"},
            {"from": "follow-up", "to": "done", "name": "others-mailed"},
        ],
    }


async def orchestrated(root, workflow: dict, name: str = "Welcome series") -> str:
    edit = edit_from_file_document({"name": name, "type": "orchestrated", "category": "marketing",
                                    "draft": {"workflow": workflow}})
    campaign = await root.create_campaign(edit)
    assert (await root.activate(campaign.id)).status is Status.live
    return campaign.id


async def sent_to(root, campaign_id: str) -> list[tuple[str, str]]:
    """(run id, profile id) of every message the campaign sent."""
    messages = (await root.outbox(campaign_id=campaign_id, limit=10_000)).messages
    return [(m.run_id, m.profile_id) for m in messages]


async def test_a_workflow_splits_waits_on_the_clock_and_sends_each_branch_once(root, engine, clock):
    campaign_id = await orchestrated(root, split_and_wait())
    engine.run_until_idle()

    [run] = engine.ledger.runs(campaign_id)
    assert run.status is RunStatus.running  # waiting: no slot held, not dispatched before its time
    assert engine.ledger.wake_times() == {run.id: clock.now() + timedelta(days=2)}
    assert sorted(p for _, p in await sent_to(root, campaign_id)) == ["p01", "p07"]
    counts = engine.workflow_counts(campaign_id)
    states = {a.id: a.state.value for a in counts.activities}
    assert states == {"everyone": "done", "vip-split": "done", "vip-mail": "done", "two-days": "waiting",
                      "follow-up": "pending", "done": "pending"}
    crossed = {t.name: t.count for t in counts.transitions}
    assert crossed["all"] == 8 and crossed["vips"] + crossed["others"] == crossed["all"]
    assert (crossed["vips"], crossed["others"], crossed["waited"]) == (2, 6, None)
    assert {t.name: t.sample for t in counts.transitions}["vips"] == ["p01", "p07"]

    clock.advance(timedelta(days=1, hours=23))
    engine.run_until_idle()
    assert len(await sent_to(root, campaign_id)) == 2 and (await root.campaign(campaign_id)).status is Status.live

    clock.advance(timedelta(hours=1))
    engine.run_until_idle()
    [run] = await root.runs(campaign_id)  # the channel activities' child runs are not listed
    assert run.status is RunStatus.completed
    assert (await root.campaign(campaign_id)).status is Status.completed  # every branch ended, not 3 days later
    sent = await sent_to(root, campaign_id)
    assert Counter(sent) == Counter({(f"{run.id}.vip-mail", "p01"): 1, (f"{run.id}.vip-mail", "p07"): 1,
                                     (f"{run.id}.follow-up", "p02"): 1, (f"{run.id}.follow-up", "p03"): 1,
                                     (f"{run.id}.follow-up", "p08"): 1})
    counts = engine.workflow_counts(campaign_id)
    assert {a.id: a.state.value for a in counts.activities} == dict.fromkeys(states, "done")
    crossed = {t.name: t.count for t in counts.transitions}
    assert crossed == {"all": 8, "vips": 2, "others": 6, "waited": 6, "vips-mailed": 2, "others-mailed": 6}
    follow_up = next(a for a in counts.activities if a.id == "follow-up")
    assert follow_up.run_id == f"{run.id}.follow-up"
    assert (follow_up.counters.targeted, follow_up.counters.sent) == (6, 3)
    assert (run.counters.targeted, run.counters.sent) == (8, 5)  # the sum of its channel activities'
    assert reasons(run) == {"no_address": 1, "no_consent": 1, "suppressed": 1}


async def test_stop_during_a_wait_ends_the_run_stopped_with_its_counts(root, engine, clock, workspace):
    campaign_id = await orchestrated(root, split_and_wait())
    engine.run_until_idle()
    await root.stop(campaign_id)
    engine.run_until_idle()
    [run] = await root.runs(campaign_id)
    assert run.status is RunStatus.stopped and run.counters.sent == 2
    clock.advance(timedelta(days=3))
    engine.run_until_idle()
    assert len(await sent_to(root, campaign_id)) == 2
    assert {a.id: a.state.value for a in engine.workflow_counts(campaign_id).activities}["follow-up"] == "pending"


async def test_each_channel_activity_has_its_own_rate_and_its_own_12_hour_limit(root, engine, clock):
    campaign_id = await orchestrated(root, split_and_wait(first_rate=1, second_rate=2))
    clock.action = lambda: clock.advance(timedelta(hours=13))  # the first activity's throttle sleeps past 12 h
    engine.run_until_idle()
    clock.advance(timedelta(days=3))
    engine.run_until_idle()
    [run] = await root.runs(campaign_id)
    assert run.status is RunStatus.completed  # days long: the limit is the channel activities', not the workflow's
    first, second = engine.ledger.child_runs(run.id)
    assert first.counters.sent == 1 and reasons(first) == {"throttle_timeout": 1}
    assert "12-hour limit" in first.error
    assert second.counters.sent == 3 and reasons(second) == {"no_address": 1, "no_consent": 1, "suppressed": 1}
    messages = (await root.outbox(campaign_id=campaign_id, limit=100)).messages
    times = sorted(datetime.fromisoformat(m.sent_at) for m in messages if m.run_id == second.id)
    assert len(times) == 3 and times[2] - times[0] >= timedelta(seconds=1)  # its own 2 a second, not the first's 1


async def test_stop_mid_delivery_stops_the_activity_and_the_workflow_and_keeps_counts(root, engine, clock, workspace):
    campaign_id = await orchestrated(root, split_and_wait(second_rate=1))
    engine.run_until_idle()
    admin = workspace.catalogue.users.get("root")
    clock.action = lambda: engine.stop(admin, campaign_id)  # while the follow-up waits for its second send
    clock.advance(timedelta(days=2))
    engine.run_until_idle()
    [run] = await root.runs(campaign_id)
    first, second = engine.ledger.child_runs(run.id)
    assert run.status is RunStatus.stopped and second.status is RunStatus.stopped
    assert first.counters.sent == 2 and (second.counters.sent, reasons(second)) == (2, {"stopped": 4})
    assert (run.counters.sent, reasons(run)) == (4, {"stopped": 4})  # every count so far stays
    clock.advance(timedelta(days=3))
    engine.run_until_idle()
    assert len(await sent_to(root, campaign_id)) == 4
    assert (await root.campaign(campaign_id)).status is Status.stopped
    states = {a.id: a.state.value for a in engine.workflow_counts(campaign_id).activities}
    assert states["vip-mail"] == "done" and states["follow-up"] == "stopped" and states["done"] == "pending"


async def test_a_recurring_workflow_runs_once_per_occurrence(root, engine, clock):
    workflow = {"activities": [{"id": "vips", "kind": "read_audience", "audience": "vips"}, mail("note", GREETING)],
                "transitions": [{"from": "vips", "to": "note", "name": "vip"}]}
    edit = edit_from_file_document({"name": "Daily note", "type": "orchestrated", "category": "marketing", "draft": {
        "workflow": workflow, "schedule": {"time_zone": "UTC", "recurrence": {"frequency": "daily", "at": "10:00"}}}})
    campaign_id = (await root.create_campaign(edit)).id
    await root.activate(campaign_id)
    for _ in range(2):
        clock.advance(timedelta(days=1))
        engine.run_until_idle()
    runs = await root.runs(campaign_id)
    assert [(r.status, r.counters.sent) for r in runs] == [(RunStatus.completed, 2)] * 2
    assert (await root.campaign(campaign_id)).status is Status.live  # until stopped or its end date
    assert Counter(r for r, _ in await sent_to(root, campaign_id)) == {f"{r.id}.note": 2 for r in runs}


def test_a_journal_from_before_workflows_gains_their_columns(tmp_path):
    import sqlite3

    from store.engine.ledger import Ledger

    with sqlite3.connect(tmp_path / "engine.sqlite3") as db:
        db.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, version INTEGER NOT NULL,"
                   " trigger TEXT NOT NULL, occurrence TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL,"
                   " started_at TEXT, ended_at TEXT, error TEXT, targeted INTEGER NOT NULL DEFAULT 0,"
                   " sent INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
                   " excluded TEXT NOT NULL DEFAULT '{}', cursor TEXT NOT NULL DEFAULT '', last_id TEXT, context TEXT)")
        db.execute("INSERT INTO runs (id, campaign_id, version, trigger, status, created_at) VALUES"
                   " ('c-r1', 'c', 1, 'activation', 'running', '2026-11-26T09:00:00+00:00')")
    ledger = Ledger(tmp_path)
    try:
        [run] = ledger.runs("c")
        ledger.set_wake(run.id, T0 + timedelta(days=2))
        assert ledger.wake_times() == {"c-r1": T0 + timedelta(days=2)} and ledger.child_runs("c-r1") == []
    finally:
        ledger.close()


def test_a_workflow_runs_counters_move_with_its_activity_batch_by_batch(tmp_path):
    """The list's live counters read the workflow run: each batch a channel activity journals adds to it."""
    from store.engine.ledger import Ledger
    from store.models import RunCounters, RunTrigger

    ledger = Ledger(tmp_path)
    now = datetime(2026, 11, 30, 9, 0)
    run = ledger.create_run("cmp-1", 1, RunTrigger.activation, now=now)
    assert run is not None
    first, second = ledger.child_run(run, "mail", now=now), ledger.child_run(run, "sms", now=now)
    ledger.start_run(first.id, now=now, targeted=10, last_id="p10")
    batch = ledger.claim_batch(first.id, "", "p05", None)
    ledger.complete_batch(batch, [("p03", "excluded", "no_consent", "", "t")],
                          RunCounters(targeted=10, sent=4, excluded={"no_consent": 1}))
    ledger.start_run(second.id, now=now, targeted=3, last_id="p03")
    parent = ledger.run(run.id)
    assert (parent.counters.targeted, parent.counters.sent) == (13, 4)
    assert reasons(parent) == {"no_consent": 1}
    assert [r.id for r in ledger.runs("cmp-1")] == [run.id]  # the activities' runs are not the campaign's
    ledger.close()
