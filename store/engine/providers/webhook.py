"""Webhook delivery (SMS and push gateways): one JSON POST per message over a kept-alive client.

The message key travels as ``Idempotency-Key`` so a resend after a crash or a timeout that hid a
success can be dropped by the gateway (ENGINE-NOTES 2). Status codes are sorted into "try again
later" and "retrying will not help" so the retry helper neither hammers nor gives up too early;
no answer, a failed connection and 502/503/504 also say "the gateway is down" (``gateway_fault``).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from ...clock import Clock, SystemClock
from ...models import ChannelConfiguration, WebhookSettings
from ..message import Outcome, OutboundMessage, SendResult, network_fault

# 408 timeout, 409 "same Idempotency-Key still being processed" (IETF idempotency-key draft),
# 425 too early, 429 rate limited: all say "later", not "never". Every 5xx says the same.
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
# The gateway (or what stands behind it) is not serving anyone: these count towards the circuit breaker.
# A 500 or a 429 does not: the gateway answered, about this message or about our pace.
GATEWAY_DOWN_STATUS = frozenset({502, 503, 504})
EXCERPT = 200


class WebhookProvider:
    """Posts each message to ``config.webhook.url``. Not thread-safe: one per sending thread."""

    def __init__(self, config: ChannelConfiguration, *, clock: Clock | None = None) -> None:
        self._config = config
        self._settings = settings_of(config)
        self._clock = clock or SystemClock()
        self._client: httpx.Client | None = None
        self.timeout_seconds = self._settings.timeout_seconds
        self.gateway = "webhook " + _host_port(self._settings.url)

    def send(self, message: OutboundMessage) -> SendResult:
        payload = {
            "messageKey": message.message_key,
            "campaignId": message.campaign_id,
            "runId": message.run_id,
            "profileId": message.profile_id,
            "channel": message.channel.value,
            "to": message.to,
            "content": dict(message.content),
            "sender": message.sender or self._config.sender,
        }
        headers = {"Idempotency-Key": message.message_key, "Content-Type": "application/json"}
        try:
            response = self._http().post(self._settings.url, content=json.dumps(payload).encode(), headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(Outcome.transient,
                              f"no answer within {self.timeout_seconds:g} s ({type(exc).__name__}, {self.gateway})",
                              gateway_fault="timed out")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return SendResult(Outcome.permanent, f"bad webhook url {self._settings.url!r}: {exc}")
        except httpx.TransportError as exc:
            fault = network_fault(exc) if isinstance(exc, httpx.ConnectError) else "dropped the connection"
            return SendResult(Outcome.transient, f"{type(exc).__name__}: {exc or 'connection failed'} ({self.gateway})",
                              gateway_fault=fault)
        return self._classify(response)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        """One client for the provider's life, so connections are kept alive between messages."""
        if self._client is None:
            self._client = httpx.Client(timeout=self._settings.timeout_seconds, follow_redirects=False,
                                        headers={"User-Agent": "campaigns", **self._settings.headers})
        return self._client

    def _classify(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        head = f"{status} {response.reason_phrase}".strip()
        if 200 <= status < 300:
            return SendResult(Outcome.sent, f"{head} ({self.gateway})")
        if status in TRANSIENT_STATUS or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
            hint = f"; retry after {wait:g} s" if wait is not None else ""
            fault = f"answered {status}" if status in GATEWAY_DOWN_STATUS else None
            return SendResult(Outcome.transient, f"{head}{_excerpt(response)} ({self.gateway}){hint}", retry_after=wait,
                              gateway_fault=fault)
        if 300 <= status < 400:
            where_to = response.headers.get("Location", "?")
            return SendResult(Outcome.permanent, f"{head}: redirects to {where_to}; configure the final url ({self.gateway})")
        return SendResult(Outcome.permanent, f"{head}{_excerpt(response)} ({self.gateway})")


def settings_of(config: ChannelConfiguration) -> WebhookSettings:
    if config.webhook is None:
        raise ValueError(f"channel configuration {config.id!r} has no webhook settings")
    return config.webhook


def isolation_key(config: ChannelConfiguration) -> str:
    """``webhook:host:port``: configurations posting to one gateway share its sending slots."""
    return "webhook:" + _host_port(settings_of(config).url, default_port=True)


def _host_port(url: str, *, default_port: bool = False) -> str:
    """Host and port only, never credentials from the url; the scheme's port when asked (a key, not a label)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # out of range: sending says so (InvalidURL); a label or key need not fail
        port = None
    if port is None and default_port:
        port = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "") + (f":{port}" if port else "")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _excerpt(response: httpx.Response) -> str:
    """A short, one-line taste of the body: enough to see the gateway's reason, never a page."""
    try:
        text = " ".join(response.text.split())
    except (UnicodeDecodeError, LookupError):
        return ""
    if not text:
        return ""
    return ": " + (text if len(text) <= EXCERPT else text[:EXCERPT] + "…")
