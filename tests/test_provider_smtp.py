"""SmtpProvider against a real aiosmtpd server on loopback: MIME, reuse, classification, TLS, AUTH."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time

import pytest

from store.engine.message import OutboundMessage, Outcome
from store.engine.providers.smtp import SmtpProvider, html_to_text, message_id
from store.models import Channel, ChannelConfiguration, SmtpSettings
from tests.servers import SilentServer, SmtpServer

BODY = ("<html><head><style>p{color:red}</style></head><body><h1>Hello Ada</h1>"
        "<p>Our <a href='https://shop.example/sale'>sale</a> starts today &amp; ends Sunday.</p></body></html>")


def email_config(port: int, **smtp) -> ChannelConfiguration:
    return ChannelConfiguration(
        id="email-smtp", name="SMTP", channel="email", category="marketing", provider="smtp",
        sender="news@shop.example", sender_name="Shop News", reply_to="help@shop.example",
        smtp=SmtpSettings(host="127.0.0.1", port=port, **smtp))


def outbound(n: int = 1, to: str = "ada@example.com", **content) -> OutboundMessage:
    return OutboundMessage(
        message_key=f"run-1.p{n}", campaign_id="spring-sale", run_id="run-1", profile_id=f"p{n}",
        channel=Channel.email, to=to,
        content={"subject": "Spring sale", "preheader": "Up to 30% off", "body": BODY, **content})


@pytest.fixture
def server():
    with SmtpServer() as running:
        yield running


@pytest.fixture
def provider(server, clock):
    smtp = SmtpProvider(email_config(server.port), clock=clock)
    yield smtp
    smtp.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_message_arrives_with_headers_and_both_parts(server, provider):
    result = provider.send(outbound())

    assert result.outcome is Outcome.sent
    assert result.detail == f"250 2.0.0 Ok: queued as Q1 (smtp 127.0.0.1:{server.port})"
    [received] = server.messages
    assert received.mail_from == "news@shop.example"
    assert received.rcpt_tos == ["ada@example.com"]
    mail = received.message
    assert mail["From"] == "Shop News <news@shop.example>"
    assert mail["To"] == "ada@example.com"
    assert mail["Reply-To"] == "help@shop.example"
    assert mail["Subject"] == "Spring sale"
    assert mail["Message-ID"] == "<run-1.p1@campaigns>"
    assert mail["X-Campaign-Id"] == "spring-sale"
    assert mail["X-Run-Id"] == "run-1"
    assert mail["Date"] == "Thu, 26 Nov 2026 09:00:00 +0000"  # from the injected clock
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == "Hello Ada\n\nOur sale (https://shop.example/sale) starts today & ends Sunday.\n"
    html = mail.get_body(("html",)).get_content()
    assert html.index("<body>") < html.index("Up to 30% off</span>") < html.index("<h1>Hello Ada")
    assert "display:none" in html


def test_sends_reuse_one_connection_and_close_quits(server, provider):
    results = [provider.send(outbound(n)) for n in range(5)]

    assert [r.outcome for r in results] == [Outcome.sent] * 5
    assert len(server.messages) == 5
    assert server.connections == 1
    assert provider.connections_opened == 1
    provider.close()
    assert server.handler.quits == 1
    assert provider.send(outbound(6)).outcome is Outcome.sent  # usable again after close
    assert server.connections == 2


@pytest.mark.parametrize(("stage", "reply", "outcome"), [
    ("RCPT", "550 5.1.1 user unknown", Outcome.permanent),
    ("RCPT", "553 5.1.3 bad recipient address syntax", Outcome.permanent),
    ("DATA", "554 5.7.1 rejected as spam", Outcome.permanent),
    ("MAIL", "553 5.7.1 sender not allowed", Outcome.permanent),
    ("RCPT", "450 4.2.0 mailbox busy", Outcome.transient),
    ("RCPT", "452 4.5.3 too many recipients", Outcome.transient),
    ("DATA", "451 4.3.0 try again later", Outcome.transient),
    ("MAIL", "454 4.7.0 rate limited, slow down", Outcome.transient),
])
def test_replies_are_classified_and_the_session_survives(server, provider, stage, reply, outcome):
    server.handler.refuse_next(1, reply, at=stage)

    result = provider.send(outbound())

    assert result.outcome is outcome
    assert result.detail == f"{reply} (smtp 127.0.0.1:{server.port})"
    assert result.gateway_fault is None  # the server answered about this message: it is up
    assert provider.send(outbound(2)).outcome is Outcome.sent  # RSET, not a new session
    assert server.connections == 1
    assert [m.message["Message-ID"] for m in server.messages] == ["<run-1.p2@campaigns>"]


def test_421_mid_transaction_is_transient_and_next_send_reconnects(server, provider):
    server.handler.refuse_next(1, "421 4.4.2 closing, too many errors", at="RCPT")

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.detail.startswith("421 4.4.2")
    assert result.gateway_fault == "answered 421"
    assert provider.send(outbound(2)).outcome is Outcome.sent
    assert server.connections == 2


def test_drop_after_data_is_transient_then_next_send_reconnects(server, provider):
    assert provider.send(outbound(1)).outcome is Outcome.sent
    server.handler.drop_next(1, at="DATA")

    dropped = provider.send(outbound(2))
    again = provider.send(outbound(3))

    assert dropped.outcome is Outcome.transient
    assert dropped.detail.startswith("connection lost:")
    assert dropped.gateway_fault == "dropped the connection"
    assert again.outcome is Outcome.sent
    assert server.connections == 2
    assert [m.message["Message-ID"] for m in server.messages] == ["<run-1.p1@campaigns>", "<run-1.p3@campaigns>"]


def test_drop_before_content_on_a_fresh_session_is_transient(server, provider):
    server.handler.drop_next(1, at="RCPT")

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert provider.send(outbound(2)).outcome is Outcome.sent


def test_session_closed_while_idle_is_reopened_without_a_failure(server, provider):
    assert provider.send(outbound(1)).outcome is Outcome.sent
    server.hang_up()  # the server's idle timeout fires between two messages

    result = provider.send(outbound(2))

    assert result.outcome is Outcome.sent  # noticed at MAIL FROM, before any content left
    assert server.connections == 2
    assert len(server.messages) == 2


def test_421_at_mail_on_a_reused_session_is_retried_on_a_new_one(server, provider):
    assert provider.send(outbound(1)).outcome is Outcome.sent
    server.handler.refuse_next(1, "421 4.7.0 too many messages on this connection", at="MAIL")

    assert provider.send(outbound(2)).outcome is Outcome.sent
    assert server.connections == 2


def test_nothing_listening_is_transient(clock):
    port = free_port()
    provider = SmtpProvider(email_config(port), clock=clock)

    result = provider.send(outbound())

    assert result.outcome is Outcome.transient
    assert result.detail.startswith("ConnectionRefusedError:")
    assert result.detail.endswith(f"(smtp 127.0.0.1:{port})")
    assert result.gateway_fault == "refused the connection"
    provider.close()


def test_the_attempt_timeout_comes_from_the_settings_and_defaults_to_ten_seconds(clock):
    assert SmtpProvider(email_config(25), clock=clock).timeout_seconds == 10
    assert SmtpProvider(email_config(25, timeout_seconds=2.5), clock=clock).timeout_seconds == 2.5


def test_a_server_that_never_greets_times_out_as_a_gateway_fault(clock):
    with SilentServer() as silent:
        provider = SmtpProvider(email_config(silent.port, timeout_seconds=0.3), clock=clock)

        result = provider.send(outbound())

        assert result.outcome is Outcome.transient
        assert result.detail == f"no answer within 0.3 s (smtp 127.0.0.1:{silent.port})"
        assert result.gateway_fault == "timed out"
        assert silent.connections_so_far() == 1
        provider.close()


def test_the_connect_itself_is_bounded(clock):
    """A listener whose accept queue is full drops new SYNs: the connect hangs until its timeout."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        queued = socket.create_connection(("127.0.0.1", port))  # fills the queue; nothing ever accepts
        provider = SmtpProvider(email_config(port, timeout_seconds=0.3), clock=clock)

        started = time.monotonic()
        result = provider.send(outbound())
        waited = time.monotonic() - started

        queued.close()
    assert result.gateway_fault == "timed out"
    assert result.outcome is Outcome.transient
    assert waited < 30  # bounded by the 0.3 s setting; unbounded, the kernel retries SYNs for 2 minutes


