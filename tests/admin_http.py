"""Raw HTTP to a real workspace's API as its founding admin, in-process: what another system would send."""

from __future__ import annotations

import httpx
import pytest

from store.api import create_app
from store.api.identity import USER_HEADER


@pytest.fixture
async def http(workspace, engine):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(workspace, engine)),
                                 base_url="http://test", headers={USER_HEADER: "root"}) as client:
        yield client
