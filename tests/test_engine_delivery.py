"""Runs delivering over real SMTP and HTTP servers on loopback, including servers that misbehave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Static

from console.app import CampaignsApp
from console.screens.campaign_detail import CampaignDetailScreen
from store.models import ChannelConfiguration, RunStatus, Status

from .console_support import wait_for
from .engine_setup import email_campaign, reasons
from .servers import HttpServer, SmtpServer


async def smtp_config(root, port: int) -> None:
    await root.put_channel_configuration(ChannelConfiguration(
        id="email-smtp", name="SMTP", channel="email", category="marketing", provider="smtp",
        sender="news@shop.example", sender_name="Shop", smtp={"host": "127.0.0.1", "port": port}))


async def webhook_config(root, url: str, channel: str = "sms") -> None:
    await root.put_channel_configuration(ChannelConfiguration(
        id=f"{channel}-hook", name="Gateway", channel=channel, category="marketing", provider="webhook",
        sender="SHOP" if channel == "sms" else "app", webhook={"url": url, "timeout_seconds": 0.5}))


def sms_campaign(name: str = "Flash SMS"):
    from store.client import edit_from_file_document

    return edit_from_file_document({"name": name, "type": "action", "category": "marketing", "draft": {
        "channel": "sms", "channel_configuration": "sms-hook", "audience": "everyone",
        "content": {"sms": {"text": "Hi {{profile.person.name.firstName}}, -20% today"}}}})


async def test_email_over_smtp_reuses_one_connection(root, engine):
    with SmtpServer() as server:
        await smtp_config(root, server.port)
        c = await root.create_campaign(email_campaign(config="email-smtp"))
        await root.activate(c.id)
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert run.status is RunStatus.completed and run.counters.sent == 4
        received = {m.rcpt_tos[0]: m.message for m in server.messages}
        assert set(received) == {"ana@example.com", "bo@example.com", "fa@example.com", "gu@example.com"}
        ana = received["ana@example.com"]
        assert ana["Subject"] == "Hi Ana" and ana["Message-ID"] == f"<{run.id}.p01@campaigns>"
        assert ana["X-Campaign-Id"] == c.id and "Shop" in ana["From"]
        assert server.connections == 1
        sent = {d["profile_id"] for d in engine.ledger.deliveries(run.id, outcome="sent")}
        assert sent == {"p01", "p02", "p07", "p08"}


async def test_smtp_refusals_exclude_with_dispatch_error_and_the_rest_still_go(root, engine):
    with SmtpServer() as server:
        await smtp_config(root, server.port)
        server.handler.refuse_next(1, "550 5.1.1 user unknown")
        c = await root.create_campaign(email_campaign(config="email-smtp"))
        await root.activate(c.id)
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert (run.counters.sent, run.counters.failed) == (3, 1)
        [failure] = engine.ledger.deliveries(run.id, outcome="failed")
        assert failure["reason"] == "dispatch_error" and "550" in failure["detail"]
        assert (await root.campaign(c.id)).status is Status.live


async def test_smtp_dropped_connection_is_retried_on_the_clock(root, engine, clock):
    with SmtpServer() as server:
        await smtp_config(root, server.port)
        server.handler.drop_next(1, at="DATA")
        c = await root.create_campaign(email_campaign(config="email-smtp"))
        await root.activate(c.id)
        before = clock.now()
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert run.counters.sent == 4 and run.counters.failed == 0
        assert clock.now() - before >= timedelta(seconds=0.5)  # one backoff, slept on the frozen clock


async def test_smtp_server_down_fails_the_campaign_with_the_error(root, engine):
    with SmtpServer() as server:
        port = server.port
    await smtp_config(root, port)  # nothing listens there any more
    c = await root.create_campaign(email_campaign(config="email-smtp"))
    await root.activate(c.id)
    engine.run_until_idle()
    [run] = await root.runs(c.id)
    assert run.status is RunStatus.failed and run.counters.failed == 4 and run.counters.sent == 0
    c = await root.campaign(c.id)
    assert c.status is Status.failed and "every send failed" in c.status_reason and "gave up after 4 attempts" in c.status_reason
    report = await root.report(c.id)
    assert report.failures == {"provider_unavailable": 4}  # the gateway was down, not the messages refused
    app = CampaignsApp(root, refresh_seconds=3600)
    async with app.run_test(size=(120, 36)) as pilot:  # the runs tab says so too
        app.push_screen(CampaignDetailScreen(c.id))
        await pilot.press("2")
        totals = app.screen.query_one("#run-totals", Static)
        await wait_for(pilot, lambda: "Totals over" in str(totals.content), "the run totals")
        assert "failed 4 (provider_unavailable 4)" in str(totals.content)


async def test_webhook_sends_json_with_idempotency_keys(root, engine):
    with HttpServer() as server:
        await webhook_config(root, server.url)
        c = await root.create_campaign(sms_campaign())
        await root.activate(c.id)
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert run.counters.sent == 4 and reasons(run) == {"no_consent": 2, "no_address": 1, "suppressed": 1}
        bodies = {r.json["profileId"]: r for r in server.requests}
        assert bodies["p01"].headers["idempotency-key"] == f"{run.id}.p01"
        assert bodies["p01"].json["content"] == {"text": "Hi Ana, -20% today"}
        assert bodies["p01"].json["to"] == "+33600000001"


async def test_webhook_500_then_success_is_retried_with_the_same_key(root, engine):
    with HttpServer() as server:
        await webhook_config(root, server.url)
        server.answer_next(2, 500)
        c = await root.create_campaign(sms_campaign())
        await root.activate(c.id)
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert run.counters.sent == 4 and run.counters.failed == 0
        keys = [r.headers["idempotency-key"] for r in server.requests]
        assert len(keys) == 6 and len(set(keys)) == 4


async def test_a_hanging_webhook_fails_with_provider_unavailable_and_other_campaigns_go_on(root, engine):
    with HttpServer() as server:
        await webhook_config(root, server.url)
        server.hang_next(2, seconds=2)  # a message waits under 3 timeouts: two hung attempts
        c = await root.create_campaign(sms_campaign())
        other = await root.create_campaign(email_campaign("Outbox one"))
        await root.activate(c.id)
        await root.activate(other.id)
        engine.run_until_idle()
        [run] = await root.runs(c.id)
        assert (run.counters.sent, run.counters.failed) == (3, 1)
        [failure] = engine.ledger.deliveries(run.id, outcome="failed")
        assert "gave up after 2 attempts" in failure["detail"] and failure["reason"] == "provider_unavailable"
        assert (await root.runs(other.id))[0].counters.sent == 4


async def test_webhook_400_for_everyone_fails_the_campaign(root, engine):
    with HttpServer() as server:
        await webhook_config(root, server.url)
        server.answer_next(100, 400, body='{"error": "unknown sender"}')
        c = await root.create_campaign(sms_campaign())
        await root.activate(c.id)
        engine.run_until_idle()
        c = await root.campaign(c.id)
        assert c.status is Status.failed and "400" in c.status_reason and "unknown sender" in c.status_reason
