"""Rate control: never more than N sends in any one-second window (a sliding log, ENGINE-NOTES 3).

A token bucket lets a full bucket burst on top of the steady rate (39 sends in one second for
N = 20, measured); keeping the last N send times and admitting only when the oldest is a full
second old cannot exceed N in any window, whatever the timing.
"""

from __future__ import annotations

from collections import deque

from ..clock import Clock


class RateLimiter:
    def __init__(self, per_second: int, clock: Clock, window: float = 1.0) -> None:
        if not 1 <= per_second <= 2000:
            raise ValueError(f"a rate must be between 1 and 2000 messages per second, not {per_second}")
        self.per_second, self.clock, self.window = per_second, clock, window
        self._sent: deque[float] = deque(maxlen=per_second)

    def seed(self, send_times: list[float]) -> None:
        """After a restart: the last sends (monotonic seconds) still count against the window."""
        self._sent.extend(sorted(send_times)[-self.per_second:])

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
