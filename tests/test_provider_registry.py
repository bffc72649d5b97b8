"""The provider registry: every provider type is registered, opens a provider that sends, and names its gateway."""

from __future__ import annotations

from store.engine.message import OutboundMessage, Outcome
from store.engine.providers.registry import REGISTRY, isolation_key, open_provider
from store.engine.providers.smtp import SmtpProvider
from store.engine.providers.webhook import WebhookProvider
from store.models import Channel, ChannelConfiguration, Provider, SmtpSettings, WebhookSettings
from tests.servers import HttpServer, SmtpServer


def smtp_config(host: str, port: int, id: str = "email-smtp") -> ChannelConfiguration:
    return ChannelConfiguration(id=id, name="SMTP", channel="email", category="marketing", provider="smtp",
                                sender="news@shop.example", smtp=SmtpSettings(host=host, port=port))


def webhook_config(url: str, id: str = "sms-gw") -> ChannelConfiguration:
    return ChannelConfiguration(id=id, name="SMS", channel="sms", category="marketing", provider="webhook",
                                sender="SHOP", webhook=WebhookSettings(url=url))


def message(channel: Channel, to: str) -> OutboundMessage:
    return OutboundMessage(message_key="run-1.p1", campaign_id="c", run_id="run-1", profile_id="p1", channel=channel,
                           to=to, content={"subject": "Hi", "body": "<p>hi</p>", "text": "hi"})


def test_every_provider_type_is_registered():
    assert set(REGISTRY) == set(Provider)


def test_the_registry_opens_an_smtp_provider_that_sends(clock):
    with SmtpServer() as server:
        provider = open_provider(smtp_config("127.0.0.1", server.port), clock)

        assert isinstance(provider, SmtpProvider)
        assert provider.send(message(Channel.email, "ada@example.com")).outcome is Outcome.sent
        provider.close()
    assert len(server.messages) == 1


def test_the_registry_opens_a_webhook_provider_that_sends(clock):
    with HttpServer() as server:
        provider = open_provider(webhook_config(f"{server.url}/sms"), clock)

        assert isinstance(provider, WebhookProvider)
        assert provider.send(message(Channel.sms, "+33612345678")).outcome is Outcome.sent
        provider.close()
    assert [r.path for r in server.requests] == ["/sms"]


def test_the_outbox_has_no_network_provider(clock):
    outbox = ChannelConfiguration(id="email-outbox", name="Outbox", channel="email", category="marketing",
                                  sender="news@shop.example")

    assert open_provider(outbox, clock) is None
    assert isolation_key(outbox) == "outbox"


def test_isolation_key_separates_gateways_and_joins_configurations_of_one():
    assert isolation_key(smtp_config("mail.example", 25)) == "smtp:mail.example:25"
    assert isolation_key(smtp_config("Mail.Example", 25, id="other")) == "smtp:mail.example:25"
    assert isolation_key(smtp_config("mail.example", 587)) != isolation_key(smtp_config("mail.example", 25))
    assert isolation_key(smtp_config("relay.example", 25)) != isolation_key(smtp_config("mail.example", 25))

    assert isolation_key(webhook_config("https://sms.example/send")) == "webhook:sms.example:443"
    assert isolation_key(webhook_config("https://sms.example:443/other", id="b")) == "webhook:sms.example:443"
    assert isolation_key(webhook_config("http://sms.example/send")) == "webhook:sms.example:80"
    assert isolation_key(webhook_config("https://user:secret@push.example:8443/x")) == "webhook:push.example:8443"


def test_a_webhook_url_with_an_impossible_port_still_gets_a_key():
    """The engine computes keys while scheduling: a url the model let through must not raise there."""
    assert isolation_key(webhook_config("https://sms.example:99999/send")) == "webhook:sms.example:443"
