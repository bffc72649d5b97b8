"""The engine on a frozen clock: activation, runs, exclusions, schedules, completion, stop, rate, failures."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from store.clock import FrozenClock
from store.errors import ValidationFailed
from store.models import Channel, ExclusionReason, RunStatus, Status, User, editable_document
from store.models.outbox import OutboxMessage
from store.client import edit_from_file_document

from .engine_setup import email_campaign, reasons


async def outbox(client, campaign_id=None) -> list[OutboxMessage]:
    return (await client.outbox(campaign_id=campaign_id, limit=10_000)).messages


async def test_activation_reports_every_problem_at_once_and_changes_nothing(root, workspace):
    edit = edit_from_file_document({"name": "Broken", "type": "action", "category": "marketing", "draft": {
        "channel": "email", "content": {"email": {"subject": "Hi {{profile.x}}", "body": " "}},
        "schedule": {"start": "2020-01-01T09:00"}}})
    c = await root.create_campaign(edit)
    with pytest.raises(ValidationFailed) as e:
        await root.activate(c.id)
    assert {p["field"] for p in e.value.errors} == {
        "draft.audience", "draft.channel_configuration", "draft.content.email.body", "draft.schedule.start"}
    assert (await root.campaign(c.id)).status is Status.draft
    assert [a.action for a in await root.audit_trail(c.id)] == ["created"]


async def test_activation_refuses_content_that_fails_for_every_sampled_profile(root):
    c = await root.create_campaign(email_campaign(subject="Hi {{profile.loyalty.tier}}"))
    with pytest.raises(ValidationFailed, match="fails for all 8 sampled profiles"):
        await root.activate(c.id)


async def test_one_shot_run_sends_personalized_messages_and_excludes_with_reasons(root, engine):
    c = await root.create_campaign(email_campaign())
    assert (await root.activate(c.id)).status is Status.live
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.status is RunStatus.completed
    assert (run.counters.targeted, run.counters.sent, run.counters.failed) == (8, 4, 0)
    assert reasons(run) == {"no_address": 1, "no_consent": 1, "suppressed": 1, "rendering_error": 1}
    messages = await outbox(root, c.id)
    assert sorted(m.profile_id for m in messages) == ["p01", "p02", "p07", "p08"]
    ana = next(m for m in messages if m.profile_id == "p01")
    assert ana.to == "ana@example.com" and ana.channel is Channel.email and ana.run_id == run.id
    assert ana.campaign_id == c.id and ana.sent_at.startswith("2026-11-26")
    assert ana.content["subject"] == "Hi Ana" and ana.content["body"] == "<p>Sale for Ana</p>"


async def test_transactional_ignores_marketing_consent(root, engine):
    c = await root.create_campaign(email_campaign(category="transactional", subject="Your order"))
    await root.activate(c.id)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.counters.sent == 6 and reasons(run) == {"no_address": 1, "suppressed": 1}


async def test_scheduled_goes_live_at_start_and_completes_three_days_later(root, engine, clock):
    start = clock.now() + timedelta(days=2)
    c = await root.create_campaign(email_campaign(schedule={"time_zone": "Europe/Paris", "start": start.isoformat()}))
    assert (await root.activate(c.id)).status is Status.scheduled
    clock.advance(timedelta(days=1))
    engine.run_until_idle()
    assert (await root.campaign(c.id)).status is Status.scheduled and await root.runs(c.id) == []
    clock.advance(timedelta(days=1, seconds=1))
    engine.run_until_idle()
    assert (await root.campaign(c.id)).status is Status.live
    [run] = await root.runs(c.id)
    assert run.occurrence == start and run.counters.sent == 4
    clock.advance(timedelta(days=2, hours=23))
    engine.run_until_idle()
    assert (await root.campaign(c.id)).status is Status.live
    clock.advance(timedelta(hours=1))
    engine.run_until_idle()
    c = await root.campaign(c.id)
    assert c.status is Status.completed and "3 days" in (await root.audit_trail(c.id))[-1].detail


async def test_recurring_without_a_start_is_live_from_activation_until_stopped(root, engine, clock):
    """Scheduled means waiting for a start date; a weekly newsletter activated on Thursday is Live, not
    Scheduled, until its Monday (the demo's newsletter showed Scheduled on the days before its first run)."""
    schedule = {"time_zone": "Europe/Paris", "recurrence": {"frequency": "weekly", "weekdays": ["MO"], "at": "09:00"}}
    c = await root.create_campaign(email_campaign(schedule=schedule))
    assert (await root.activate(c.id)).status is Status.live
    engine.run_until_idle()
    assert (await root.campaign(c.id)).status is Status.live and await root.runs(c.id) == []
    clock.advance(timedelta(days=4))  # Thursday 09:00 UTC to Monday
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.occurrence.isoformat() == "2026-11-30T08:00:00+00:00"
    assert (await root.campaign(c.id)).status is Status.live


async def test_daily_recurrence_in_local_time_until_its_end(root, engine, clock):
    schedule = {"time_zone": "Europe/Paris", "start": "2026-11-27T09:00",
                "recurrence": {"frequency": "daily", "at": "09:00"}, "end": "2026-11-29T09:00"}
    c = await root.create_campaign(email_campaign(schedule=schedule))
    assert (await root.activate(c.id)).status is Status.scheduled
    for _ in range(4 * 24):
        clock.advance(timedelta(hours=1))
        engine.run_until_idle()
    runs = await root.runs(c.id)
    assert [r.occurrence.isoformat() for r in runs] == [
        "2026-11-27T08:00:00+00:00", "2026-11-28T08:00:00+00:00", "2026-11-29T08:00:00+00:00"]
    assert all(r.status is RunStatus.completed and r.counters.sent == 4 for r in runs)
    assert (await root.campaign(c.id)).status is Status.completed


async def test_after_downtime_a_missed_occurrence_runs_once_and_the_rest_are_recorded(root, engine, clock):
    schedule = {"time_zone": "Europe/Paris", "recurrence": {"frequency": "daily", "at": "09:00"}}
    c = await root.create_campaign(email_campaign(schedule=schedule))
    await root.activate(c.id)
    clock.advance(timedelta(days=1))
    engine.run_until_idle()
    assert len(await root.runs(c.id)) == 1
    clock.advance(timedelta(days=5))  # the engine was down for five days
    engine.run_until_idle()
    runs = await root.runs(c.id)
    statuses = Counter(r.status for r in runs)
    assert statuses == {RunStatus.completed: 2, RunStatus.missed: 4}
    assert all("not running" in r.error for r in runs if r.status is RunStatus.missed)
    assert len(await outbox(root, c.id)) == 8


async def test_activating_a_draft_beside_live_changes_future_runs(root, engine, clock):
    schedule = {"time_zone": "UTC", "recurrence": {"frequency": "daily", "at": "10:00"}}
    c = await root.create_campaign(email_campaign(schedule=schedule, subject="Version one"))
    await root.activate(c.id)
    clock.advance(timedelta(hours=1, minutes=1))
    engine.run_until_idle()
    doc = editable_document(await root.campaign(c.id))
    doc["draft"]["content"]["email"]["subject"] = "Version two"
    edited = await root.edit_draft(c.id, edit_from_file_document(doc))
    assert edited.status is Status.live and edited.has_draft
    assert (await root.activate(c.id)).live.number == 2
    clock.advance(timedelta(days=1))
    engine.run_until_idle()
    subjects = [(m.run_id, m.content["subject"]) for m in await outbox(root, c.id)]
    first, second = [r.id for r in await root.runs(c.id)]
    assert {s for r, s in subjects if r == first} == {"Version one"}
    assert {s for r, s in subjects if r == second} == {"Version two"}


async def test_rate_is_never_exceeded_in_any_one_second_window(root, engine, workspace):
    many = "\n".join(f'{{"id": "m{i:03}", "identities": {{"email": "m{i}@example.com"}}, '
                     f'"consent": {{"email": true}}, "attributes": {{"person": {{"name": {{"firstName": "M"}}}}}}}}'
                     for i in range(120))
    await root.import_profiles_chunk("jsonl", many + "\n", 1)
    c = await root.create_campaign(email_campaign(rate=25))
    await root.activate(c.id)
    engine.run_until_idle()
    times = sorted(datetime.fromisoformat(m.sent_at) for m in await outbox(root, c.id))
    assert len(times) == 124
    worst = max(sum(1 for t in times[i:] if t - start < timedelta(seconds=1)) for i, start in enumerate(times))
    assert worst == 25
    assert times[-1] - times[0] >= timedelta(seconds=(124 - 25) / 25)


class StoppingClock(FrozenClock):
    """Stops a campaign once the throttle has waited past a given instant, like a person pressing Stop."""

    def __init__(self, start, stop_after: timedelta):
        super().__init__(start)
        self.stop_at, self.action = start + stop_after, None

    def sleep(self, seconds):
        super().sleep(seconds)
        if self.action and self.now() >= self.stop_at:
            action, self.action = self.action, None
            action()


@pytest.fixture
def clock():
    return StoppingClock(datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc), timedelta(seconds=2))


