"""Console responsiveness with 10,000 campaigns: ``python bench/console_bench.py``.

(a) start to first painted list: headless in this process (app start until the table is painted
    with its rows), and in a real terminal (tmux: from launching `campaigns` until the list shows);
(b) a keystroke in search to the repainted table (median, worst over a typed and erased query);
(c) the same keystrokes while the engine, in the console's process, sends a 300,000-profile run.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.store_bench import _fill_workspace  # noqa: E402
from console.app import CampaignsApp  # noqa: E402
from console.widgets.campaign_table import CampaignTable  # noqa: E402
from store.embedded import connect  # noqa: E402

QUERY = "sale 12"


async def _painted(pilot, expected: int) -> None:
    while len(pilot.app.screen.query_one(CampaignTable).rows) < expected:
        await asyncio.sleep(0.005)
    await pilot.pause()  # one more refresh: the rows are on screen


async def _keystrokes(pilot) -> list[float]:
    """Per key: from the key's dispatch to the last table line drawn for it (the repaint the user sees).

    The table's ``render_line`` is timed: Textual draws on its own refresh timer, so the pilot's own
    waiting is not counted, only what the person at the terminal would wait for.
    """
    drawn: list[float] = []
    original = CampaignTable.render_line

    def timed(self, y):
        strip = original(self, y)
        drawn.append(time.perf_counter())
        return strip

    CampaignTable.render_line = timed
    samples = []
    try:
        for key in [*QUERY.replace(" ", "_"), *["backspace"] * len(QUERY)]:
            drawn.clear()
            start = time.perf_counter()
            await pilot.press("space" if key == "_" else key)
            await pilot.pause(0.25)
            samples.append(max(drawn) - start if drawn else float("nan"))
    finally:
        CampaignTable.render_line = original
    return samples


async def headless(data: Path, shown: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    async with connect(data, "bench") as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            await _painted(pilot, shown)
            first_paint = time.perf_counter() - start
            await pilot.press("slash")
            return first_paint, await _keystrokes(pilot)


async def while_sending(data: Path) -> tuple[list[float], int]:
    from bench.engine_bench import _campaign
    from store.lifecycle import ENGINE

    async with connect(data, "bench", host=True) as client:
        app = CampaignsApp(client, refresh_seconds=1.0)
        async with app.run_test(size=(120, 40)) as pilot:
            ws = client.http._transport.app.state.workspace
            engine = client.http._transport.app.state.engine
            campaign_id = _campaign(ws, "Big send")
            engine.activate(ENGINE, campaign_id)
            await asyncio.sleep(0.5)  # the run is under way in the engine's thread
            await pilot.press("slash")
            samples = await _keystrokes(pilot)
            sent = engine.runs(campaign_id)[0].counters.sent
            return samples, sent


def terminal_first_paint(data: Path, shown: int, repeat: int = 3) -> list[float]:
    if shutil.which("tmux") is None:
        return []
    times = []
    for i in range(repeat):
        name = f"campaigns-bench-{i}"
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                        f"{sys.executable} -m console.cli --data {data} --user bench"], check=True,
                       cwd=Path(__file__).resolve().parent.parent)
        while f"{shown:,} of 10,000 campaigns" not in subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout:
            time.sleep(0.005)
        times.append(time.perf_counter() - start)
        subprocess.run(["tmux", "send-keys", "-t", name, "q"])
        while subprocess.run(["tmux", "has-session", "-t", name], capture_output=True).returncode == 0:
            time.sleep(0.02)
    return times


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, worst {max(values) * 1000:.1f} ms"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ws"
        _fill_workspace(data, 10_000)
        shown = 8_888  # finished campaigns are hidden by default
        first, keys = asyncio.run(headless(data, shown))
        print(f"(a) first painted list, 10,000 campaigns, headless in-process: {first * 1000:.0f} ms")
        real = terminal_first_paint(data, shown)
        if real:
            print(f"    in a real terminal (tmux, process start to list on screen): {_ms(real)} over {len(real)} starts")
        print(f"(b) search keystroke to repainted table: {_ms(keys)} over {len(keys)} keys")
        from bench.engine_bench import _workspace as profiles_workspace

        big = Path(tmp) / "big"
        shutil.copytree(data, big, ignore=shutil.ignore_patterns("profiles.sqlite3*", "lock", "engine.*"))
        profiles_workspace(big, 300_000)
        samples, sent = asyncio.run(while_sending(big))
        print(f"(c) the same keystrokes while the engine sends a 300,000-profile run in this process: {_ms(samples)}"
              f" ({sent:,} sent by the end)")
        print("goals: first paint < 1.5 s; keystroke < 100 ms")


if __name__ == "__main__":
    main()
