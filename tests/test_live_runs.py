"""A run in flight is visible: its counters grow batch by batch in the runs and in the active-runs answer,
with the recent rate and the time left; the activation preview says how long a throttled run takes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

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
