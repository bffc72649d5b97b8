"""Engine benchmarks: ``python bench/engine_bench.py [profiles]`` from the repo root.

(a) throughput of a personalized email run to the outbox over profiles in SQLite, beside a floor
    loop that only reads the same rows and writes as many lines; each in its own process for RSS;
(b) rate-control accuracy at 100 and 2,000 messages per second on the real clock;
(c) scheduling lateness: due time to first send, with the engine's scheduler thread running.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.engine.engine import Engine  # noqa: E402
from store.lifecycle import ENGINE  # noqa: E402
from store.models import ChannelConfiguration, edit_from_document  # noqa: E402
from store.models.audience import Audience  # noqa: E402
from store.import_chunks import iter_import_chunks  # noqa: E402
from store.profiles.generate import generate_profiles_csv  # noqa: E402
from store.workspace import Workspace  # noqa: E402

SUBJECT = 'Hi {{profile.person.name.firstName | default: "there"}}, your winter offer'
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


def lateness(campaigns: int = 12, processes: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "ws"
        _workspace(data, 200)
        ws = Workspace(data)
        engine = Engine(ws, processes=processes)
        engine.start()
        base = datetime.now(timezone.utc) + timedelta(seconds=1)
        due = {}
        for i in range(campaigns):
            when = base + timedelta(seconds=0.37 * i)
            campaign_id = _campaign(ws, f"Due {i}", start=when)
            engine.activate(ENGINE, campaign_id)
            due[campaign_id] = when
        time.sleep((base - datetime.now(timezone.utc)).total_seconds() + 0.37 * campaigns + 1.0)
        delays = []
        messages = engine.outbox.read({}, limit=10**6)[0]
        for campaign_id, when in due.items():
            first = min(datetime.fromisoformat(m["sentAt"]) for m in messages if m["campaignId"] == campaign_id)
            delays.append((first - when).total_seconds() * 1000)
        engine.shutdown()
        ws.close()
    where = "runs in child processes, as a console or `campaigns engine` hosts them" if processes else "runs in threads"
    print(f"(c) scheduling lateness, due time to first send, {campaigns} campaigns, {where}: "
          f"median {statistics.median(delays):.1f} ms, worst {max(delays):.1f} ms   (goal < 250 ms)")


def main() -> None:
    profiles = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    throughput(profiles)
    rate_accuracy()
    lateness()
    lateness(processes=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "engine":
        print(json.dumps(child_engine(sys.argv[2])))
    elif len(sys.argv) > 3 and sys.argv[1] == "floor":
        print(json.dumps(child_floor(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
