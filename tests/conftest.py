"""Shared fixtures: a catalogue with a frozen clock, and users of every role."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from store.administration import Administration
from store.clock import FrozenClock
from store.db.catalogue import Catalogue
from store.lifecycle import Lifecycle
from store.models import ChannelConfiguration, Role, User

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def users() -> dict[str, User]:
    return {
        "admin": User(name="ada", role=Role.admin),
        "manager": User(name="max", role=Role.manager),
        "manager2": User(name="mia", role=Role.manager),
        "approver": User(name="apo", role=Role.approver),
        "approver2": User(name="ari", role=Role.approver),
        "viewer": User(name="vic", role=Role.viewer),
    }


@pytest.fixture
def catalogue(tmp_path, users):
    cat = Catalogue(tmp_path)
    for u in users.values():
        cat.users.put(u)
    for channel, sender in (("email", "news@shop.example"), ("sms", "SHOP"), ("push", "shop-app")):
        for category in ("marketing", "transactional"):
            cat.channel_configurations.put(ChannelConfiguration(
                id=f"{channel}-{category}", name=f"{channel} {category}", channel=channel, category=category, sender=sender))
    yield cat
    cat.close()


@pytest.fixture
def lifecycle(catalogue, clock) -> Lifecycle:
    return Lifecycle(catalogue, clock)


@pytest.fixture
def admin(catalogue, clock) -> Administration:
    return Administration(catalogue, clock)


@pytest.fixture
async def workspace(tmp_path, clock):
    """A real workspace (journaled catalogue, SQLite profiles, lock) founded by `root`."""
    from store.workspace import Workspace

    ws = Workspace(tmp_path / "ws", clock=clock, founder="root")
    yield ws
    ws.close()


@pytest.fixture
def engine(workspace):
    """The workspace's engine on the frozen clock: tests call ``run_until_idle`` after moving the clock."""
    from store.engine.engine import Engine

    eng = Engine(workspace)
    yield eng
    eng.shutdown()


@pytest.fixture
async def root(client_as):
    """An admin's client on a workspace prepared for engine tests (tests/engine_setup.py)."""
    from .engine_setup import prepare

    client = client_as("root")
    await prepare(client)
    return client


@pytest.fixture
def client_as(workspace, engine):
    """Clients of the workspace's API acting as a given user, in-process like the embedded default."""
    import httpx

    from store.api import create_app
    from store.api.identity import USER_HEADER
    from store.client import CampaignsClient

    app = create_app(workspace, engine)
    made: list[CampaignsClient] = []

    def make(name: str) -> CampaignsClient:
        made.append(CampaignsClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://test", headers={USER_HEADER: name})))
        return made[-1]

    yield make
