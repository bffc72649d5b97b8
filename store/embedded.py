"""Reaching a workspace's API: in this process, or over the socket of the process that hosts it.

The process that holds the workspace lock runs its engine. When another process holds it and
serves the workspace's Unix socket (``campaigns engine``, a console), commands talk to that
process with the same client instead of failing on the lock. The socket is created with mode
0600 inside the data directory: the OS account that owns the workspace is the one that may use it, unless
its host serves it to a group (store/shared_host.py); other accounts then reach it at ``DATA/engine.sock``.
Whoever connects, the kernel says which OS account it is (store/api/identity.py). A command that finds the
workspace hosted goes straight to the socket without loading the server side (store/hosting.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from .client import CampaignsClient
from .clock import Clock
from .db.lock import read_holder
from .errors import Conflict, WorkspaceLocked
from .local_client import serving, socket_client
from .network import Listen
from .shared_host import group_id, owned_by_another, reach


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
        path, remote = str(reach(data_dir)), "the shared engine"
    else:
        if new and data_dir.exists() and any(data_dir.iterdir()):
            raise Conflict(f"{data_dir} is not empty; give `--data` a new or empty directory for the demo workspace")
        gid = group_id(group) if group is not None else None
        holder = read_holder(data_dir) or {}
        if not holder.get("endpoint") or not serving(holder["endpoint"]):  # nobody serves it: open it here
            from .hosting import open_here  # the server side, only for the process that opens the workspace

            stack = AsyncExitStack()
            try:
                client = await stack.enter_async_context(open_here(data_dir, user, clock=clock, host=host,
                                                                   listen=listen, group=group, gid=gid))
            except WorkspaceLocked:  # taken meanwhile: its host serves the socket in a moment
                holder = await _hosting(data_dir) or {}
                if not holder:
                    raise
            else:
                async with stack:
                    yield client
                return
        path, remote = holder["endpoint"], f"engine process {holder.get('pid')}"
    client = socket_client(path, user, remote=f"{remote} ({path})")
    try:
        yield client
    finally:
        await client.aclose()
