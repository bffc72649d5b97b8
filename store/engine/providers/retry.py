"""Bounded retries around one provider send.

A transient failure (connection dropped, SMTP 4xx, HTTP 429/5xx) is retried a few times with
exponential backoff, sleeping on the injected clock so tests never wait for real. Every attempt
sends the *same* message, hence the same message key: the receiver can drop duplicates when an
attempt that looked failed had in fact arrived. The loop is bounded in attempts and in delay so a
dead gateway cannot hold a run forever, and ``should_stop`` lets a Stop cut a backoff short.
"""

from __future__ import annotations

import random
from typing import Callable

from ...clock import Clock
from ..message import Outcome, OutboundMessage, Provider, SendResult

_SLICE = 0.25  # how often a backoff looks at should_stop; a power of two keeps clock sums exact


def backoff_delay(attempt: int, *, base_delay: float, max_delay: float, hint: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Wait after failed attempt number ``attempt`` (1-based): base·2^(n-1), at least the hint, capped.

    With ``rng`` the exponential part gets "equal jitter" (half fixed, half random) so many
    senders retrying together spread out; a seeded Random keeps it reproducible.
    """
    delay = base_delay * 2 ** (attempt - 1)
    if rng is not None:
        delay = delay / 2 + rng.uniform(0, delay / 2)
    if hint is not None:
        delay = max(delay, hint)
    return max(0.0, min(delay, max_delay))


def send_with_retry(provider: Provider, message: OutboundMessage, *, clock: Clock, attempts: int = 4,
                    base_delay: float = 0.5, max_delay: float = 30.0,
                    should_stop: Callable[[], bool] | None = None,
                    rng: random.Random | None = None) -> SendResult:
    """Send, retrying transient results; permanent results and successes return at once.

    After ``attempts`` transient results the last one comes back as permanent ("gave up after N
    attempts: ..."). If ``should_stop`` turns true before or during a backoff, the last transient
    result is returned, still transient ("stopped after N attempts: ..."): the message was not
    delivered and the caller decides whether it stays pending.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 0
    while True:
        attempt += 1
        result = provider.send(message)
        if result.outcome is not Outcome.transient:
            return result
        if attempt >= attempts:
            return SendResult(Outcome.permanent, f"gave up after {attempts} attempts: {result.detail}")
        delay = backoff_delay(attempt, base_delay=base_delay, max_delay=max_delay,
                              hint=result.retry_after, rng=rng)
        if not _sleep(clock, delay, should_stop):
            return SendResult(Outcome.transient, f"stopped after {attempt} attempts: {result.detail}")


def _sleep(clock: Clock, seconds: float, should_stop: Callable[[], bool] | None) -> bool:
    """Sleep in short slices so a Stop is noticed within ``_SLICE``; False when stopped."""
    if should_stop is None:
        clock.sleep(seconds)
        return True
    remaining = seconds
    while True:
        if should_stop():
            return False
        if remaining <= 0:
            return True
        step = min(_SLICE, remaining)
        clock.sleep(step)
        remaining -= step
