"""Opening a workspace in this process: its engine, its API in-process, and, for a host, the API served on the
workspace's Unix socket (and on a TCP port for `campaigns serve`). Imported only by the process that opens the
workspace: a command that talks to a running engine never loads the server side (FastAPI, uvicorn, the engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn

from .api import create_app
from .api.identity import OsAccountIdentity, TokenIdentity
from .client import CampaignsClient
from .clock import Clock
from .engine.engine import Engine
from .local_client import local_client, remove_socket, socket_path
from .network import Listen
from .peer import PeerCredentialsProtocol
from .shared_host import account_name, open_directory_to, open_socket_to, shared_socket_path
from .workspace import Workspace


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


@asynccontextmanager
async def open_here(data_dir: Path, user: str | None, *, clock: Clock | None, host: bool, listen: Listen | None,
                    group: str | None, gid: int | None) -> AsyncIterator[CampaignsClient]:
    """A client of the workspace in ``data_dir``, opened in this process (``WorkspaceLocked`` when another
    holds it); the options are ``store.embedded.connect``'s."""
    ws = Workspace(data_dir, clock=clock)
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
        client = local_client(httpx.ASGITransport(app=app), user, engine_here=host)
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


