"""Where `campaigns serve` listens over TCP, and whether that place needs TLS.

Tokens travel in every request: off this machine they must be encrypted, so a bind to anything but a loopback
address needs a certificate (or an explicit, warned ``--insecure``)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere


@dataclass
class Listen:
    host: str = "127.0.0.1"
    port: int = 8765  # 0 picks a free port; serving replaces it with the bound one
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls_cert else 'http'}://{host}:{self.port}"

    def problem(self, insecure: bool) -> str | None:
        """Why serving here would be refused, in one line, or None."""
        if (self.tls_cert is None) != (self.tls_key is None):
            return "give both --tls-cert and --tls-key (the certificate and its private key), or neither"
        if self.tls_cert is None and not is_loopback(self.host) and not insecure:
            return (f"refusing to serve on {self.host} without TLS: tokens would cross the network in clear; "
                    "give --tls-cert FILE --tls-key FILE, bind to 127.0.0.1, or pass --insecure on a network you trust")
        return None
