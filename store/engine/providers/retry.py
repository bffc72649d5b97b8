"""Bounded retries around one provider send.

A transient failure (connection dropped, SMTP 4xx, HTTP 429/5xx) is retried a few times with
exponential backoff, sleeping on the injected clock so tests never wait for real. Every attempt
sends the *same* message, hence the same message key: the receiver can drop duplicates when an
attempt that looked failed had in fact arrived. The loop is bounded in attempts, in delay and in
time spent waiting on the gateway (``MESSAGE_BUDGET``) so a dead gateway cannot hold a run for
long, and ``should_stop`` lets a Stop cut a backoff short.
"""

from __future__ import annotations

import random
import time
from typing import Callable

from ...clock import Clock
from ..message import Outcome, OutboundMessage, Provider, SendResult

_SLICE = 0.25  # how often a backoff looks at should_stop; a power of two keeps clock sums exact
ATTEMPTS = 4  # per message: the first and three retries, if the budget allows
MESSAGE_BUDGET = 3
"""A message waits on the gateway for less than three attempt timeouts: a retry is made only while the
waits so far and one more whole timeout stay under that, so a gateway that hangs gets two attempts (2 ×
10 s and a 0.5 s backoff by default, never the 4 × 30 s it used to cost), while quick failures (refused,
503) get all four attempts whatever the timeout. Backoffs come on top, bounded by the attempts and
``max_delay``."""


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


def send_with_retry(provider: Provider, message: OutboundMessage, *, clock: Clock, attempts: int = ATTEMPTS,
                    base_delay: float = 0.5, max_delay: float = 30.0,
                    should_stop: Callable[[], bool] | None = None,
                    rng: random.Random | None = None) -> SendResult:
    """Send, retrying transient results; permanent results and successes return at once.

    A retry is made only while the waits so far and one more ``provider.timeout_seconds`` stay under
    ``MESSAGE_BUDGET`` timeouts. When the attempts or the
    budget run out, the last transient result comes back as permanent ("gave up after N attempts:
    ..."). If ``should_stop`` turns true before or during a backoff, the last transient result is
    returned, still transient ("stopped after N attempts: ..."): the message was not delivered and
    the caller decides whether it stays pending. Both keep the last attempt's ``gateway_fault``.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    budget = MESSAGE_BUDGET * provider.timeout_seconds
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        result, took = _attempt(provider, message, clock)
        waited += took
        if result.outcome is not Outcome.transient:
            return result
        delay = backoff_delay(attempt, base_delay=base_delay, max_delay=max_delay,
                              hint=result.retry_after, rng=rng)
        if attempt >= attempts:
            return SendResult(Outcome.permanent, f"gave up after {_attempt_count(attempt)}: {result.detail}",
                              gateway_fault=result.gateway_fault)
        if waited + provider.timeout_seconds >= budget:
            return SendResult(Outcome.permanent, f"gave up after {_attempt_count(attempt)} (a message waits "
                              f"under {budget:g} s): {result.detail}", gateway_fault=result.gateway_fault)
        if not _sleep(clock, delay, should_stop):
            return SendResult(Outcome.transient, f"stopped after {_attempt_count(attempt)}: {result.detail}",
                              gateway_fault=result.gateway_fault)


def _attempt_count(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


def _attempt(provider: Provider, message: OutboundMessage, clock: Clock) -> tuple[SendResult, float]:
    """One send and the time it took: the network waits in real time even when the clock is a test's,
    and a simulated gateway waits on the clock, so the longer of the two is what it cost."""
    started, started_real = clock.monotonic(), time.monotonic()
    result = provider.send(message)
    return result, max(clock.monotonic() - started, time.monotonic() - started_real)


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
