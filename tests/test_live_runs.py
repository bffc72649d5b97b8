"""A run in flight is visible: its counters grow batch by batch in the runs and in the active-runs answer,
with the recent rate and the time left; the activation preview says how long a throttled run takes."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from store.models import RunStatus

from .engine_setup import email_campaign
from .gated_clock import GatedClock

RATE = 10
PROFILES = 100
DEADLINE = 60.0


@pytest.fixture
def clock():
    return GatedClock(datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc))


def many_profiles(count: int = PROFILES) -> str:
    return "".join(f'{{"id": "m{i:04}", "identities": {{"email": "m{i}@example.com"}}, "consent": {{"email": true}}, "attributes": {{"person": {{"name": {{"firstName": "M"}}}}}}}}\n'
                   for i in range(count))


async def eventually(probe, what: str):
    """``probe()``'s first truthy answer, polled until a generous deadline."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        answer = await probe()
        if answer:
            return answer
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def ended(root, campaign_id: str):
    runs = await root.runs(campaign_id)
    return runs if runs and runs[-1].status.value not in ("pending", "running") else None


async def start_throttled_run(root, engine, clock):
    await root.import_profiles_chunk("jsonl", many_profiles(), 1)
    campaign = await root.create_campaign(email_campaign(rate=RATE))
    engine.start()  # hosted, as by a console or `campaigns engine`: the run is sent by the engine's threads
    await root.activate(campaign.id)
    return campaign


async def test_a_throttled_run_shows_growing_counters_rate_and_time_left_before_it_completes(root, engine, clock):
    campaign = await start_throttled_run(root, engine, clock)
    seen: list[int] = []
    try:
        for _ in range(3):
            clock.grant(1.0)

            async def grew():
                active = [a for a in await root.active_runs() if a.campaign_id == campaign.id]
                c = active[0].counters if active else None
                return active[0] if c and c.sent + c.failed + c.excluded_total > (seen[-1] if seen else 0) else None

            live = await eventually(grew, "the run's counters to grow")
            c = live.counters
            seen.append(c.sent + c.failed + c.excluded_total)
            assert live.status is RunStatus.running and c.targeted == PROFILES + 8
            [run] = await root.runs(campaign.id)
            assert run.status is RunStatus.running and run.counters.sent >= c.sent  # the runs say the same
        assert seen == sorted(set(seen)) and seen[-1] < PROFILES  # grew at every step, far from done
        assert live.rate and RATE <= live.rate <= 2 * RATE  # exclusions go by unthrottled
        assert live.eta_seconds == pytest.approx((PROFILES + 8 - seen[-1]) / live.rate)
    finally:
        clock.release()
    [run] = await eventually(lambda: ended(root, campaign.id), "the run to end")
    assert run.status is RunStatus.completed and run.counters.sent == PROFILES + 4  # the setup excludes 4 of its 8
    assert run.rate is None and run.eta_seconds is None and await root.active_runs() == []


async def test_runs_follow_prints_a_line_a_second_with_growing_counters_until_the_run_ends(root, engine, clock, capsys):
    from console import run_commands

    campaign = await start_throttled_run(root, engine, clock)
    async def started():
        return [a for a in await root.active_runs() if a.status is RunStatus.running and a.counters.targeted]
    await eventually(started, "the run to start")
    args = argparse.Namespace(id=campaign.id, json=False, follow=True)
    following = asyncio.create_task(run_commands.runs(root, args))
    printed: list[str] = []

    async def lines(count: int):
        printed.extend(capsys.readouterr().out.splitlines())
        return len(printed) >= count

    try:
        for step in range(1, 4):
            await eventually(lambda: lines(step), f"line {step} of runs --follow")
            clock.grant(1.0)
    finally:
        clock.release()
    assert await following == 0
    printed.extend(capsys.readouterr().out.splitlines())
    handled = [int(line.split(": ")[1].split("/")[0].replace(",", "")) for line in printed[:-1]]
    assert all(" running: " in line and f"/{PROFILES + 8}" in line for line in printed[:-1])
    assert handled[0] < handled[-1] < PROFILES + 8  # growing before the run ended
    assert any("msg/s" in line and "left" in line for line in printed[:-1])
    assert printed[-1].startswith(f"{campaign.id}-r1 completed: targeted 108, sent 104")


async def test_the_activation_preview_says_the_rate_the_duration_and_who_the_time_limit_leaves_out(
        root, engine, monkeypatch):
    from rich.console import Console

    from console.dialogs.activate import activation_body
    from store.engine import runner

    await root.import_profiles_chunk("jsonl", many_profiles(), 1)
    campaign = await root.create_campaign(email_campaign(rate=RATE))
    preview = await root.activation_preview(campaign.id)
    assert (preview.rate, preview.expected_sends, preview.expected_seconds) == (RATE, 105, 10.5)
    assert preview.beyond_time_limit == 0
    monkeypatch.setattr(runner, "MAX_RUN", timedelta(seconds=6))  # 60 of the 105 sends fit
    preview = await root.activation_preview(campaign.id)
    assert preview.beyond_time_limit == 45
    screen = Console(width=200, record=True)
    screen.print(activation_body("Spring sale", preview))
    text = screen.export_text()
    assert "Rate" in text and "10 msg/s" in text and "Expected duration" in text and "10s" in text
    assert "45 profiles would be excluded (throttle_timeout)" in text
    unthrottled = await root.activation_preview((await root.create_campaign(email_campaign("Other"))).id)
    assert unthrottled.rate is None and unthrottled.expected_seconds is None and unthrottled.beyond_time_limit == 0


async def test_activates_bar_moves_during_the_run_with_rate_and_time_left(root, engine, clock, monkeypatch):
    import io

    from rich.console import Console

    from console import output, run_commands

    terminal = io.StringIO()
    monkeypatch.setattr(output, "err", Console(file=terminal, force_terminal=True, width=160))
    campaign = await start_throttled_run(root, engine, clock)
    [run] = await eventually(lambda: root.runs(campaign.id), "the run to exist")
    following = asyncio.create_task(run_commands._follow(root, campaign.id, run))

    def done_counts() -> list[int]:
        return [int(n) for n in re.findall(rf"(\d+)/{PROFILES + 8}", terminal.getvalue())]

    try:
        for _ in range(3):
            clock.grant(1.0)
            before = max(done_counts(), default=0)

            async def moved():
                return max(done_counts(), default=0) > before
            await eventually(moved, "the bar to move")
        assert "msg/s" in terminal.getvalue() and " left" in terminal.getvalue()
        assert max(done_counts()) < PROFILES  # it moved while the run was far from done
    finally:
        clock.release()
    assert (await following).status is RunStatus.completed
