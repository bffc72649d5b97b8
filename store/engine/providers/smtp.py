"""SMTP delivery over one reused connection, with replies sorted into transient and permanent.

Opening a session (TCP, EHLO, STARTTLS, AUTH) costs several round trips, so one connection is
opened lazily and kept for the whole run. A connection the server closed while idle is noticed
at MAIL FROM, before any content has left, so it is reopened once at no risk of a duplicate.
A drop after DATA is different: the message may have arrived (RFC 1047), so it is reported as
transient and the resend carries the same ``Message-ID`` for the receiver to dedupe.

Every network wait (connect, each reply) is bounded by ``smtp.timeout_seconds``, so a gateway that
accepts and never answers costs one timeout per attempt. Failures that say "the gateway is down"
(no answer, refused, dropped, 421) carry ``gateway_fault`` for the circuit breaker.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import threading
from datetime import datetime
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from html.parser import HTMLParser

from ...clock import Clock, SystemClock
from ...models import ChannelConfiguration, SmtpSettings
from ..message import Outcome, OutboundMessage, SendResult, network_fault

_ATEXT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'*+-/=?^_`{|}~")
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_HIDDEN = ("display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;"
           "opacity:0;overflow:hidden;mso-hide:all")
# Replies after which this transaction is over but the session is still usable (after RSET).
_REJECTIONS = (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
               smtplib.SMTPNotSupportedError)


class SmtpConfigError(Exception):
    """The configuration cannot work (e.g. the password variable is unset): retrying will not help."""


class SmtpProvider:
    """Sends email through ``config.smtp``; ``send`` and ``close`` may come from different threads."""

    def __init__(self, config: ChannelConfiguration, *, clock: Clock | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._config = config
        self._settings = settings_of(config)
        self._clock = clock or SystemClock()
        self.timeout_seconds = self._settings.timeout_seconds
        self._ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self.gateway = f"smtp {self._settings.host}:{self._settings.port}"
        self.connections_opened = 0  # how many sessions were opened: reuse is visible to tests and stats

    def send(self, message: OutboundMessage) -> SendResult:
        try:
            mime = build_message(message, self._config, now=self._clock.now())
        except (ValueError, errors.MessageError) as exc:
            return SendResult(Outcome.permanent, f"cannot build the email: {exc}")
        sender = message.sender or self._config.sender or ""
        utf8 = isinstance(mime.policy, policy.EmailPolicy) and mime.policy.utf8
        data = mime.as_bytes(policy=mime.policy.clone(linesep="\r\n"))
        with self._lock:
            try:
                code, reply = self._deliver(sender, message.to, data, utf8)
            except (SmtpConfigError, smtplib.SMTPException, OSError) as exc:
                if not isinstance(exc, _REJECTIONS):
                    self._drop()
                return self._classify(exc)
        return SendResult(Outcome.sent, f"{code} {_text(reply)} ({self.gateway})")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._drop()

    # -- session ---------------------------------------------------------------------------

    def _deliver(self, sender: str, to: str, data: bytes, utf8: bool) -> tuple[int, bytes]:
        reused = self._conn is not None
        try:
            return self._transact(self._session(), sender, to, data, utf8)
        except _Stale as stale:
            self._drop()
            if not reused:
                raise stale.error from None
        try:  # the server had closed the idle session before MAIL: nothing was sent, so reopen once
            return self._transact(self._session(), sender, to, data, utf8)
        except _Stale as stale:
            raise stale.error from None

    def _session(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        settings = self._settings
        password = self._password() if settings.username else ""  # before connecting: a missing one fails fast
        conn = smtplib.SMTP(settings.host, settings.port, timeout=self.timeout_seconds)  # bounds connect too
        try:
            conn.ehlo_or_helo_if_needed()
            if settings.starttls:
                conn.starttls(context=self._ssl_context or ssl.create_default_context())
                conn.ehlo()
            if settings.username:
                conn.login(settings.username, password)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.connections_opened += 1
        return conn

    def _transact(self, conn: smtplib.SMTP, sender: str, to: str, data: bytes, utf8: bool) -> tuple[int, bytes]:
        options: list[str] = []
        if utf8:
            if not conn.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError(f"the server does not offer SMTPUTF8, needed for {to!r} / {sender!r}")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            code, reply = conn.mail(sender, options)
        except smtplib.SMTPServerDisconnected as exc:
            raise _Stale(exc) from exc
        if code == 421:  # "closing channel": a server-side idle or per-session limit
            raise _Stale(smtplib.SMTPSenderRefused(code, reply, sender))
        if code != 250:
            self._reset(conn, code)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = conn.rcpt(to)
        if code not in (250, 251):
            self._reset(conn, code)
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        try:
            code, reply = conn.data(data)  # raises only when DATA itself is refused
        except smtplib.SMTPDataError as exc:
            self._reset(conn, exc.smtp_code)
            raise
        if code != 250:
            self._reset(conn, code)
            raise smtplib.SMTPDataError(code, reply)
        return code, reply

    def _reset(self, conn: smtplib.SMTP, code: int) -> None:
        """RSET after a refused transaction so the session can carry the next message; 421 ends it."""
        if code == 421:
            self._drop()
            return
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _password(self) -> str:
        settings = self._settings
        if not settings.password_env:
            raise SmtpConfigError(f"smtp login as {settings.username!r} needs a password: set smtp.password_env "
                                  "to the name of the environment variable that holds it")
        password = os.environ.get(settings.password_env)
        if not password:
            raise SmtpConfigError(f"smtp login as {settings.username!r}: set the environment variable "
                                  f"{settings.password_env} to the SMTP password")
        return password

    def _classify(self, exc: SmtpConfigError | OSError) -> SendResult:
        reply: bytes | str
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(exc.recipients.values()))
        elif isinstance(exc, smtplib.SMTPResponseException):
            code, reply = exc.smtp_code, exc.smtp_error
        elif isinstance(exc, smtplib.SMTPServerDisconnected):
            if isinstance(exc.__context__, TimeoutError):  # smtplib turns a reply's timeout into a disconnect
                return self._no_answer()
            return SendResult(Outcome.transient, f"connection lost: {exc} ({self.gateway})",
                              gateway_fault="dropped the connection")
        elif isinstance(exc, ssl.SSLCertVerificationError):
            return SendResult(Outcome.permanent, f"TLS certificate not trusted: {exc.verify_message} ({self.gateway})")
        elif isinstance(exc, (smtplib.SMTPException, SmtpConfigError)):  # SMTPException is an OSError too
            return SendResult(Outcome.permanent, f"{exc} ({self.gateway})")
        elif isinstance(exc, TimeoutError):
            return self._no_answer()
        else:  # refused, reset, unreachable: the network, not the message
            return SendResult(Outcome.transient, f"{type(exc).__name__}: {exc} ({self.gateway})",
                              gateway_fault=network_fault(exc))
        outcome = Outcome.permanent if 500 <= code < 600 else Outcome.transient
        return SendResult(outcome, f"{code} {_text(reply)} ({self.gateway})",
                          gateway_fault="answered 421" if code == 421 else None)  # 421: service closing

    def _no_answer(self) -> SendResult:
        return SendResult(Outcome.transient, f"no answer within {self.timeout_seconds:g} s ({self.gateway})",
                          gateway_fault="timed out")


class _Stale(Exception):
    """MAIL FROM met a closed session: nothing of the message was sent yet."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def settings_of(config: ChannelConfiguration) -> SmtpSettings:
    if config.smtp is None:
        raise ValueError(f"channel configuration {config.id!r} has no smtp settings")
    return config.smtp