def test_bad_recipient_address_is_permanent_without_connecting(server, provider):
    result = provider.send(outbound(to="not-an-address"))

    assert result.outcome is Outcome.permanent
    assert "recipient 'not-an-address' is not an email address" in result.detail
    assert server.connections == 0


def test_line_breaks_in_the_subject_cannot_inject_headers(server, provider):
    assert provider.send(outbound(subject="Hi\r\nBcc: eve@evil.example")).outcome is Outcome.sent

    mail = server.messages[0].message
    assert mail["Subject"] == "Hi Bcc: eve@evil.example"
    assert mail["Bcc"] is None


def test_international_recipient_uses_smtputf8(server, provider):
    assert provider.send(outbound(to="zoë@exämple.com")).outcome is Outcome.sent

    assert server.messages[0].rcpt_tos == ["zoë@exämple.com"]
    assert server.messages[0].message["To"] == "zoë@exämple.com"


def test_message_id_escapes_what_a_msg_id_cannot_hold():
    assert message_id("run-1.p1") == "<run-1.p1@campaigns>"
    assert message_id("run 1:p1") == "<run%201%3Ap1@campaigns>"
    assert message_id(".a..b.") == "<%2Ea.%2Eb%2E@campaigns>"
    assert message_id("50%") == "<50%25@campaigns>"


