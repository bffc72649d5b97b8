"""A lost engine is told in words (what happened, how to bring it back), and the header's engine PID follows
an engine started again: the console against a real `campaigns engine` process, stopped and restarted."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import pytest

from console.app import CampaignsApp
from console.engine_lost import lost_engine
from store.embedded import connect
from store.local_client import socket_client

from .console_support import copy_workspace, frozen, seed_demo, settle, wait_for
from .processes import start_engine, stop_engine


async def _transport_error(client) -> httpx.TransportError:
    try:
        await client.me()
    except httpx.TransportError as error:
        return error
    finally:
        await client.aclose()
    raise AssertionError("the call reached an engine")


def test_a_socket_left_behind_by_a_dead_engine_is_told_in_words(tmp_path):
    path = tmp_path / "engine.sock"
    left = socket.socket(socket.AF_UNIX)
    left.bind(str(path))  # bound, never listening: what a killed engine leaves
    left.close()
    error = asyncio.run(_transport_error(socket_client(path, None, remote=f"engine process 4242 ({path})")))
    words = lost_engine(error, remote=f"engine process 4242 ({path})", data_dir="/srv/my campaigns")
    assert "Errno" not in words
    assert words.startswith("The engine that hosted this workspace stopped (its socket is left behind")
    assert "campaigns engine --data '/srv/my campaigns'" in words and "reopen the console to host it here" in words


def test_a_server_that_refuses_is_named_with_who_starts_it_again():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed on leaving: nothing listens there
    url = f"http://127.0.0.1:{port}"
    client = httpx.AsyncClient(base_url=url)

    async def call() -> httpx.TransportError:
        try:
            await client.get("/v1/me")
        except httpx.TransportError as error:
            return error
        finally:
            await client.aclose()
        raise AssertionError("something answered")

    words = lost_engine(asyncio.run(call()), remote=url, data_dir="/srv/ws")
    assert words == (f"The server at {url} refuses connections (nothing listens on that port). Whoever runs "
                     "`campaigns serve` there starts it again; the console reconnects by itself.")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("engine-lost") / "demo", frozen())


def header(app) -> str:
    return str(app.screen.query_one("#header").render())


@pytest.mark.slow
async def test_a_stopped_engine_is_told_in_words_and_the_header_follows_the_one_started_again(demo, tmp_path):
    data = copy_workspace(demo, tmp_path / "ws")
    engine = start_engine(data)
    try:
        async with connect(data, "root") as client:
            app = CampaignsApp(client, refresh_seconds=0.3)
            async with app.run_test(size=(120, 36)) as pilot:
                await settle(pilot)
                assert f"engine: engine process {engine.pid} (" in header(app)

                assert stop_engine(engine)[0] == 0  # its socket goes with it
                await wait_for(pilot, lambda: app.connection_problem != "", "the lost-engine banner")
                banner = str(app.screen.query_one("ConnectionBanner").render())
                assert "Errno" not in banner
                assert banner.startswith("The engine that hosted this workspace stopped (its socket is gone). "
                                         f"Start it again with `campaigns engine --data {data}`, or quit and "
                                         "reopen the console to host it here. Retrying every second")

                engine = start_engine(data)  # a new process, on the same socket
                await wait_for(pilot, lambda: f"engine process {engine.pid} (" in header(app),
                               "the header to show the new engine's PID", timeout=20)
                assert not app.screen.query_one("ConnectionBanner").has_class("-lost")
    finally:
        stop_engine(engine, signal.SIGKILL)