async def test_stop_halts_a_run_in_flight_and_excludes_the_rest(root, engine, workspace, clock):
    many = "\n".join(f'{{"id": "s{i:03}", "identities": {{"email": "s{i}@example.com"}}, '
                     f'"consent": {{"email": true}}, "attributes": {{"person": {{"name": {{"firstName": "S"}}}}}}}}'
                     for i in range(100))
    await root.import_profiles_chunk("jsonl", many + "\n", 1)
    c = await root.create_campaign(email_campaign(rate=10))
    await root.activate(c.id)
    admin = workspace.catalogue.users.get("root")
    clock.action = lambda: engine.stop(admin, c.id)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    sent = len(await outbox(root, c.id))
    assert run.status is RunStatus.stopped and 20 <= sent <= 31 and run.counters.sent == sent
    excluded = reasons(run)
    assert excluded["stopped"] == run.counters.targeted - sent - sum(v for k, v in excluded.items() if k != "stopped")
    clock.advance(timedelta(days=10))
    engine.run_until_idle()
    assert len(await outbox(root, c.id)) == sent and (await root.campaign(c.id)).status is Status.stopped


async def test_a_deleted_channel_configuration_fails_the_campaign_with_the_reason(root, engine, clock):
    schedule = {"time_zone": "UTC", "recurrence": {"frequency": "daily", "at": "12:00"}}
    c = await root.create_campaign(email_campaign(schedule=schedule))
    await root.activate(c.id)
    other = await root.create_campaign(email_campaign("Other", category="transactional"))
    await root.remove_channel_configuration("email-marketing")
    await root.activate(other.id)
    clock.advance(timedelta(hours=4))
    engine.run_until_idle()
    c = await root.campaign(c.id)
    assert c.status is Status.failed and "channel configuration 'email-marketing' was deleted" in c.status_reason
    assert (await root.runs(c.id))[0].status is RunStatus.failed
    assert (await root.runs(other.id))[0].counters.sent == 5  # the engine kept serving the other campaign


