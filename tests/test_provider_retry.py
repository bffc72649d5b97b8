"""send_with_retry on a FrozenClock: exact backoff, bounded attempts, Retry-After, Stop, same key.

The scripted provider stands in for a gateway; the last tests run the real webhook and SMTP
providers against loopback servers so the retried requests can be inspected on the wire.
"""

from __future__ import annotations

import random

import pytest

from store.engine.message import OutboundMessage, Outcome, SendResult
from store.engine.providers.retry import backoff_delay, send_with_retry
from store.engine.providers.smtp import SmtpProvider
from store.engine.providers.webhook import WebhookProvider
from store.models import Channel, ChannelConfiguration, SmtpSettings, WebhookSettings
from tests.servers import HttpServer, SmtpServer

SENT = SendResult(Outcome.sent, "250 ok")
BUSY = SendResult(Outcome.transient, "451 busy")


class Scripted:
    """Answers from a list (the last answer repeats) and records each attempt with the clock's time.

    An answer may be a number: the attempt then hangs that long on the clock and times out.
    """

    gateway = "scripted gateway"

    def __init__(self, clock, *answers: SendResult | float, timeout_seconds: float = 60.0) -> None:
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.answers = list(answers)
        self.calls: list[tuple[float, str]] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.calls.append((self.clock.monotonic(), message.message_key))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, SendResult):
            return answer
        self.clock.sleep(answer)
        return SendResult(Outcome.transient, f"no answer within {answer:g} s", gateway_fault="timed out")

    def close(self) -> None:
        pass


def outbound(channel: Channel = Channel.sms, to: str = "+33612345678") -> OutboundMessage:
    return OutboundMessage(message_key="run-3.p42", campaign_id="c1", run_id="run-3", profile_id="p42",
                           channel=channel, to=to, content={"text": "hi", "subject": "Hi", "body": "<p>hi</p>"})


def test_transient_twice_then_sent_after_the_exact_backoff(clock):
    provider = Scripted(clock, BUSY, BUSY, SENT)

    result = send_with_retry(provider, outbound(), clock=clock)

    assert result is SENT
    assert [t for t, _ in provider.calls] == [0.0, 0.5, 1.5]  # waits 0.5 then 1.0
    assert clock.monotonic() == 1.5
    assert {key for _, key in provider.calls} == {"run-3.p42"}


def test_permanent_is_returned_after_one_attempt(clock):
    refused = SendResult(Outcome.permanent, "550 user unknown")
    provider = Scripted(clock, refused)

    assert send_with_retry(provider, outbound(), clock=clock) is refused
    assert len(provider.calls) == 1
    assert clock.monotonic() == 0


def test_always_transient_gives_up_as_permanent(clock):
    provider = Scripted(clock, BUSY)

    result = send_with_retry(provider, outbound(), clock=clock, attempts=4)

    assert result == SendResult(Outcome.permanent, "gave up after 4 attempts: 451 busy")
    assert len(provider.calls) == 4
    assert clock.monotonic() == 0.5 + 1 + 2  # no wait after the last attempt


def test_delays_are_capped_by_max_delay(clock):
    provider = Scripted(clock, BUSY)

    send_with_retry(provider, outbound(), clock=clock, attempts=4, base_delay=10, max_delay=15)

    assert [t for t, _ in provider.calls] == [0, 10, 25, 40]


def test_retry_after_hint_is_honoured_and_capped(clock):
    provider = Scripted(clock, SendResult(Outcome.transient, "429", retry_after=5),
                       SendResult(Outcome.transient, "429", retry_after=600), SENT)

    assert send_with_retry(provider, outbound(), clock=clock, max_delay=30).outcome is Outcome.sent
    assert [t for t, _ in provider.calls] == [0, 5, 35]


def test_should_stop_interrupts_a_backoff(clock):
    provider = Scripted(clock, BUSY)

    result = send_with_retry(provider, outbound(), clock=clock, base_delay=10,
                             should_stop=lambda: clock.monotonic() >= 1)

    assert result == SendResult(Outcome.transient, "stopped after 1 attempt: 451 busy")
    assert len(provider.calls) == 1
    assert clock.monotonic() == 1  # noticed within a quarter second, not after the whole 10 s


def test_should_stop_before_any_backoff_returns_at_once(clock):
    provider = Scripted(clock, BUSY)

    result = send_with_retry(provider, outbound(), clock=clock, should_stop=lambda: True)

    assert result.outcome is Outcome.transient
    assert clock.monotonic() == 0


