"""Who is on the other end of the workspace socket, as the kernel says (Linux ``SO_PEERCRED``).

uvicorn does not put the peer's credentials in the ASGI scope, so its HTTP protocol is subclassed:
when a connection is made the peer's uid is read from the socket once, and every request on that
connection carries it under ``PEER_UID``. This relies on uvicorn's protocol classes (``connection_made``
and ``self.app``), which is why pyproject.toml pins uvicorn's version range.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from .api.identity import PEER_UID

_UCRED = struct.Struct("3i")  # pid, uid, gid


def peer_uid(sock: Any) -> int | None:
    """The connecting process's uid, or None when the socket cannot say (not a Unix socket)."""
    try:
        _, uid, _ = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    except (OSError, AttributeError, struct.error):
        return None
    return uid


class PeerCredentialsProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol, with the peer's uid in the scope of each request of the connection."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        uid = peer_uid(transport.get_extra_info("socket"))
        app = self.app  # type: ignore[has-type]  # uvicorn sets it untyped in __init__

        async def with_peer(scope: dict, receive: Any, send: Any) -> None:
            scope[PEER_UID] = uid
            await app(scope, receive, send)

        self.app = with_peer
