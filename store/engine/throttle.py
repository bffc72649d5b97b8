"""Rate control: never more than N sends in any one-second window (a sliding log, ENGINE-NOTES 3).

A token bucket lets a full bucket burst on top of the steady rate (39 sends in one second for
N = 20, measured); keeping the last N send times and admitting only when the oldest is a full
second old cannot exceed N in any window, whatever the timing.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from ..clock import Clock

RESUME_MARGIN = 0.001  # seconds

class RateLimiter:
    def __init__(self, per_second: int, clock: Clock, window: float = 1.0) -> None:
        if not 1 <= per_second <= 2000:
            raise ValueError(f"a rate must be between 1 and 2000 messages per second, not {per_second}")
        self.per_second, self.clock, self.window = per_second, clock, window
        self._sent: deque[float] = deque(maxlen=per_second)
        self._wall, self._mono = clock.now(), clock.monotonic()

    def seed(self, sent_at: list[datetime]) -> None:
        """After a restart: the sends another process journaled still count against the window, each as a
        millisecond later than journaled (insurance against rounding on their way through microsecond text)."""
        instants = sorted(self._mono + (t - self._wall).total_seconds() + RESUME_MARGIN for t in sent_at)
        self._sent.extend(instants[-self.per_second:])

    def stamp(self, instant: float) -> datetime:
        """The wall-clock time of an instant ``acquire`` returned. One mapping for the limiter's whole life:
        mapping each batch anew (a clock reading apart) let two sends a second apart in the window show
        a microsecond less than a second apart."""
        return self._wall + timedelta(seconds=instant - self._mono)

    def wait_time(self) -> float:
        """Seconds until one more send is allowed (0 when allowed now)."""
        if len(self._sent) < self.per_second:
            return 0.0
        return max(0.0, self._sent[0] + self.window - self.clock.monotonic())

    def acquire(self) -> float:
        """Block (on the clock) until a send is allowed, then record it, just before the send.

        Returns the instant recorded, so the caller stamps the send with the very time the window
        counted (a second clock reading, a thread switch later, could put 101 sends in a window).
        """
        delay = self.wait_time()
        while delay > 0:
            self.clock.sleep(delay)
            delay = self.wait_time()
        instant = self.clock.monotonic()
        self._sent.append(instant)
        return instant
