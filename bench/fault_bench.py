"""Faults, repeated: the figures behind issue 8's items 1 to 3.

(a) SIGKILL of only the host mid-send, then `campaigns engine` at once: duplicates, missing profiles, senders
    that outlived their host, and the busiest one-second window against the rate limit; 10 times unthrottled
    (200,000 profiles) and 10 times throttled (1,000/s).
(b) SIGKILL of only the sending child, 3 times in one run: how long the host took to resume the run in a new
    sender (goal: within a second), duplicates, and whether Ctrl-C still stops the host.
(c) A gateway that accepts and never answers, beside seven outbox campaigns: how long the seven took, and how
    long a stop on the hung campaign took to end its run (goal: 1 s, plus starting nothing new).

    python bench/fault_bench.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fault_support import build, kill_host_then_restart, kill_sender_repeatedly, run_state  # noqa: E402
from tests.processes import campaigns, start_engine, stop_engine, wait_until  # noqa: E402
from tests.servers import SilentServer  # noqa: E402
from tests.test_faults import hung_gateway_workspace  # noqa: E402


def kills_of_the_host(tmp: Path, repeats: int, *, rate: int | None, profiles: int, after: int) -> None:
    pristine = tmp / f"pristine-{rate}"
    campaign_id = build(pristine, tmp, profiles, rate=rate)
    totals = {"duplicates": 0, "missing": 0, "orphans": 0}
    windows = []
    for i in range(repeats):
        data = tmp / f"host-{rate}-{i}"
        shutil.copytree(pristine, data)
        seen = kill_host_then_restart(data, campaign_id, after_lines=after)
        assert seen["status"] == "completed", seen
        for key in totals:
            totals[key] += seen[key]
        windows.append(seen["worst_window"])
        shutil.rmtree(data)
    limit = f"limit {rate}/s" if rate else "no limit"
    print(f"(a) host SIGKILLed mid-send, {profiles:,} profiles, {limit}, {repeats} times: "
          f"{totals['duplicates']} duplicates, {totals['missing']} missing, {totals['orphans']} senders outlived their host"
          + (f", busiest one-second window {max(windows)} (goal <= {rate})" if rate else ""))


def kills_of_the_sender(tmp: Path, repeats: int) -> None:
    pristine = tmp / "pristine-sender"
    campaign_id = build(pristine, tmp, 20_000, rate=2_000)
    replaced, duplicates, exits, windows = [], 0, set(), []
    for i in range(repeats):
        data = tmp / f"sender-{i}"
        shutil.copytree(pristine, data)
        seen = kill_sender_repeatedly(data, campaign_id, kills=3)
        assert seen["status"] == "completed", seen
        replaced += seen["replaced"]
        duplicates += seen["duplicates"] + seen["missing"]
        exits.add(seen["exit"])
        windows.append(seen["worst_window"])
        shutil.rmtree(data)
    print(f"(b) sending child SIGKILLed 3 times a run, {repeats} runs: run resumed in a new sender after "
          f"median {statistics.median(replaced) * 1000:.0f} ms, worst {max(replaced) * 1000:.0f} ms (goal < 1 s); "
          f"{duplicates} duplicates or missing; busiest one-second window {max(windows)} (limit 2000); "
          f"Ctrl-C exit codes {sorted(exits)}")


def hung_gateway(tmp: Path) -> None:
    with SilentServer() as gateway:
        _hung_gateway(tmp, gateway)


def _hung_gateway(tmp: Path, gateway: SilentServer) -> None:
    data = tmp / "hung"
    ids = hung_gateway_workspace(data, gateway.port)
    started = time.monotonic()
    host = start_engine(data)
    try:
        quick = [cid for name, cid in ids.items() if name.startswith("Quick")]
        wait_until(lambda: all((run_state(data, cid) or ("",))[0] == "completed" for cid in quick), "the seven")
        seven = time.monotonic() - started
        hung = [run_state(data, ids[f"Hung {i}"])[0] for i in range(2)]
        wait_until(lambda: gateway.peers, "the hung gateway to hold a connection")
        before = time.monotonic()
        campaigns("--data", str(data), "--user", "root", "stop", ids["Hung 0"], check=True)
        asked = time.monotonic()
        wait_until(lambda: run_state(data, ids["Hung 0"])[0] == "stopped", "the stop", every=0.005)
        ended = time.monotonic()
    finally:
        stop_engine(host)
    print(f"(c) two campaigns on a hung SMTP gateway beside seven outbox campaigns: the seven finished "
          f"{seven:.1f} s after the engine started (the hung ones were then {hung}); a stop on a hung one ended its "
          f"run {ended - asked:.2f} s after `campaigns stop` returned ({ended - before:.2f} s including the command)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        kills_of_the_host(tmp, args.repeats, rate=None, profiles=200_000, after=20_000)
        kills_of_the_host(tmp, args.repeats, rate=1_000, profiles=5_000, after=1_000)
        kills_of_the_sender(tmp, max(1, args.repeats // 3))
        hung_gateway(tmp)


if __name__ == "__main__":
    main()
