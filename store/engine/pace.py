"""A run's recent pace: profiles handled a second over the last few seconds, and the time left at it.

Sampled once per batch (never per message), so it costs nothing at a million profiles; kept beside the
run's counters in the ledger so whoever reads the run (another process, the API) sees it.
"""

from __future__ import annotations

from collections import deque

from ..clock import Clock

WINDOW = 5.0  # seconds: long enough to smooth a batch's burst, short enough to follow a change of pace


class Pace:
    def __init__(self, clock: Clock, handled: int) -> None:
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock.monotonic(), handled)])

    def rate(self, handled: int) -> float | None:
        """Profiles a second between the oldest sample of the window and now (None before time has passed)."""
        now = self.clock.monotonic()
        self._samples.append((now, handled))
        while len(self._samples) > 2 and now - self._samples[1][0] >= WINDOW:
            self._samples.popleft()
        then, before = self._samples[0]
        return (handled - before) / (now - then) if now > then else None


def time_left(targeted: int, handled: int, rate: float | None) -> float | None:
    """Seconds until the profiles not yet handled are, at ``rate``; None without a rate to go by."""
    if not rate:
        return None
    return max(0, targeted - handled) / rate
