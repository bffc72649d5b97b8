"""The console as a client of an engine hosted by another process (`campaigns engine`): the header says
so, engine changes appear without a key press, and a lost engine shows a banner until it is back."""

from __future__ import annotations

import signal

import pytest

from console.app import CampaignsApp
from console.widgets.campaign_table import CampaignTable
from store.embedded import connect
from store.models import Status

from .console_support import copy_workspace, frozen, seed_demo, settle, wait_for
from .processes import start_engine, stop_engine

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("remote") / "demo", frozen())


@pytest.mark.slow
async def test_remote_engine_changes_appear_and_a_lost_engine_shows_a_banner(demo, tmp_path):
    data = copy_workspace(demo, tmp_path / "ws")
    engine = start_engine(data)
    try:
        async with connect(data, "root") as client, connect(data, "alice") as other:
            assert client.remote and "engine process" in client.remote
            app = CampaignsApp(client, refresh_seconds=0.3)
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot)
                assert "engine: engine process" in str(app.screen.query_one("#header").render())
                table = app.screen.query_one(CampaignTable)
                contest = next(r for r in table.rows if r.name == "Win a trip contest")
                table.select_id(contest.id)
                await pilot.pause()
                await other.activate(contest.id)  # someone else, in another terminal
                await wait_for(pilot, lambda: table.selected is not None and table.selected.status is Status.live
                               and table.selected.last_run is not None and table.selected.last_run.sent > 0,
                               "the engine's changes in the list")
                assert table.selected.id == contest.id  # the cursor stayed on its campaign

                assert stop_engine(engine)[0] == 0
                await wait_for(pilot, lambda: app.connection_problem != "", "the lost-engine banner")
                assert app.screen.query_one("ConnectionBanner").has_class("-lost")
                engine = start_engine(data)  # back on the same socket
                await wait_for(pilot, lambda: app.connection_problem == "", "the banner to go", timeout=20)
                assert not app.screen.query_one("ConnectionBanner").has_class("-lost")
    finally:
        stop_engine(engine, signal.SIGKILL)
