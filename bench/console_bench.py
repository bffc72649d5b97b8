"""Console responsiveness with many campaigns: ``python bench/console_bench.py [--campaigns 100000]``.

(a) start to first painted list in a real terminal (tmux: from launching `campaigns` until the list
    shows), connected to a running `campaigns engine` and opening the workspace itself; and headless,
    in this process, connected to the engine;
(b) a keystroke in search, and (c) a sort key, each to the first repaint that shows it (median, worst),
    search also while the list changes (a campaign duplicated and the list reloaded every second);
(d) the memory (RSS) of the console in tmux connected to the engine, with its list on screen;
(e) the search keystrokes while the engine, in the console's process, sends a run (1,000,000 profiles by
    default) and the list refreshes every second, as it does for a person watching the send: rounds of
    keys until the run ends.

Filling a workspace is slow: ``--cache DIR`` keeps the filled one there and copies it for each run.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store_bench import _fill_workspace  # noqa: E402
from console.app import CampaignsApp  # noqa: E402
from console.widgets.campaign_table import CampaignTable  # noqa: E402
from console.widgets.filter_bar import FilterBar  # noqa: E402
from store.embedded import connect  # noqa: E402
from tests.processes import start_engine, stop_engine  # noqa: E402

QUERY = "sale 12"


def _listed(total: int) -> str:
    """What the filter bar says once the whole list is loaded."""
    return f"of {total:,} campaigns"


async def _painted(pilot, total: int) -> None:
    bar = pilot.app.screen.query_one(FilterBar)
    while _listed(total) not in str(bar.render()):
        await asyncio.sleep(0.005)
    await pilot.pause()  # one more refresh: the rows are on screen


async def _to_repaint(pilot, keys: list[str]) -> list[float]:
    """Per key: from pressing it to the first screen update that redrew the table after it.

    The table's ``render_line`` marks that the table was redrawn and the app's ``_display`` (the
    write of a composed update to the terminal) marks the repaint: Pilot's own waiting is not counted,
    only what the person at the terminal would wait for.
    """
    app, drawn, shown = pilot.app, [False], []
    render_line, display = CampaignTable.render_line, app._display

    def timed_line(self, y):
        drawn[0] = True
        return render_line(self, y)

    def timed_display(screen, renderable):
        display(screen, renderable)
        if drawn[0] and renderable is not None and not shown:
            shown.append(time.perf_counter())

    CampaignTable.render_line, app._display = timed_line, timed_display
    samples = []
    try:
        for key in keys:
            drawn[0] = False
            shown.clear()
            start = time.perf_counter()
            await pilot.press(key)
            deadline = time.perf_counter() + 10
            while not shown and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            samples.append(shown[0] - start if shown else float("nan"))
            await pilot.pause(0.05)
    finally:
        CampaignTable.render_line, app._display = render_line, display
    return samples


SEARCH_KEYS = [*("space" if c == " " else c for c in QUERY), *["backspace"] * len(QUERY)]
SORT_KEYS = ["o"] * 9 + ["O", "O"]  # every column in turn, then reversed and back


async def _changing(app, done: asyncio.Event) -> None:
    """Another user's changes: a campaign duplicated, and the list reloaded, every second (as the console does)."""
    screen = app.screen
    source = screen.all_rows[0].id
    while not done.is_set():
        await app.client.duplicate(source)
        screen.load_rows()
        await asyncio.sleep(1.0)


async def headless(data: Path, total: int) -> tuple[float, list[float], list[float], list[float]]:
    start = time.perf_counter()
    async with connect(data, "bench") as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            await _painted(pilot, total)
            first_paint = time.perf_counter() - start
            sorts = await _to_repaint(pilot, SORT_KEYS)
            await pilot.press("slash")
            keys = await _to_repaint(pilot, SEARCH_KEYS)
            done = asyncio.Event()
            changes = asyncio.create_task(_changing(app, done))
            try:
                changing = await _to_repaint(pilot, SEARCH_KEYS * 2)
            finally:
                done.set()
                await changes
            return first_paint, keys, changing, sorts


async def while_sending(data: Path) -> tuple[list[float], int]:
    """Key to repaint while the run sends: rounds of the search keys until the run ends (refreshes land among
    them); the samples, and how many were sent by the end of the last round."""
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
            samples: list[float] = []
            while not samples or engine.runs(campaign_id)[0].status.value in ("pending", "running"):
                samples += await _to_repaint(pilot, SEARCH_KEYS)
            sent = engine.runs(campaign_id)[0].counters.sent
            return samples, sent