def isolation_key(config: ChannelConfiguration) -> str:
    """``smtp:host:port``: configurations sending through one SMTP server share its sending slots."""
    settings = settings_of(config)
    return f"smtp:{settings.host.lower()}:{settings.port}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


# -- the MIME message ------------------------------------------------------------------------

def build_message(message: OutboundMessage, config: ChannelConfiguration, *, now: datetime) -> EmailMessage:
    """HTML with a plain-text alternative; Message-ID from the message key for downstream dedupe."""
    sender = message.sender or config.sender
    if not sender:
        raise ValueError("no sender address: set sender on the channel configuration")
    reply_to = message.reply_to or config.reply_to
    content = message.content
    international = not all(a.isascii() for a in (sender, message.to, reply_to or ""))
    mime = EmailMessage(policy=policy.SMTPUTF8 if international else policy.default)
    mime["From"] = _address(sender, "sender", message.sender_name or config.sender_name or "")
    mime["To"] = _address(message.to, "recipient")
    if reply_to:
        mime["Reply-To"] = _address(reply_to, "reply-to")
    mime["Subject"] = _one_line(content.get("subject", ""))
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = message_id(message.message_key)
    mime["X-Campaign-Id"] = _one_line(message.campaign_id)
    mime["X-Run-Id"] = _one_line(message.run_id)
    html = content.get("body", "")
    mime.set_content(html_to_text(html))
    mime.add_alternative(_with_preheader(html, content.get("preheader", "")), subtype="html")
    return mime


def message_id(message_key: str) -> str:
    """``<key@campaigns>``, with characters a msg-id cannot hold %-escaped (deterministic, so resends match)."""
    out: list[str] = []
    for char in message_key:
        if char in _ATEXT or (char == "." and out and out[-1] != "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode())
    if out and out[-1] == ".":
        out[-1] = "%2E"
    return f"<{''.join(out)}@campaigns>"


def _address(value: str, what: str, name: str = "") -> str:
    local, at, domain = value.partition("@")
    if not (local and at and domain) or any(c.isspace() or c in "<>,;\"" for c in value):
        raise ValueError(f"{what} {value!r} is not an email address")
    name = _one_line(name)
    if value.isascii():
        return str(Address(display_name=name, addr_spec=value))
    # Address() refuses non-ASCII local parts; such mail goes out with SMTPUTF8 and raw UTF-8 headers
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{value}>' if name else value


def _one_line(value: str) -> str:
    """Header values from templates must not smuggle line breaks (header injection)."""
    return " ".join(str(value).split())


def _with_preheader(html: str, preheader: str) -> str:
    """The preheader is the inbox preview line: a hidden span first in the body."""
    if not preheader:
        return html
    span = f'<span style="{_HIDDEN}">{escape(preheader)}</span>'
    match = _BODY_TAG.search(html)
    return html[:match.end()] + span + html[match.end():] if match else span + html


class _TextOf(HTMLParser):
    """Visible text of an HTML body: blocks become lines, links keep their address."""

    BLOCKS = {"p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    BREAKS = {"br", "hr"}
    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag in self.BLOCKS or tag in self.BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            if href and href.startswith(("http:", "https:", "mailto:")) and "".join(self.parts[start:]).strip() != href:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text + "\n"