async def test_an_audience_that_became_empty_fails_a_one_shot_with_the_reason(root, engine, workspace):
    c = await root.create_campaign(email_campaign(audience="vips"))
    await root.activate(c.id)
    workspace.profiles.import_jsonl_chunk('{"id": "p01", "attributes": {"vip": false}}\n{"id": "p07", "attributes": {"vip": false}}\n', 1)
    engine.run_until_idle()
    c = await root.campaign(c.id)
    assert c.status is Status.failed and "audience 'vips' is empty" in c.status_reason


async def test_report_totals_runs_and_next_runs(root, engine, clock):
    schedule = {"time_zone": "UTC", "recurrence": {"frequency": "hourly", "interval": 6}}
    c = await root.create_campaign(email_campaign(schedule=schedule))
    await root.activate(c.id)
    engine.run_until_idle()
    clock.advance(timedelta(hours=6))
    engine.run_until_idle()
    report = await root.report(c.id)
    assert report.totals.sent == 8 and report.totals.excluded[ExclusionReason.no_consent] == 2
    assert len(report.runs) == 2 and len(report.next_runs) == 5
    assert report.next_runs[0].isoformat().startswith("2026-11-26T21:00")


async def test_a_run_stops_at_its_time_limit_and_excludes_the_rest(root, engine, monkeypatch):
    from store.engine import runner

    assert runner.MAX_RUN == timedelta(hours=12)
    monkeypatch.setattr(runner, "MAX_RUN", timedelta(seconds=30))  # twelve hours of 1/s would be 43,200 sends
    many = "\n".join(f'{{"id": "t{i:03}", "identities": {{"email": "t{i}@example.com"}}, '
                     f'"consent": {{"email": true}}, "attributes": {{"person": {{"name": {{"firstName": "T"}}}}}}}}'
                     for i in range(100))
    await root.import_profiles_chunk("jsonl", many + "\n", 1)
    c = await root.create_campaign(email_campaign(rate=1))
    await root.activate(c.id)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.status is RunStatus.completed and 30 <= run.counters.sent <= 32
    excluded = reasons(run)
    assert excluded["throttle_timeout"] == run.counters.targeted - run.counters.sent - sum(
        v for k, v in excluded.items() if k != "throttle_timeout")
    assert "12-hour limit" in run.error


