"""Opening a workspace in this process: its engine, its API in-process, and, for a host, the API served on the
workspace's Unix socket (and on a TCP port for `campaigns serve`). Imported only by the process that opens the
workspace: a command that talks to a running engine never loads the server side (FastAPI, uvicorn, the engine),
and one that opens it for itself loads no uvicorn (store/serving.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from .api import create_app
from .api.identity import OsAccountIdentity, TokenIdentity
from .client import CampaignsClient
from .clock import Clock
from .engine.engine import Engine
from .local_client import local_client, remove_socket, socket_path
from .network import Listen
from .shared_host import account_name, open_directory_to, shared_socket_path
from .workspace import Workspace


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
            from .serving import serve_socket, serve_tcp  # uvicorn: only a host serves

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