def test_html_to_text_keeps_lines_and_links():
    assert html_to_text("<p>One<br>Two</p><ul><li>a</li><li>b</li></ul><script>x()</script>"
                        "<a href='https://x.example'>https://x.example</a>") == (
        "One\nTwo\n\n- a\n\n- b\n\nhttps://x.example\n")


# -- AUTH and STARTTLS ---------------------------------------------------------------------------

def test_login_reads_the_password_from_the_named_environment_variable(monkeypatch, clock):
    monkeypatch.setenv("CAMPAIGNS_TEST_SMTP_PASSWORD", "s3cret")
    with SmtpServer(credentials=("mailer", "s3cret")) as server:
        provider = SmtpProvider(email_config(server.port, username="mailer", password_env="CAMPAIGNS_TEST_SMTP_PASSWORD"),
                                clock=clock)
        assert provider.send(outbound()).outcome is Outcome.sent
        assert provider.send(outbound(2)).outcome is Outcome.sent
        provider.close()
        assert server.handler.logins == [("mailer", "s3cret")]  # once per session, not per message


def test_missing_password_variable_is_permanent_and_names_it(monkeypatch, clock):
    monkeypatch.delenv("CAMPAIGNS_TEST_SMTP_PASSWORD", raising=False)
    with SmtpServer(credentials=("mailer", "s3cret")) as server:
        provider = SmtpProvider(email_config(server.port, username="mailer", password_env="CAMPAIGNS_TEST_SMTP_PASSWORD"),
                                clock=clock)
        result = provider.send(outbound())
        assert result.outcome is Outcome.permanent
        assert "set the environment variable CAMPAIGNS_TEST_SMTP_PASSWORD" in result.detail
        assert server.connections == 0
        no_env = SmtpProvider(email_config(server.port, username="mailer"), clock=clock).send(outbound())
        assert no_env.outcome is Outcome.permanent
        assert "set smtp.password_env" in no_env.detail


def test_wrong_password_is_permanent(monkeypatch, clock):
    monkeypatch.setenv("CAMPAIGNS_TEST_SMTP_PASSWORD", "wrong")
    with SmtpServer(credentials=("mailer", "s3cret")) as server:
        provider = SmtpProvider(email_config(server.port, username="mailer", password_env="CAMPAIGNS_TEST_SMTP_PASSWORD"),
                                clock=clock)
        result = provider.send(outbound())
        assert result.outcome is Outcome.permanent
        assert result.detail.startswith("535 ")


def test_starttls_against_a_server_without_it_is_permanent(server, clock):
    provider = SmtpProvider(email_config(server.port, starttls=True), clock=clock)

    result = provider.send(outbound())

    assert result.outcome is Outcome.permanent
    assert "STARTTLS extension not supported" in result.detail


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_starttls_then_login(monkeypatch, clock, certificate):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("CAMPAIGNS_TEST_SMTP_PASSWORD", "s3cret")
    settings = dict(starttls=True, username="mailer", password_env="CAMPAIGNS_TEST_SMTP_PASSWORD")
    with SmtpServer(credentials=("mailer", "s3cret"), tls_context=server_tls) as server:
        trusted = SmtpProvider(email_config(server.port, **settings), clock=clock,
                               ssl_context=ssl.create_default_context(cafile=str(cert)))
        assert trusted.send(outbound()).outcome is Outcome.sent
        trusted.close()
        assert server.handler.logins == [("mailer", "s3cret")]

        untrusted = SmtpProvider(email_config(server.port, **settings), clock=clock)
        result = untrusted.send(outbound(2))
        assert result.outcome is Outcome.permanent
        assert result.detail.startswith("TLS certificate not trusted")
        assert len(server.handler.logins) == 1  # the password never left over an unverified channel
