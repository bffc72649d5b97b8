"""Serving a workspace's API with uvicorn: on its Unix socket (a host) and on a TCP port (`campaigns serve`).
Imported only by a process that hosts the engine: one that opens the workspace for a command needs none of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

import uvicorn

from .network import Listen
from .peer import PeerCredentialsProtocol
from .shared_host import open_socket_to


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
    # accepted connections inherit it: asyncio sets it only on sockets made with proto IPPROTO_TCP, and
    # create_server's are proto 0, so a response's second write waited out the client's delayed ACK (40 ms)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
