"""WebhookProvider against a real HTTP server on loopback: payload, keep-alive, classification, timeouts."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest

from store.engine.message import OutboundMessage, Outcome
from store.engine.providers.webhook import WebhookProvider, parse_retry_after
from store.models import Channel, ChannelConfiguration, WebhookSettings
from tests.conftest import T0
from tests.servers import HttpServer


def sms_config(url: str, timeout: float = 5.0) -> ChannelConfiguration:
    return ChannelConfiguration(
        id="sms-gateway", name="SMS gateway", channel="sms", category="transactional", provider="webhook",
        sender="SHOP", webhook=WebhookSettings(url=url, headers={"Authorization": "Bearer t0k3n"},
                                               timeout_seconds=timeout))


def outbound(n: int = 1) -> OutboundMessage:
    return OutboundMessage(
        message_key=f"run-7.p{n}", campaign_id="order-shipped", run_id="run-7", profile_id=f"p{n}",
        channel=Channel.sms, to="+33612345678", content={"text": f"Your order {n} has shipped"})


@pytest.fixture
def server():
    with HttpServer() as running:
        yield running


@pytest.fixture
def provider(server, clock):
    webhook = WebhookProvider(sms_config(f"{server.url}/hooks/sms"), clock=clock)
    yield webhook
    webhook.close()


def test_posts_the_message_as_json_with_an_idempotency_key(server, provider):
    result = provider.send(outbound())

    assert result.outcome is Outcome.sent
    assert result.detail == f"200 OK (webhook {server.url.removeprefix('http://')})"
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/hooks/sms")
    assert request.headers["idempotency-key"] == "run-7.p1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer t0k3n"
    assert request.json == {
        "messageKey": "run-7.p1", "campaignId": "order-shipped", "runId": "run-7", "profileId": "p1",
        "channel": "sms", "to": "+33612345678", "content": {"text": "Your order 1 has shipped"}, "sender": "SHOP",
    }


def test_connection_is_kept_alive_across_messages(server, provider):
    results = [provider.send(outbound(n)) for n in range(5)]

    assert [r.outcome for r in results] == [Outcome.sent] * 5
    assert len(server.requests) == 5
    assert server.connections == 1
    assert len({r.connection for r in server.requests}) == 1


def test_server_error_is_transient_and_the_next_message_goes_through(server, provider):
    server.answer_next(1, 500, body="database unavailable")

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.detail.startswith("500 Internal Server Error: database unavailable (webhook ")
    assert result.retry_after is None
    assert provider.send(outbound(2)).outcome is Outcome.sent


def test_bad_request_is_permanent_with_status_and_body_excerpt(server, provider):
    server.answer_next(1, 400, body={"error": "invalid phone number", "field": "to"})

    result = provider.send(outbound())

    assert result.outcome is Outcome.permanent
    assert result.detail.startswith('400 Bad Request: {"error": "invalid phone number", "field": "to"} (webhook ')


def test_long_bodies_are_cut_to_a_short_excerpt(server, provider):
    server.answer_next(1, 422, body="<html>\n" + "x" * 5000)

    detail = provider.send(outbound()).detail

    assert "x" * 190 in detail and "x" * 300 not in detail
    assert "…" in detail and "\n" not in detail


def test_429_with_retry_after_is_transient_with_the_hint(server, provider):
    server.answer_next(1, 429, headers={"Retry-After": "7"}, body="slow down")

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.retry_after is not None
    assert result.retry_after == 7
    assert result.detail.endswith("; retry after 7 s")


def test_retry_after_as_an_http_date_is_read_against_the_clock(server, provider):
    server.answer_next(1, 503, headers={"Retry-After": format_datetime(T0 + timedelta(seconds=90), usegmt=True)})

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.retry_after == 90


@pytest.mark.parametrize(("status", "outcome"), [
    (201, Outcome.sent), (202, Outcome.sent), (204, Outcome.sent),
    (408, Outcome.transient), (409, Outcome.transient), (425, Outcome.transient),
    (502, Outcome.transient), (503, Outcome.transient), (504, Outcome.transient),
    (401, Outcome.permanent), (403, Outcome.permanent), (404, Outcome.permanent), (422, Outcome.permanent),
    (301, Outcome.permanent),
])
def test_status_codes_are_classified(server, provider, status, outcome):
    server.answer_next(1, status, headers={"Location": "https://elsewhere.example/"} if status == 301 else None)

    assert provider.send(outbound()).outcome is outcome


def test_a_hanging_server_times_out_as_transient(server, clock):
    provider = WebhookProvider(sms_config(f"{server.url}/hooks/sms", timeout=0.3), clock=clock)
    server.hang_next(1)

    started = time.monotonic()
    result = provider.send(outbound())
    elapsed = time.monotonic() - started

    assert result.outcome is Outcome.transient
    assert result.detail.startswith("no answer within 0.3 s (ReadTimeout")
    assert result.gateway_fault == "timed out"
    assert 0.25 <= elapsed < 2
    assert provider.send(outbound(2)).outcome is Outcome.sent  # a new connection replaces the stuck one
    provider.close()


def test_nothing_listening_is_transient(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = WebhookProvider(sms_config(f"http://127.0.0.1:{port}/hooks/sms"), clock=clock)

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.detail.startswith("ConnectError:")
    assert result.gateway_fault == "refused the connection"
    provider.close()


@pytest.mark.parametrize(("status", "fault"), [
    (502, "answered 502"), (503, "answered 503"), (504, "answered 504"),
    (500, None), (429, None), (409, None), (404, None), (422, None), (200, None),
])
def test_only_answers_that_say_the_gateway_is_down_are_gateway_faults(server, provider, status, fault):
    server.answer_next(1, status)

    assert provider.send(outbound()).gateway_fault == fault


def test_send_after_close_opens_a_new_client(server, provider):
    assert provider.send(outbound(1)).outcome is Outcome.sent
    provider.close()
    assert provider.send(outbound(2)).outcome is Outcome.sent
    assert server.connections == 2


def test_parse_retry_after():
    assert parse_retry_after("120", T0) == 120
    assert parse_retry_after("-5", T0) == 0
    assert parse_retry_after(format_datetime(T0 - timedelta(minutes=1), usegmt=True), T0) == 0
    assert parse_retry_after("soon", T0) is None
    assert parse_retry_after("inf", T0) is None
    assert parse_retry_after(None, T0) is None
