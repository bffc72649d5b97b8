"""The client of a workspace on this machine, in this process or over its host's Unix socket, and where that
socket lives: light enough for a command that only talks to a running engine (no server side imported)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
from pathlib import Path

import httpcore
import httpx

from .client import CampaignsClient
from .privacy import one_off_prefix, private_runtime_dir
from .shared_host import MAX_SOCKET_PATH, SOCKET_NAME

USER_HEADER = "X-Campaigns-User"  # the workspace user a local caller plays (the API checks it may)


def local_client(transport: httpx.AsyncBaseTransport, user: str | None, *, remote: str | None = None,
                 engine_here: bool = False) -> CampaignsClient:
    """Without ``user`` the caller acts as the workspace user its OS account maps to. Proxies from the
    environment are ignored: they would carry a call meant for this machine's engine elsewhere."""
    http = httpx.AsyncClient(transport=transport, base_url="http://campaigns.local", trust_env=False,
                             headers={USER_HEADER: user} if user else {}, timeout=httpx.Timeout(60.0, connect=5.0))
    return CampaignsClient(http, remote=remote, engine_here=engine_here)


class SocketTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a Unix socket, without TLS. The peer is the local engine, which the socket's file
    modes and the kernel's ``SO_PEERCRED`` vouch for, and the bytes never leave the machine, so there is nothing
    for TLS to do; yet httpx's constructor always builds an SSL context (10-30 ms of a command's start, even with
    ``verify=False``). Its connection pool is made here instead: ``_pool`` is all the transport uses."""

    def __init__(self, path: str) -> None:  # httpx's __init__ is skipped on purpose: it builds the context
        self._pool = httpcore.AsyncConnectionPool(uds=path)


def socket_client(path: str | Path, user: str | None, *, remote: str) -> CampaignsClient:
    """A client over a host's Unix socket."""
    return local_client(SocketTransport(str(path)), user, remote=remote)


def serving(path: str | Path) -> bool:
    """Whether a process listens on the socket at ``path`` (a crashed host leaves the file behind)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def socket_path(data_dir: Path) -> Path:
    """``DATA/engine.sock``, or a per-workspace name in the user's private runtime directory when that
    path is too long (clients read it from the lock's ``endpoint``, so any private directory will do)."""
    path = Path(data_dir) / SOCKET_NAME
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return private_runtime_dir() / f"{digest}.sock"


def remove_socket(path: Path) -> None:
    """Remove a served socket, and the directory made for it alone when it was a one-off fallback."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if path.parent.name.startswith(one_off_prefix()):
        with contextlib.suppress(OSError):
            path.parent.rmdir()
