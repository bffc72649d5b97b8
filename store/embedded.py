"""Reaching a workspace's API: in this process, or over the socket of the process that hosts it.

The process that holds the workspace lock runs its engine. When another process holds it and
serves the workspace's Unix socket (``campaigns engine``, a console), commands talk to that
process with the same client instead of failing on the lock. The socket is created with mode
0600 inside the data directory: the OS account that owns the workspace is the one that may use it, unless
its host serves it to a group (store/shared_host.py); other accounts then reach it at ``DATA/engine.sock``.
Whoever connects, the kernel says which OS account it is (store/api/identity.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn

from .api import create_app
from .api.identity import USER_HEADER, OsAccountIdentity, TokenIdentity
from .clock import Clock
from .client import CampaignsClient
from .db.lock import read_holder
from .engine.engine import Engine
from .errors import Conflict, WorkspaceLocked
from .network import Listen
from .peer import PeerCredentialsProtocol
from .privacy import one_off_prefix, private_runtime_dir
from .shared_host import (
    MAX_SOCKET_PATH, SOCKET_NAME, account_name, group_id, open_directory_to, open_socket_to, owned_by_another, reach,
    shared_socket_path,
)
from .workspace import Workspace


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


def _client(transport: httpx.AsyncBaseTransport, user: str | None, *, remote: str | None = None,
            engine_here: bool = False) -> CampaignsClient:
    """Without ``user`` the caller acts as the workspace user its OS account maps to."""
    http = httpx.AsyncClient(transport=transport, base_url="http://campaigns.local",
                             headers={USER_HEADER: user} if user else {}, timeout=httpx.Timeout(60.0, connect=5.0))
    return CampaignsClient(http, remote=remote, engine_here=engine_here)


class _SocketServer(uvicorn.Server):
    """uvicorn without its own signal handling: the host decides how SIGTERM and Ctrl-C end it."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def serve_socket(app, path: Path, gid: int | None) -> tuple[_SocketServer, asyncio.Task]:
    """Bind the socket ourselves with mode 0600 (uvicorn would chmod its own to 0666), open it to the group
    if there is one, and serve on it; each request learns its peer's OS account (store/peer.py)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left by a crashed host; we hold the lock, so nobody else is serving it
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # born 0600: no window in which another account could connect
    try:
        sock.bind(str(path))
    finally:
        os.umask(previous)
    if gid is not None:
        open_socket_to(path, gid)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, http=PeerCredentialsProtocol)
    return await _start(config, sock)


async def serve_tcp(app, listen: Listen) -> tuple[_SocketServer, asyncio.Task]:
    """`campaigns serve`'s port (port 0 binds a free one, written back into ``listen``), TLS when given."""
    sock = socket.create_server((listen.host, listen.port), family=socket.AF_INET6 if ":" in listen.host
                                else socket.AF_INET)
    listen.port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            ssl_certfile=listen.tls_cert, ssl_keyfile=listen.tls_key)
    return await _start(config, sock)


async def _start(config: uvicorn.Config, sock: socket.socket) -> tuple[_SocketServer, asyncio.Task]:
    server = _SocketServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
    return server, task


async def _hosting(data_dir: Path, patience: float = 3.0) -> dict | None:
    """The lock holder's record once it serves its socket; a host that is still starting gets a moment."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        holder = read_holder(data_dir) or {}
        endpoint = holder.get("endpoint")
        if endpoint and Path(endpoint).exists():
            return holder
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(0.05)


@asynccontextmanager
async def connect(data_dir: Path, user: str | None = None, *, clock: Clock | None = None, host: bool = False,
                  new: bool = False, listen: Listen | None = None, group: str | None = None,
                  ) -> AsyncIterator[CampaignsClient]:
    """A client of the workspace in ``data_dir`` acting as ``user``.

    If the workspace is free it is opened here (embedded); with ``host`` this process also runs
    the engine's scheduler and serves the socket until the block ends. If another process hosts
    it, the client goes over that process's socket (``client.remote`` says where). With ``new`` the
    directory must be new or empty (a demo is seeded there, and must never mix with real data). With
    ``listen`` a host also serves the API over TCP, where bearer tokens say who is calling; with ``group`` it
    serves its socket to that group's members. Another OS account's workspace is reached through its socket.
    """
    data_dir = Path(data_dir).expanduser()
    if owned_by_another(data_dir):  # its owner's engine hosts it; this account is a client of that engine
        if new:
            raise Conflict(f"{data_dir} belongs to another OS account; give `--data` a new directory of yours")
        path = reach(data_dir)
        client = _client(httpx.AsyncHTTPTransport(uds=str(path)), user, remote=f"the shared engine ({path})")
        try:
            yield client
        finally:
            await client.aclose()
        return
    if new and data_dir.exists() and any(data_dir.iterdir()):
        raise Conflict(f"{data_dir} is not empty; give `--data` a new or empty directory for the demo workspace")
    gid = group_id(group) if group is not None else None
    try:
        ws = Workspace(data_dir, clock=clock)
    except WorkspaceLocked:
        holder = await _hosting(data_dir)
        if holder is None:
            raise
        endpoint = holder["endpoint"]
        client = _client(httpx.AsyncHTTPTransport(uds=endpoint), user,
                         remote=f"engine process {holder.get('pid')} ({endpoint})")
        try:
            yield client
        finally:
            await client.aclose()
        return
    engine = Engine(ws, processes=host)  # a host sends in child processes: its own interpreter stays free
    app = create_app(ws, engine)
    serving = []  # the socket's server (and the TCP one) with their tasks, when this process hosts the engine
    try:
        if host:
            path = socket_path(ws.data_dir) if gid is None else shared_socket_path(ws.data_dir)
            if gid is not None:
                assert group is not None
                open_directory_to(ws.data_dir, gid)
                ws.administration.record_shared(group, account_name(os.geteuid()))
            engine.start()
            serving.append(await serve_socket(create_app(ws, engine, OsAccountIdentity(peer=True)), path, gid))
            ws.lock.update({"endpoint": str(path)})
            if listen is not None:
                serving.append(await serve_tcp(create_app(ws, engine, TokenIdentity()), listen))
                ws.lock.update({"url": listen.url})
        client = _client(httpx.ASGITransport(app=app), user, engine_here=host)
        client.notices = ws.notices
        try:
            yield client
        finally:
            await client.aclose()
    finally:
        for server, _ in serving:
            server.should_exit = True  # all stop accepting at once
        for _, task in serving:
            await task
        if serving:
            ws.lock.update({"endpoint": None, "url": None})
            remove_socket(path)
        engine.shutdown()
        ws.close()


