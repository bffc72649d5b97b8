"""The circuit breaker around bounded retries, against real gateways that hang, refuse and come back.

The clock is a FrozenClock: backoffs and the cooldown pass on it, while each attempt against a real
server takes its real (short) time. Connections are counted on the server side, so "fails fast" means
"never touched the network".
"""

from __future__ import annotations

import socket

import pytest

from store.engine.message import OutboundMessage, Outcome
from store.engine.providers.breaker import COOLDOWN_SECONDS, FAILURES_TO_OPEN, CircuitBreaker, deliver
from store.engine.providers.retry import MESSAGE_BUDGET
from store.engine.providers.smtp import SmtpProvider
from store.engine.providers.webhook import WebhookProvider
from store.models import Channel, ChannelConfiguration, SmtpSettings, WebhookSettings
from tests.servers import HttpServer, SilentServer, SmtpServer

CLOSING = "421 4.3.2 service shutting down"


def smtp_config(port: int, timeout: float = 10.0) -> ChannelConfiguration:
    return ChannelConfiguration(id="email-smtp", name="SMTP", channel="email", category="marketing", provider="smtp",
                                sender="news@shop.example",
                                smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=timeout))


def email(n: int) -> OutboundMessage:
    return OutboundMessage(message_key=f"run-1.p{n}", campaign_id="spring-sale", run_id="run-1", profile_id=f"p{n}",
                           channel=Channel.email, to=f"p{n}@example.com", content={"subject": "Hi", "body": "<p>hi</p>"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def opened():
    """Providers opened by a test, closed after it."""
    providers = []
    yield providers.append
    for provider in providers:
        provider.close()


def smtp_with_breaker(port: int, clock, opened, timeout: float = 10.0) -> tuple[SmtpProvider, CircuitBreaker]:
    provider = SmtpProvider(smtp_config(port, timeout), clock=clock)
    opened(provider)
    return provider, CircuitBreaker(provider.gateway, clock)


def test_a_hung_smtp_server_costs_each_message_its_bound_then_fails_fast(clock, opened):
    with SilentServer() as silent:
        provider, breaker = smtp_with_breaker(silent.port, clock, opened, timeout=0.5)
        for n in range(1, FAILURES_TO_OPEN + 1):
            before = silent.connections_so_far()
            result = deliver(provider, breaker, email(n), clock=clock)
            attempts = silent.connections_so_far() - before
            assert result.outcome is Outcome.unavailable
            assert result.detail.startswith("provider unavailable: gave up after")
            assert result.detail.endswith(f"no answer within 0.5 s (smtp 127.0.0.1:{silent.port})")
            assert 1 <= attempts < MESSAGE_BUDGET  # each attempt waited its 0.5 s: never 3 of them, let alone 4

        hung_for = clock.monotonic()
        connections = silent.connections_so_far()
        fast = [deliver(provider, breaker, email(n), clock=clock) for n in range(10, 20)]

        assert {r.outcome for r in fast} == {Outcome.unavailable}
        assert fast[0].detail == (f"provider unavailable: smtp 127.0.0.1:{silent.port} timed out 3 times in a row; "
                                  "trying it again in 30 s")
        assert silent.connections_so_far() == connections  # not one connection more
        assert clock.monotonic() == hung_for  # and no backoff either


def test_a_refusing_port_opens_the_breaker_and_a_still_dead_gateway_reopens_it(clock, opened):
    port = free_port()  # nothing listens there: every connect is refused at once
    provider, breaker = smtp_with_breaker(port, clock, opened, timeout=0.5)

    first = [deliver(provider, breaker, email(n), clock=clock) for n in range(1, FAILURES_TO_OPEN + 1)]
    assert {r.outcome for r in first} == {Outcome.unavailable}
    assert first[0].detail.startswith("provider unavailable: gave up after 4 attempts: ConnectionRefusedError")

    with SilentServer(port) as silent:  # the port now answers (by hanging): fail-fast must not find out
        opened_at = clock.monotonic()
        clock.advance(10)
        fast = deliver(provider, breaker, email(10), clock=clock)
        assert fast.outcome is Outcome.unavailable
        assert fast.detail == (f"provider unavailable: smtp 127.0.0.1:{port} refused the connection 3 times in a "
                               "row; trying it again in 20 s")
        assert silent.connections_so_far() == 0

        clock.advance(opened_at + COOLDOWN_SECONDS - clock.monotonic())
        probe = deliver(provider, breaker, email(11), clock=clock)  # half-open: one attempt goes through
        assert probe.outcome is Outcome.unavailable
        assert probe.detail.startswith("provider unavailable: gave up after 1 attempt: no answer within 0.5 s")
        assert silent.connections_so_far() == 1

        again = deliver(provider, breaker, email(12), clock=clock)  # it failed: a new cooldown
        assert again.detail == (f"provider unavailable: smtp 127.0.0.1:{port} timed out 4 times in a row; "
                                "trying it again in 30 s")
        assert silent.connections_so_far() == 1


def test_half_open_probe_closes_the_breaker_when_the_server_is_back(clock, opened):
    with SmtpServer() as server:
        server.handler.refuse_next(FAILURES_TO_OPEN * 4, CLOSING, at="MAIL")  # 421 to every attempt, then back
        provider, breaker = smtp_with_breaker(server.port, clock, opened)
        for n in range(1, FAILURES_TO_OPEN + 1):
            assert deliver(provider, breaker, email(n), clock=clock).outcome is Outcome.unavailable
        down = server.connections
        fast = deliver(provider, breaker, email(10), clock=clock)
        assert fast.detail.startswith(f"provider unavailable: smtp 127.0.0.1:{server.port} answered 421 3 times")
        assert server.connections == down

        clock.advance(COOLDOWN_SECONDS)
        probe = deliver(provider, breaker, email(11), clock=clock)
        after = [deliver(provider, breaker, email(n), clock=clock) for n in range(12, 15)]

    assert probe.outcome is Outcome.sent
    assert [r.outcome for r in after] == [Outcome.sent] * 3
    assert [m.message["Message-ID"] for m in server.messages] == [f"<run-1.p{n}@campaigns>" for n in (11, 12, 13, 14)]
    assert server.connections == down + 1  # the probe's session is reused: the breaker is closed


def test_refused_addresses_never_open_it_and_an_answer_resets_the_count(clock, opened):
    with SmtpServer() as server:
        provider, breaker = smtp_with_breaker(server.port, clock, opened)
        server.handler.refuse_next(5, "550 5.1.1 user unknown", at="RCPT")
        refused = [deliver(provider, breaker, email(n), clock=clock) for n in range(1, 6)]

        server.handler.refuse_next(2 * 4, CLOSING, at="RCPT")  # one per attempt, on a reused session too
        down = [deliver(provider, breaker, email(n), clock=clock) for n in (6, 7)]
        server.handler.refuse_next(1, "550 5.1.1 user unknown", at="RCPT")
        bounced = deliver(provider, breaker, email(8), clock=clock)  # the gateway answered: it is up
        server.handler.refuse_next(2 * 4, CLOSING, at="RCPT")
        down += [deliver(provider, breaker, email(n), clock=clock) for n in (9, 10)]
        last = deliver(provider, breaker, email(11), clock=clock)

    assert {r.outcome for r in refused} == {Outcome.permanent}
    assert bounced.outcome is Outcome.permanent
    assert [r.outcome for r in down] == [Outcome.unavailable] * 4
    assert all("gave up after 4 attempts" in r.detail for r in down)  # each tried: none failed fast
    assert last.outcome is Outcome.sent
    assert not breaker.tripped


def test_a_webhook_answering_503_opens_it_too(clock, opened):
    with HttpServer() as server:
        server.answer_next(3 * 4, 503, body="maintenance")
        config = ChannelConfiguration(id="sms-gw", name="SMS", channel="sms", category="marketing",
                                      provider="webhook", sender="SHOP", webhook=WebhookSettings(url=server.url))
        provider = WebhookProvider(config, clock=clock)
        opened(provider)
        breaker = CircuitBreaker(provider.gateway, clock)
        message = OutboundMessage(message_key="run-2.p1", campaign_id="c", run_id="run-2", profile_id="p1",
                                  channel=Channel.sms, to="+33612345678", content={"text": "hi"})

        results = [deliver(provider, breaker, message, clock=clock) for _ in range(4)]

    assert [r.outcome for r in results] == [Outcome.unavailable] * 4
    assert len(server.requests) == 3 * 4
    host = server.url.removeprefix("http://")
    assert results[3].detail == f"provider unavailable: webhook {host} answered 503 3 times in a row; trying it again in 30 s"


def test_a_stop_during_the_retries_is_neither_counted_nor_failed(clock, opened):
    port = free_port()
    provider, breaker = smtp_with_breaker(port, clock, opened)

    results = [deliver(provider, breaker, email(n), clock=clock, should_stop=lambda: True) for n in range(5)]

    assert {r.outcome for r in results} == {Outcome.transient}  # the runner keeps them pending
    assert not breaker.tripped
