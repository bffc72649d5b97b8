"""Running the console against a real workspace in tests: a seeded demo, and a client built without
an event loop (snapshot tests run the app in their own loop)."""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import httpx

from console.app import CampaignsApp
from store.api import create_app
from store.api.identity import USER_HEADER
from store.client import CampaignsClient
from store.clock import FrozenClock
from store.engine.engine import Engine
from store.workspace import Workspace

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def frozen() -> FrozenClock:
    return FrozenClock(T0)


def seed_demo(path: Path, clock=None) -> Path:
    """The demo workspace, seeded through the API as `campaigns seed-demo` does (deterministic on a frozen clock)."""
    import asyncio

    ws = Workspace(path, clock=clock, founder="root")
    engine = Engine(ws)
    try:
        client = _client(ws, engine, "root")
        asyncio.run(client.seed_demo())
    finally:
        engine.shutdown()
        ws.close()
    return path


def seeded_by_cli(path: Path) -> Path:
    """The demo exactly as `campaigns seed-demo` makes it (real clock)."""
    from console.cli import main

    assert main(["--data", str(path), "--user", "root", "seed-demo"]) == 0
    return path


def copy_workspace(template: Path, path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(template, path)
    return path


def _client(ws: Workspace, engine: Engine, user: str) -> CampaignsClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ws, engine)), base_url="http://test",
                             headers={USER_HEADER: user})
    return CampaignsClient(http)


@contextmanager
def console(data: Path, user: str = "root", *, clock=None, refresh_seconds: float = 3600):
    """(app, workspace, engine): an app whose client reaches this workspace in-process."""
    ws = Workspace(data, clock=clock)
    engine = Engine(ws)
    try:
        yield CampaignsApp(_client(ws, engine, user), refresh_seconds=refresh_seconds), ws, engine
    finally:
        engine.shutdown()
        ws.close()


async def settle(pilot, timeout: float = 30.0) -> None:
    """Until the console is quiet on two looks in a row: every worker (API call) has finished, or those
    left wait for the dialog on screen to be answered (``push_screen_wait``). Two looks, because a worker
    that ends may post a message that starts the next one."""
    from textual.screen import ModalScreen

    def quiet() -> bool:
        return isinstance(pilot.app.screen, ModalScreen) or all(w.is_finished for w in pilot.app.workers)

    deadline = time.monotonic() + timeout
    looks = 0
    while looks < 2:
        await pilot.pause()
        looks = looks + 1 if quiet() else 0
        assert time.monotonic() < deadline, "timed out waiting for the console's workers to finish"


async def wait_for(pilot, predicate, what: str, timeout: float = 30.0) -> None:
    """Pause until ``predicate()`` holds: a dialog opened by a worker, a row refreshed by a timer."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def open_dialog(pilot, key: str):
    """Press a key that opens a confirmation (from a worker) and return the dialog."""
    from textual.screen import ModalScreen

    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModalScreen), f"a dialog after {key!r}")
    await pilot.pause()
    return pilot.app.screen


def screen_text(app) -> str:
    """What the terminal shows, as text (from the SVG screenshot): for asserting on rendered tables."""
    import html
    import re

    rows: dict[str, list[str]] = {}
    for y, text in re.findall(r'<text[^>]*\sy="([\d.]+)"[^>]*>(.*?)</text>', app.export_screenshot()):
        rows.setdefault(y, []).append(html.unescape(text).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(rows.items(), key=lambda kv: float(kv[0])))
