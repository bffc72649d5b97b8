"""Store benchmarks: ``python bench/store_bench.py`` from the repo root.

One function per section (each prints its own table); ``main()`` runs them all.
Figures are wall-clock on this machine, one run: rough, but the ratios hold.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinydb import TinyDB  # noqa: E402
from tinydb.storages import JSONStorage  # noqa: E402

from store.db.table import JournalDB  # noqa: E402


def campaign_doc(n: int, rnd: random.Random) -> dict:
    """A campaign-like document of about 2 KB of JSON."""
    body = " ".join(rnd.choice(["hello", "{{first_name}}", "spring", "offer", "today", "shop"])
                    for _ in range(110))
    return {
        "name": f"Spring sale {n}",
        "status": rnd.choice(["draft", "ready", "scheduled", "sent"]),
        "channel": rnd.choice(["email", "sms", "push"]),
        "tags": [f"tag{rnd.randrange(50)}" for _ in range(4)],
        "owner": {"id": rnd.randrange(100), "name": "Alice Martin"},
        "schedule": {"kind": "once", "at": "2025-03-01T09:00:00Z", "zone": "Europe/Paris"},
        "revision": 1,
        "versions": [
            {"number": v, "created_at": "2025-02-01T10:00:00Z",
             "content": {"subject": f"Offer {n}.{v}", "body": body[: 300 + 100 * v]}}
            for v in range(1, 4)
        ],
    }


def _ms(seconds: float) -> float:
    return seconds * 1000


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def _timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


class _GilWatch:
    """Measures the longest time a thread that wants to run every millisecond waits for the GIL."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            time.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - start - 0.001)

    def __enter__(self) -> _GilWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _measure(kind: str, docs: list[dict], updates: int, listings: int, workdir: Path) -> dict:
    if kind == "journal":
        def open_db():
            return JournalDB(workdir / "journal")
    else:
        def open_db():
            return TinyDB(workdir / "stock.json", storage=JSONStorage)
    db = open_db()
    table = db.table("campaigns")
    table.insert_multiple(docs)
    if kind == "journal":
        db.storage.compact()  # the updates below are the journal's "typical changes"
    rnd = random.Random(7)
    ids = [rnd.randrange(1, len(docs) + 1) for _ in range(updates)]
    it = iter(ids)
    update = _timed(lambda: table.update({"status": "ready", "revision": 2}, doc_ids=[next(it)]), updates)
    listing = _timed(table.all, listings)  # also decodes every document: compaction below encodes all
    row = {"update_med": _ms(statistics.median(update)), "update_p99": _ms(_p99(update)),
           "updates": updates, "all_med": _ms(statistics.median(listing))}
    if kind == "journal":
        with _GilWatch() as watch:
            row["compact"] = _ms(_timed(db.storage.compact, 1)[0])
        row["gil"] = _ms(watch.worst)
        for n in ids:  # the journal holds typical changes again when closing and opening
            table.update({"status": "scheduled", "revision": 3}, doc_ids=[n])
    row["close"] = _ms(_timed(db.close, 1)[0])
    start = time.perf_counter()
    db = open_db()
    assert len(db.table("campaigns")) == len(docs)
    row["open"] = _ms(time.perf_counter() - start)
    db.close()
    return row


