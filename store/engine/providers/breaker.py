"""A circuit breaker per provider instance (one per sending process): a gateway that is down fails fast.

Without it every message pays its whole retry budget against a gateway that hangs or refuses, and a
run of thousands holds its slots for hours. After ``FAILURES_TO_OPEN`` messages in a row failed on a
gateway fault (``SendResult.gateway_fault``: no answer, refused, 421, 503, not a refused address) the
breaker opens: every message fails at once with ``Outcome.unavailable`` without touching the network.
After ``COOLDOWN_SECONDS`` on the injected clock it is half-open: the next message is a probe of one
attempt; it closes the breaker when the gateway answers, and reopens it for another cooldown when not.
"""

from __future__ import annotations

import math
from typing import Callable

from ...clock import Clock
from ..message import Outcome, OutboundMessage, Provider, SendResult
from .retry import ATTEMPTS, send_with_retry

FAILURES_TO_OPEN = 3
"""Three messages in a row, each after its own retries: one or two happen to healthy gateways (a restart,
a dropped connection) and the retries absorb them; three whole messages lost in a row is a gateway that
is down. With the 10 s default timeout that costs at most three message budgets (about a minute)."""

COOLDOWN_SECONDS = 30.0
"""Long enough that a gateway still down costs one probe (one attempt timeout, 10 s by default) per half
minute; short enough that a gateway back from a restart gets messages again within half a minute."""


class CircuitBreaker:
    """Counts consecutive gateway faults of one provider instance; open means "fail fast until the cooldown"."""

    def __init__(self, gateway: str, clock: Clock) -> None:
        self.gateway = gateway
        self._clock = clock
        self._failures = 0
        self._fault = ""
        self._opened_at: float | None = None

    @property
    def tripped(self) -> bool:
        """Open or half-open: the gateway has not answered since the breaker opened."""
        return self._opened_at is not None

    def refusal(self) -> SendResult | None:
        """The fail-fast answer while open; None when a message may go (closed, or half-open's probe)."""
        if self._opened_at is None:
            return None
        wait = self._opened_at + COOLDOWN_SECONDS - self._clock.monotonic()
        if wait <= 0:
            return None
        return SendResult(Outcome.unavailable, f"provider unavailable: {self.gateway} {self._fault} "
                          f"{self._failures} times in a row; trying it again in {math.ceil(wait)} s",
                          gateway_fault=self._fault)

    def record(self, result: SendResult) -> None:
        """Count a message's final result: a gateway fault counts, any answer from the gateway resets."""
        if result.gateway_fault is None:
            self._failures, self._opened_at = 0, None
            return
        self._failures += 1
        self._fault = result.gateway_fault
        if self._failures >= FAILURES_TO_OPEN:  # also a failed half-open probe: a new cooldown starts
            self._opened_at = self._clock.monotonic()


def deliver(provider: Provider, breaker: CircuitBreaker, message: OutboundMessage, *, clock: Clock,
            should_stop: Callable[[], bool] | None = None) -> SendResult:
    """Send one message through the breaker and the bounded retries: what the runner calls per message.

    ``sent`` and ``permanent`` are as from the provider; ``unavailable`` means the gateway is down (the
    breaker is open, or this message's attempts ended on a gateway fault): the delivery failed with
    ``provider_unavailable``. ``transient`` only when ``should_stop`` cut the retries short: the message
    was not delivered and, as the breaker learnt nothing from it, it is not counted.
    """
    refusal = breaker.refusal()
    if refusal is not None:
        return refusal
    result = send_with_retry(provider, message, clock=clock, should_stop=should_stop,
                             attempts=1 if breaker.tripped else ATTEMPTS)
    if result.outcome is Outcome.transient:
        return result
    breaker.record(result)
    if result.gateway_fault is None:
        return result
    return SendResult(Outcome.unavailable, f"provider unavailable: {result.detail}", gateway_fault=result.gateway_fault)