def _tmux(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", *argv], capture_output=True, text=True)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def terminal_first_paint(data: Path, total: int, repeat: int = 3) -> tuple[list[float], list[float]]:
    """Seconds from launching `campaigns` in tmux to the list on screen, and the console's RSS (MB) then."""
    if shutil.which("tmux") is None:
        return [], []
    times, rss = [], []
    for i in range(repeat):
        name = f"campaigns-bench-{i}"
        _tmux("kill-session", "-t", name)
        start = time.perf_counter()
        deadline = start + 300
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                        f"exec {sys.executable} -m console.cli --data {data} --user bench"], check=True, cwd=ROOT)
        while _listed(total) not in _tmux("capture-pane", "-p", "-t", name).stdout:
            if _tmux("has-session", "-t", name).returncode or time.perf_counter() > deadline:
                _tmux("kill-session", "-t", name)
                raise SystemExit(f"the console in tmux did not show the list of {total:,} campaigns ({name})")
            time.sleep(0.005)
        times.append(time.perf_counter() - start)
        time.sleep(1.0)  # settled: what the console holds while it shows the list
        rss.append(_rss_mb(int(_tmux("display", "-p", "-t", name, "#{pane_pid}").stdout)))
        _tmux("send-keys", "-t", name, "q")
        while _tmux("has-session", "-t", name).returncode == 0:
            time.sleep(0.02)
    return times, rss


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, worst {max(values) * 1000:.1f} ms"


def _workspace(tmp: Path, size: int, cache: Path | None) -> Path:
    """A copy of a filled workspace of ``size`` campaigns (filled once into ``cache`` when given)."""
    filled = (cache or tmp) / f"campaigns-{size}"
    if not (filled / "catalogue.json").exists() and not (filled / "catalogue.journal").exists():
        _fill_workspace(filled, size)
    data = tmp / "ws"
    shutil.copytree(filled, data)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, help="keep the filled workspace here and copy it for each run")
    parser.add_argument("--no-send", action="store_true", help="skip (e), which builds --send-profiles profiles")
    parser.add_argument("--send-profiles", type=int, default=1_000_000, help="the size of (e)'s run")
    args = parser.parse_args()
    total = args.campaigns
    with tempfile.TemporaryDirectory() as tmp:
        data = _workspace(Path(tmp), total, args.cache)
        alone, _ = terminal_first_paint(data, total)
        engine = start_engine(data, user="bench")
        try:
            real, rss = terminal_first_paint(data, total, repeat=5)  # the first answer of a new engine is slow
            first, keys, changing, sorts = asyncio.run(headless(data, total))  # last: it adds campaigns
        finally:
            stop_engine(engine)
        print(f"{total:,} campaigns")
        if real:
            print(f"(a) first painted list in tmux, connected to a running engine: {_ms(real)} over {len(real)} starts")
            print(f"    in tmux, the console opening the workspace itself: {_ms(alone)} over {len(alone)} starts")
        print(f"    headless in this process, connected to the engine: {first * 1000:.0f} ms")
        print(f"(b) search keystroke to repaint: {_ms(keys)} over {len(keys)} keys")
        print(f"    while the list changes: {_ms(changing)} over {len(changing)} keys")
        print(f"(c) sort key to repaint: {_ms(sorts)} over {len(sorts)} keys")
        if rss:
            print(f"(d) console RSS in tmux, connected to the engine, list shown: {max(rss):.0f} MB")
        if not args.no_send:
            from bench.engine_bench import _workspace as profiles_workspace

            big = Path(tmp) / "big"
            shutil.copytree(data, big, ignore=shutil.ignore_patterns("profiles.sqlite3*", "lock", "engine.*"))
            profiles_workspace(big, args.send_profiles)
            samples, sent = asyncio.run(while_sending(big))
            print(f"(e) search keystroke to repaint while the engine sends a {args.send_profiles:,}-profile run in this"
                  f" process: {_ms(samples)} over {len(samples)} keys ({sent:,} sent by the end)")
        print("goals at 100,000: first paint in tmux < 2 s median; keystroke < 100 ms worst; sort < 300 ms; RSS < 400 MB")


if __name__ == "__main__":
    main()
