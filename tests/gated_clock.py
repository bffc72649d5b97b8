"""A frozen clock whose sleeps wait for the test to grant time: a throttled run pauses between seconds, so
a test can read it in the middle, as an operator watching it would."""

from __future__ import annotations

import threading
from datetime import datetime

from store.clock import FrozenClock

DEADLINE = 60.0  # seconds a sleep waits for time before the test is declared stuck


class GatedClock(FrozenClock):
    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._granted, self._free = 0.0, False
        self._change = threading.Condition()

    def grant(self, seconds: float) -> None:
        """Let ``seconds`` of sleeping happen (the sleeper advances the clock)."""
        with self._change:
            self._granted += seconds
            self._change.notify_all()

    def release(self) -> None:
        """From now on sleeps pass at once, like a plain FrozenClock's: the run finishes."""
        with self._change:
            self._free = True
            self._change.notify_all()

    def sleep(self, seconds: float) -> None:
        with self._change:
            if not self._change.wait_for(lambda: self._free or self._granted >= seconds - 1e-9, timeout=DEADLINE):
                raise TimeoutError(f"no time granted for a {seconds:.3f} s sleep")
            if not self._free:
                self._granted -= seconds
        super().sleep(seconds)