def test_slicing_for_stop_keeps_the_total_exact(clock):
    provider = Scripted(clock, BUSY, BUSY, SENT)

    send_with_retry(provider, outbound(), clock=clock, base_delay=0.7, should_stop=lambda: False)

    assert [t for t, _ in provider.calls] == pytest.approx([0, 0.7, 2.1])


def test_seeded_jitter_is_reproducible_and_bounded():
    delays = [backoff_delay(n, base_delay=1, max_delay=60, rng=random.Random(7)) for n in (1, 2, 3)]

    assert delays == [backoff_delay(n, base_delay=1, max_delay=60, rng=random.Random(7)) for n in (1, 2, 3)]
    for n, delay in zip((1, 2, 3), delays):
        assert 2 ** (n - 1) / 2 <= delay <= 2 ** (n - 1)


def test_attempts_must_be_positive(clock):
    with pytest.raises(ValueError):
        send_with_retry(Scripted(clock, SENT), outbound(), clock=clock, attempts=0)


# -- on the wire ---------------------------------------------------------------------------------

def test_webhook_retries_carry_the_same_idempotency_key(clock):
    with HttpServer() as server:
        server.answer_next(1, 503)
        server.answer_next(1, 429, headers={"Retry-After": "3"})
        config = ChannelConfiguration(id="sms-gw", name="SMS", channel="sms", category="marketing",
                                      provider="webhook", sender="SHOP", webhook=WebhookSettings(url=server.url))
        provider = WebhookProvider(config, clock=clock)

        result = send_with_retry(provider, outbound(), clock=clock)
        provider.close()

    assert result.outcome is Outcome.sent
    assert [r.headers["idempotency-key"] for r in server.requests] == ["run-3.p42"] * 3
    assert clock.monotonic() == 0.5 + 3  # backoff, then the server's Retry-After


def test_smtp_retries_carry_the_same_message_id(clock):
    with SmtpServer() as server:
        server.handler.refuse_next(2, "451 4.3.0 try again later", at="DATA")
        config = ChannelConfiguration(id="email-smtp", name="SMTP", channel="email", category="marketing",
                                      provider="smtp", sender="news@shop.example",
                                      smtp=SmtpSettings(host="127.0.0.1", port=server.port))
        provider = SmtpProvider(config, clock=clock)

        result = send_with_retry(provider, outbound(Channel.email, "ada@example.com"), clock=clock)
        provider.close()

    assert result.outcome is Outcome.sent
    assert [a.message["Message-ID"] for a in server.handler.attempts] == ["<run-3.p42@campaigns>"] * 3
    assert len(server.messages) == 1
    assert server.connections == 1
    assert clock.monotonic() == 1.5


# -- the per-message budget ------------------------------------------------------------------------

def test_a_hung_gateway_costs_a_message_two_timeouts_not_four(clock):
    provider = Scripted(clock, 10.0, timeout_seconds=10)  # every attempt hangs until its 10 s timeout

    result = send_with_retry(provider, outbound(), clock=clock)

    assert [t for t, _ in provider.calls] == [0, 10.5]  # a third 10 s wait would reach 3 timeouts
    assert clock.monotonic() == 20.5
    assert result == SendResult(Outcome.permanent, "gave up after 2 attempts (a message waits under 30 s): "
                                "no answer within 10 s", gateway_fault="timed out")


def test_quick_failures_get_all_their_attempts_whatever_the_timeout(clock):
    refused = SendResult(Outcome.transient, "ConnectionRefusedError", gateway_fault="refused the connection")
    provider = Scripted(clock, refused, timeout_seconds=0.1)

    result = send_with_retry(provider, outbound(), clock=clock)

    assert [t for t, _ in provider.calls] == [0, 0.5, 1.5, 3.5]  # backoffs are not waits on the gateway
    assert result.detail == "gave up after 4 attempts: ConnectionRefusedError"
    assert result.gateway_fault == "refused the connection"


def test_slow_failures_spend_the_budget_too(clock):
    provider = Scripted(clock, 8.0, timeout_seconds=10)  # each attempt fails after 8 s

    result = send_with_retry(provider, outbound(), clock=clock)

    assert [t for t, _ in provider.calls] == [0, 8.5, 17.5]  # 24 s waited: one more timeout would reach 30
    assert result.detail.startswith("gave up after 3 attempts (a message waits under 30 s)")
