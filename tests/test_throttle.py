"""The rate limiter's wall-clock stamps and its seeding after a restart, on the injected clock."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta, timezone

from store.clock import FrozenClock
from store.engine.throttle import RateLimiter

RATE = 5


class ReadingsApart(FrozenClock):
    """Real clocks are read one after the other: here a wall-clock reading lands a few microseconds off
    the monotonic one, one time in three."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.readings = 0

    def now(self) -> datetime:
        self.readings += 1
        return super().now() + timedelta(microseconds=3 * (self.readings % 3 == 0))


def busiest_second(stamps: list[datetime]) -> int:
    t = sorted(s.timestamp() for s in stamps)
    return max(bisect.bisect_left(t, x + 1.0) - i for i, x in enumerate(t))


def test_stamps_keep_the_gaps_the_window_counted_whatever_the_wall_clock_reads():
    clock = ReadingsApart(datetime(2026, 11, 30, 9, tzinfo=timezone.utc))
    limiter = RateLimiter(RATE, clock)
    stamps = []
    for _ in range(6 * RATE):
        clock.now()  # other readings between sends (a new batch, a log line) must not move the stamps
        stamps.append(limiter.stamp(limiter.acquire()))
    assert busiest_second(stamps) == RATE


def test_a_restarted_limiter_counts_the_sends_another_process_journaled():
    start = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
    clock = FrozenClock(start)
    before = RateLimiter(RATE, clock)
    journaled = [before.stamp(before.acquire()) for _ in range(3 * RATE)]
    clock.advance(0.2)  # the restart
    after = RateLimiter(RATE, clock)
    after.seed(journaled)
    resumed = [after.stamp(after.acquire()) for _ in range(3 * RATE)]
    assert busiest_second(journaled + resumed) == RATE
    assert resumed[0] >= journaled[-RATE] + timedelta(seconds=1)  # it waited for the journaled window to pass
