"""Engine benchmarks: ``python bench/engine_bench.py [profiles]`` from the repo root.

(a) throughput of a personalized email run to the outbox over profiles in SQLite, beside a floor
    loop that only reads the same rows and writes as many lines; each in its own process for RSS;
(b) rate-control accuracy at 100 and 2,000 messages per second on the real clock;
(c) scheduling lateness: due time to first send, with the engine's scheduler thread running, also
    beside 100,000 campaigns;
(d) the idle scheduler at 1k / 10k / 100k campaigns (a third Scheduled for 2030, as store_bench fills
    them): how long start-up takes to schedule them, the longest it holds the interpreter meanwhile, and
    the CPU it burns afterwards (``python bench/engine_bench.py scheduler`` runs (c) at 100k and (d) only).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.store_bench import _fill_workspace  # noqa: E402
from store.engine.engine import Engine  # noqa: E402
from store.lifecycle import ENGINE  # noqa: E402
from store.models import ChannelConfiguration, edit_from_document  # noqa: E402
from store.models.audience import Audience  # noqa: E402
from store.import_chunks import iter_import_chunks  # noqa: E402
from store.profiles.generate import generate_profiles_csv  # noqa: E402
from store.models import Status  # noqa: E402
from store.workspace import Workspace  # noqa: E402

SUBJECT = 'Hi {{profile.person.name.firstName | default: "there"}}, your winter offer'
CACHE = Path(tempfile.gettempdir()) / "campaigns-bench"
IDLE_SECONDS = 30.0
BODY = ('<p>Hello {{profile.person.name.firstName | default: "there"}},</p><p>Your local time zone is '
        '{{profile.timeZone | default: "UTC"}}. Enjoy 20% off this week.</p>')


def _workspace(data: Path, profiles: int) -> None:
    ws = Workspace(data, founder="bench")
    try:
        csv = data.parent / "profiles.csv"
        generate_profiles_csv(csv, profiles, seed=5)
        for chunk in iter_import_chunks(csv):
            ws.profiles.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
        csv.unlink()
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id="email-transactional", name="Service", channel="email", category="transactional", sender="no-reply@shop.example"))
        ws.catalogue.audiences.put(Audience.model_validate({"id": "all", "name": "All", "rule": {"kind": "all"}}))
    finally:
        ws.close()


def _campaign(ws: Workspace, name: str, *, rate: int | None = None, start: datetime | None = None) -> str:
    draft = {"channel": "email", "channel_configuration": "email-transactional", "audience": "all",
             "content": {"email": {"subject": SUBJECT, "body": BODY}}}
    if rate:
        draft["rate_control"] = {"messages_per_second": rate}
    if start:
        draft["schedule"] = {"time_zone": "UTC", "start": start.isoformat()}
    return ws.lifecycle.create_campaign(ENGINE, edit_from_document(
        {"name": name, "type": "action", "category": "transactional", "draft": draft})).id


def child_engine(data: str) -> dict:
    """In a fresh process: activate and run the whole audience to the outbox."""
    ws = Workspace(Path(data))
    engine = Engine(ws)
    campaign_id = _campaign(ws, "Throughput")
    start = time.perf_counter()
    engine.activate(ENGINE, campaign_id)
    engine.run_until_idle()
    seconds = time.perf_counter() - start
    [run] = engine.ledger.runs(campaign_id)
    engine.shutdown()
    ws.close()
    return {"seconds": seconds, "sent": run.counters.sent, "targeted": run.counters.targeted,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_floor(data: str, lines: int) -> dict:
    """The floor: read the same rows from the same store and write as many lines, nothing else."""
    ws = Workspace(Path(data))
    paths = ["person.name.firstName", "timeZone"]
    out = Path(data) / "floor.jsonl"
    start = time.perf_counter()
    written = 0
    with open(out, "w") as f:
        for page in ws.profiles.iter_audience_rows({"kind": "all"}, chunk_size=2000, attributes=paths):
            for row in page:
                if written < lines:
                    f.write(f"{row[0]} {row[1]}\n")
                    written += 1
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - start
    ws.close()
    out.unlink()
    return {"seconds": seconds, "lines": written, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def throughput(profiles: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ws"
        _workspace(data, profiles)
        engine = _child("engine", str(data))
        floor = _child("floor", str(data), str(engine["sent"]))
    rate = engine["sent"] / engine["seconds"]
    floor_rate = floor["lines"] / floor["seconds"]
    print(f"(a) throughput to the outbox, {profiles:,} profiles in SQLite, personalized email (2 fields, 3 placeholders)")
    print(f"    engine: {engine['sent']:,} sent of {engine['targeted']:,} targeted in {engine['seconds']:.2f} s"
          f" = {rate:,.0f} messages/s ({engine['targeted'] / engine['seconds']:,.0f} profiles/s), peak RSS {engine['rss_mb']:.0f} MB")
    print(f"    floor:  {floor['lines']:,} rows read + lines written in {floor['seconds']:.2f} s = {floor_rate:,.0f} lines/s,"
          f" peak RSS {floor['rss_mb']:.0f} MB")
    print(f"    ratio:  engine takes {engine['seconds'] / floor['seconds']:.2f}x the floor's time"
          f"   (goals: >= 50,000 messages/s, within 3x of the floor, RSS < 500 MB)")


def rate_accuracy(rates: tuple[int, ...] = (100, 2000), seconds: float = 4.0) -> None:
    print("(b) rate control on the real clock")
    for per_second in rates:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "ws"
            _workspace(data, int(per_second * seconds))
            ws = Workspace(data)
            engine = Engine(ws)
            campaign_id = _campaign(ws, f"Rate {per_second}", rate=per_second)
            engine.activate(ENGINE, campaign_id)
            engine.run_until_idle()
            times = sorted(datetime.fromisoformat(m["sentAt"]).timestamp()
                           for m in engine.outbox.read({}, campaign_id=campaign_id, limit=10**7)[0])
            engine.shutdown()
            ws.close()
        worst, j = 0, 0
        for i, t in enumerate(times):  # the most sends in any window [t, t + 1 s)
            while j < len(times) and times[j] < t + 1.0:
                j += 1
            worst = max(worst, j - i)
        full_seconds = int(times[-1] - times[0])  # whole one-second buckets from the first send
        buckets = [0] * full_seconds
        for t in times:
            k = int(t - times[0])
            if k < full_seconds:
                buckets[k] += 1
        achieved = statistics.mean(buckets)
        print(f"    limit {per_second:>5}/s: {len(times):,} sends over {times[-1] - times[0]:.2f} s, achieved "
              f"{achieved:,.1f}/s on average over {full_seconds} whole seconds ({100 * (achieved / per_second - 1):+.2f}%),"
              f" worst one-second window {worst}")


def _catalogue_copy(size: int, into: Path) -> Path:
    """A workspace of ``size`` campaigns as store_bench fills them, plus what (c) sends with. Filling
    100,000 is slow, so it is built once into CACHE and copied for each measurement."""
    cached = CACHE / f"engine-{size}" / "ws"
    if not (cached.parent / "ready").exists():
        shutil.rmtree(cached.parent, ignore_errors=True)
        _fill_workspace(cached, size)
        _workspace(cached, 200)
        (cached.parent / "ready").touch()
    data = into / "ws"
    shutil.copytree(cached, data)
    return data


def _started(ws: Workspace, processes: bool = False) -> tuple[Engine, float, float]:
    """An engine started on the real clock, once it has scheduled every Scheduled campaign: with the
    seconds that took and the longest a thread asking for the interpreter every 5 ms waited meanwhile."""
    pending = [r.row["id"] for r in ws.catalogue.campaign_rows() if r.row["status"] == Status.scheduled.value]
    stalls, done = [0.0], threading.Event()

    def probe() -> None:  # what a console's event loop would feel
        while not done.is_set():
            before = time.perf_counter()
            time.sleep(0.005)
            stalls[0] = max(stalls[0], time.perf_counter() - before - 0.005)

    watcher = threading.Thread(target=probe, daemon=True)
    watcher.start()
    start = time.perf_counter()
    engine = Engine(ws, processes=processes)
    engine.start()
    while pending:
        pending = [i for i in pending if engine.next_fire(i) is None]
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return engine, seconds, stalls[0]


def lateness(campaigns: int = 12, processes: bool = False, beside: int = 0) -> None:
    """``beside``: that many campaigns in the workspace already (a third of them Scheduled)."""
    with tempfile.TemporaryDirectory() as tmp:
        if beside:
            data = _catalogue_copy(beside, Path(tmp))
        else:
            data = Path(tmp) / "ws"
            _workspace(data, 200)
        ws = Workspace(data)
        engine = _started(ws, processes)[0]
        base = datetime.now(timezone.utc) + timedelta(seconds=3 if beside else 1)
        due = {}
        for i in range(campaigns):
            when = base + timedelta(seconds=0.37 * i)
            campaign_id = _campaign(ws, f"Due {i}", start=when)
            engine.activate(ENGINE, campaign_id)
            due[campaign_id] = max(when, datetime.now(timezone.utc))  # activated late (slow writes): from then
        time.sleep(max(0.0, (base - datetime.now(timezone.utc)).total_seconds() + 0.37 * campaigns + 1.0))
        firsts: dict[str, datetime] = {}
        deadline = time.monotonic() + 60
        while len(firsts) < len(due) and time.monotonic() < deadline:  # a slow scheduler: wait, and say so
            for m in engine.outbox.read({}, limit=10**6)[0]:
                sent = datetime.fromisoformat(m["sentAt"])
                firsts[m["campaignId"]] = min(sent, firsts.get(m["campaignId"], sent))
            time.sleep(0.5)
        delays = [(firsts[c] - when).total_seconds() * 1000 for c, when in due.items() if c in firsts]
        engine.shutdown()
        ws.close()
    where = "runs in child processes, as a console or `campaigns engine` hosts them" if processes else "runs in threads"
    also = f", beside {beside:,} campaigns" if beside else ""
    print(f"(c) scheduling lateness, due time to first send, {campaigns} campaigns{also}, {where}: "
          f"median {statistics.median(delays):.1f} ms, worst {max(delays):.1f} ms"
          f"{f', {len(due) - len(delays)} not sent within a minute' if len(delays) < len(due) else ''}   (goal < 250 ms)")


def idle_scheduler(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), seconds: float = IDLE_SECONDS) -> None:
    print(f"(d) an idle engine (Engine.start, real clock, a third of the campaigns Scheduled for 2030), CPU over {seconds:.0f} s")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Workspace(_catalogue_copy(size, Path(tmp)))
            engine, startup, stall = _started(ws)
            cpu, wall = time.process_time(), time.perf_counter()
            time.sleep(seconds)
            share = (time.process_time() - cpu) / (time.perf_counter() - wall)
            engine.shutdown()
            ws.close()
        print(f"    {size:>7,} campaigns: {100 * share:5.2f}% of a core idle; start-up scheduled them in {startup:5.2f} s,"
              f" holding a 5 ms ticker back {1000 * stall:4.0f} ms at worst")
    print("    goal: under 1% of a core at 100,000 campaigns")


def main() -> None:
    profiles = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    throughput(profiles)
    rate_accuracy()
    lateness()
    lateness(processes=True)
    lateness(beside=100_000)
    idle_scheduler()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "engine":
        print(json.dumps(child_engine(sys.argv[2])))
    elif len(sys.argv) > 3 and sys.argv[1] == "floor":
        print(json.dumps(child_floor(sys.argv[2], int(sys.argv[3]))))
    elif sys.argv[1:] == ["scheduler"]:
        lateness(beside=100_000)
        idle_scheduler()
    else:
        main()