def catalogue(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> None:
    """Durable single-document update, list-all, open, close, compaction: JournalDB vs stock JSONStorage."""
    rnd = random.Random(1)
    print("Catalogue (TinyDB, ~2 KB campaign documents, fsync on every write; the journal holds 200 updates "
          "at close and open; stock JSONStorage only where cheap)")
    header = (f"{'docs':>7} {'storage':<15} {'update med':>11} {'update p99':>11} {'(n)':>5}"
              f" {'all() med':>10} {'open':>9} {'close':>9} {'compact':>9} {'GIL hold':>9}")
    print(header)
    print("-" * len(header))
    results = {}
    for size in sizes:
        docs = [campaign_doc(n, rnd) for n in range(size)]
        kinds = [("journal", "JournalDB", 200, 20)]
        if size <= 10_000:
            kinds.append(("stock", "JSONStorage", 50 if size <= 1_000 else 20, 10 if size <= 1_000 else 5))
        for kind, label, updates, listings in kinds:
            with tempfile.TemporaryDirectory() as tmp:
                row = results[size, kind] = _measure(kind, docs, updates, listings, Path(tmp))
            extra = (f"{row['compact']:7.1f}ms {row['gil']:7.1f}ms" if "compact" in row
                     else f"{'-':>9} {'-':>9}")
            print(f"{size:>7,} {label:<15} {row['update_med']:9.2f}ms {row['update_p99']:9.2f}ms"
                  f" {row['updates']:>5} {row['all_med']:8.2f}ms {row['open']:7.1f}ms {row['close']:7.1f}ms {extra}")
    with tempfile.TemporaryDirectory() as tmp, _GilWatch() as idle:
        fd = os.open(Path(tmp) / "f", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        line = b"x" * 2047 + b"\n"
        floor = _timed(lambda: (os.write(fd, line), os.fsync(fd)), 200)
        os.close(fd)
    print(f"floor: appending a 2 KB line and fsyncing it {_ms(statistics.median(floor)):.2f} ms median; "
          f"longest wake-up delay of the GIL watch with no compaction {_ms(idle.worst):.1f} ms")
    for size in sizes:
        if (size, "stock") in results:
            stock, journal = results[size, "stock"], results[size, "journal"]
            print(f"{size:>7,} docs: JournalDB update {stock['update_med'] / journal['update_med']:.0f}x faster, "
                  f"all() {stock['all_med'] / journal['all_med']:.0f}x faster")
    last = results[sizes[-1], "journal"]
    print(f"goals at {sizes[-1]:,} docs: update median <= 2 ms ({last['update_med']:.2f} ms), open < 1 s "
          f"({last['open']:.0f} ms), close < 0.2 s ({last['close']:.0f} ms)")


def workspace_catalogue(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> None:
    """The real catalogue (campaigns made through the lifecycle, each document checked): open and close."""
    from store.db.catalogue import Catalogue

    print("\nWorkspace catalogue (real campaigns and their audit events; the journal holds 200 saves)")
    header = (f"{'campaigns':>9} {'snapshot':>10} {'journal':>9} {'save med':>9} {'save p99':>9} {'open med':>9}"
              f" {'close':>9}")
    print(header)
    print("-" * len(header))
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "ws"
            _fill_workspace(data, size)
            catalogue = Catalogue(data)
            rnd = random.Random(5)
            campaigns = [catalogue.campaign(f"cmp-{rnd.randrange(1, size + 1)}") for _ in range(200)]
            saves = _timed(lambda: catalogue.save_campaign(campaigns.pop()), 200)
            close = _timed(catalogue.close, 1)[0]
            opens = []
            for _ in range(5):  # the journal as the session left it: nothing compacts at close
                start = time.perf_counter()
                catalogue = Catalogue(data)
                opens.append(time.perf_counter() - start)
                catalogue.close()
            opened = statistics.median(opens)
            snapshot = (data / "catalogue.json").stat().st_size / 1e6
            journal = (data / "catalogue.journal").stat().st_size / 1e6
            print(f"{size:>9,} {snapshot:8.1f}MB {journal:7.1f}MB {_ms(statistics.median(saves)):7.2f}ms {_ms(_p99(saves)):7.2f}ms"
                  f" {_ms(opened):7.1f}ms {_ms(close):7.1f}ms")


def _fill_workspace(data: Path, size: int) -> None:
    """``size`` campaigns made through the lifecycle, in one journal batch so filling is quick."""
    from store.lifecycle import ENGINE, ActivationOutcome
    from store.models import ChannelConfiguration, edit_from_document
    from store.workspace import Workspace

    ws = Workspace(data, founder="bench")
    rnd = random.Random(3)
    try:
        with ws.catalogue.atomic():
            for channel, sender in (("email", "news@shop.example"), ("sms", "SHOP"), ("push", "app")):
                ws.catalogue.channel_configurations.put(ChannelConfiguration(
                    id=f"{channel}-marketing", name=channel, channel=channel, category="marketing", sender=sender))
            for n in range(size):
                channel = rnd.choice(["email", "sms", "push"])
                body = " ".join(rnd.choice(["hello", "{{profile.person.name.firstName}}", "offer", "today"]) for _ in range(60))
                short = f'Offer {n} for {{{{profile.person.name.firstName | default: "you"}}}}'
                content = {"email": {"email": {"subject": f"Offer {n}", "body": body}},
                           "sms": {"sms": {"text": short}}, "push": {"push": {"title": f"Offer {n}", "body": short}}}[channel]
                # A third are activated: Scheduled for 2030 (an engine started on this workspace has
                # nothing due), a third of those already Completed.
                c = ws.lifecycle.create_campaign(ENGINE, edit_from_document({
                    "name": f"{rnd.choice(['Spring', 'Summer', 'Winter', 'Flash'])} sale {n}", "type": "action",
                    "category": "marketing", "tags": [f"t{rnd.randrange(30)}"],
                    "draft": {"channel": channel, "channel_configuration": f"{channel}-marketing", "content": content,
                              "schedule": {"start": "2030-01-07T09:00"}}}))
                if n % 3 == 0:
                    ws.lifecycle.activate_campaign(ENGINE, c.id, ActivationOutcome(scheduled=True))
                    if n % 9 == 0:
                        ws.lifecycle.engine_went_live(c.id)
                        ws.lifecycle.engine_completed(c.id, "bench")
    finally:
        ws.close()


def cli_list(sizes: tuple[int, ...] = (1_000, 10_000), repeat: int = 15) -> None:
    """The campaign list through the CLI's code path: embedded client → API → catalogue → typed rows."""
    import asyncio
    import subprocess

    from store.embedded import connect
    from store.listing import CampaignFilter
    from store.models import Channel

    print("\nCampaign list through the CLI's code path (in-process API, typed client)")
    header = f"{'campaigns':>9} {'filter':<28} {'rows':>6} {'median':>9} {'worst':>9}"
    print(header)
    print("-" * len(header))
    filters = (("default (hide finished)", CampaignFilter()),
               ("email + search 'sale 1'", CampaignFilter(channels=[Channel.email], search="sale 1")),
               ("all statuses", CampaignFilter(all=True)))
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "ws"
            _fill_workspace(data, size)

            async def measure():
                async with connect(data, "bench") as client:
                    for label, f in filters:
                        await client.list_campaigns(f)  # warm
                        samples, rows = [], 0
                        for _ in range(repeat):
                            client._lists.clear()  # the full path: no "not modified" shortcut
                            start = time.perf_counter()
                            rows = len(await client.list_campaigns(f))
                            samples.append(time.perf_counter() - start)
                        print(f"{size:>9,} {label:<28} {rows:>6,} {_ms(statistics.median(samples)):7.1f}ms"
                              f" {_ms(max(samples)):7.1f}ms")
                    await client.list_campaigns(filters[0][1])
                    start = time.perf_counter()
                    for _ in range(repeat):
                        await client.list_campaigns(filters[0][1])  # a refresh with nothing changed: 304
                    print(f"{size:>9,} {'refresh, nothing changed':<28} {'':>6} "
                          f"{_ms((time.perf_counter() - start) / repeat):7.1f}ms (mean)")

            asyncio.run(measure())
            cmd = [sys.executable, "-m", "console.cli", "--data", str(data), "--user", "bench", "list",
                   "--channel", "email", "--search", "sale 1", "--json"]
            whole = _timed(lambda: subprocess.run(cmd, check=True, capture_output=True), 5)
            print(f"{size:>9,} {'whole `campaigns list` process':<28} {'':>6} {_ms(statistics.median(whole)):7.1f}ms"
                  f" {_ms(max(whole)):7.1f}ms")
    print("goal: a filtered list of 10,000 campaigns through the CLI's code path < 200 ms")


def profiles(n: int = 1_000_000) -> None:
    from bench.profiles_bench import bench_profiles

    print()
    bench_profiles(n)


SECTIONS = {"catalogue": catalogue, "workspace": workspace_catalogue, "cli": cli_list, "profiles": profiles}


def main() -> None:
    parser = argparse.ArgumentParser(description="Store benchmarks; every section unless some are named.")
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=f"any of: {', '.join(SECTIONS)}")
    names = parser.parse_args().sections
    if unknown := sorted(set(names) - set(SECTIONS)):
        parser.error(f"no section {', '.join(unknown)}: choose among {', '.join(SECTIONS)}")
    for name in names or SECTIONS:
        SECTIONS[name]()


if __name__ == "__main__":
    main()
