"""Reaching a workspace served by `campaigns serve` on another machine: the same client, over HTTP(S),
where a bearer token (not a header naming a user) says who is calling."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from .client import CampaignsClient
from .errors import CampaignsError


class Unreachable(CampaignsError):
    """The server could not be reached, or is not `campaigns serve`: nothing was sent but the probe."""

    status, problem, title = 503, "unreachable", "Server unreachable"


def normal_url(url: str) -> str:
    """The URL as tokens are filed under it: ``http(s)://host:port``, no trailing slash."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or "://" == url[-3:]:
        raise Unreachable(f"{url!r} is not a server URL; give one like https://campaigns.example.com:8765 "
                          "(what `campaigns serve` printed)")
    return url


def _verify(ca_cert: Path | None) -> ssl.SSLContext | bool:
    """The system's trust store, or only the given CA (a private one): never no verification."""
    if ca_cert is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_cert))
    except (OSError, ssl.SSLError) as error:
        raise Unreachable(f"cannot use {ca_cert} as a CA certificate: {getattr(error, 'strerror', None) or error}; "
                          "give a PEM file") from None


@asynccontextmanager
async def connect_remote(url: str, token: str, *, ca_cert: Path | None = None) -> AsyncIterator[CampaignsClient]:
    """A client of the workspace `campaigns serve` serves at ``url``, sending ``token`` with every call.

    The server is probed first (``/healthz``, which needs no token), so an unreachable URL or an
    untrusted certificate is one clear error here rather than a transport failure mid-command.
    ``client.remote`` is the URL.
    """
    url = normal_url(url)
    http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, verify=_verify(ca_cert),
                             timeout=httpx.Timeout(60.0, connect=10.0))
    client = CampaignsClient(http, remote=url)
    try:
        await _probe(http, url)
        yield client
    finally:
        await client.aclose()


async def _probe(http: httpx.AsyncClient, url: str) -> None:
    try:
        response = await http.get("/healthz")
    except httpx.TransportError as error:
        reason = str(error) or type(error).__name__
        hint = ("; for a private CA give --ca-cert FILE or set CAMPAIGNS_CA_BUNDLE" if "CERTIFICATE" in reason.upper()
                else "; is `campaigns serve` running there?")
        raise Unreachable(f"cannot reach {url}: {reason}{hint}") from None
    if response.status_code != 200 or response.headers.get("content-type") != "application/json" \
            or response.json() != {"status": "ok"}:
        raise Unreachable(f"{url} answered, but not as `campaigns serve` does (GET /healthz: {response.status_code}); "
                          "check the URL and port")