async def test_activation_preview_counts_what_the_run_will_exclude(root, engine):
    c = await root.create_campaign(email_campaign())
    preview = await root.activation_preview(c.id)
    assert preview.audience_size == 8 and preview.problems == []
    assert preview.expected_exclusions == {"suppressed": 1, "no_address": 1, "no_consent": 1}
    assert preview.expected_sends == 5 and preview.schedule == "once, on activation"
    await root.activate(c.id)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    # the preview cannot know templates fail for p03 (no first name): 5 expected, 4 sent + 1 rendering_error
    assert run.counters.sent + run.counters.excluded.get("rendering_error", 0) == preview.expected_sends


async def test_content_check_and_render_for_a_test_profile(root):
    errors = (await root.check_content({"email": {"subject": "Hi {{profil.x}}", "body": "ok"}})).errors
    assert errors[0]["field"] == "draft.content.email.subject" and "line 1, column 6" in errors[0]["message"]
    assert (await root.check_content({"sms": {"text": "Hi {{profile.person.name.firstName}}"}})).errors == []
    c = await root.create_campaign(email_campaign())
    rendered = await root.render(c.id, profile_id="p07")
    assert rendered.content is not None and rendered.content["subject"] == "Hi Fa"
    first = await root.render(c.id)
    assert first.profile_id == "p01" and first.content is not None and first.content["subject"] == "Hi Ana"
    assert "missing" in ((await root.render(c.id, profile_id="p03")).error or "")


def api_campaign(**draft):
    return edit_from_file_document({"name": "Password reset", "type": "api", "category": "transactional", "draft": {
        "channel": "email", "channel_configuration": "email-transactional", **draft,
        "content": {"email": {"subject": "Reset for {{profile.person.name.firstName | default: \"you\"}}",
                              "body": "<p>Code {{context.code}}</p>"}}}})


async def test_an_api_call_sends_to_the_named_profiles_with_its_context(root, engine):
    c = await root.create_campaign(api_campaign())
    assert (await root.activate(c.id)).status is Status.live
    engine.run_until_idle()
    assert await root.runs(c.id) == []  # an API campaign sends only when called
    execution = await root.trigger(c.id, profiles=["p01", "p07", "p04"], context={"code": "<741>"})
    assert execution.status.value == "accepted" and execution.created_by == "root"
    engine.run_until_idle()
    execution = await root.execution(execution.id)
    outcomes = {o.user_id: o for o in execution.outcomes}
    assert execution.status.value == "succeeded" and outcomes["p04"].reason == "no_address"
    assert {o.outcome.value for o in outcomes.values()} == {"sent", "excluded"}
    messages = {m.profile_id: m for m in await outbox(root, c.id)}
    assert messages["p01"].content == {"subject": "Reset for Ana", "preheader": "", "body": "<p>Code &lt;741&gt;</p>"}
    assert outcomes["p01"].message_id == messages["p01"].message_key
    second = await root.trigger(c.id, profiles=["p02"], context={"code": "1"})
    engine.run_until_idle()
    assert [e.id for e in await root.executions(c.id)] == [second.id, execution.id]  # newest first
    assert await root.runs(c.id) == []  # calls are executions, not runs


async def test_triggering_is_refused_for_what_is_not_a_live_api_campaign(root, engine, client_as):
    from store.errors import Forbidden, InvalidTransition

    action = await root.create_campaign(email_campaign())
    with pytest.raises(InvalidTransition, match="only API campaigns are triggered"):
        await root.trigger(action.id, profiles=["p01"])
    api = await root.create_campaign(api_campaign())
    with pytest.raises(InvalidTransition, match="activate it before triggering"):
        await root.trigger(api.id, profiles=["p01"])
    await root.activate(api.id)
    with pytest.raises(ValidationFailed, match="profiles"):
        await root.trigger(api.id, profiles=[])
    await root.add_user(User(name="vic", role="viewer"))
    with pytest.raises(Forbidden, match="may not trigger an API campaign"):
        await client_as("vic").trigger(api.id, profiles=["p01"])
