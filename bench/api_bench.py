"""API-triggered campaign throughput: ``python bench/api_bench.py [--seconds 10] [--concurrency 16]``.

Against a real `campaigns serve` on a demo workspace (seeded once in a temporary directory), ``--concurrency``
threads each send unitary triggers (one profile, a fresh request id) to the demo's Live "Password reset", for
``--seconds``, over loopback TCP with an api-client's bearer token, then over the workspace socket. It prints
the accepted calls per second, the p50/p99 latency of the 202, and the p99 from the 202 to the execution's
outcomes (its message is in the outbox before they are recorded), beside AJO's documented 500/s. Goals (issue
12): >= 1,000/s, p99 < 50 ms, 202-to-outbox p99 < 1 s; before executions: 137-231/s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent.parent
AJO_STANDARD_PER_SECOND = 500  # AJO's documented rate for standard API-triggered campaigns
GOALS = {"accepted/s": 1000, "p99 ms": 50, "202-to-outbox p99 ms": 1000}


def _campaigns(data: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", "--data", str(data), "--user", "root", *argv],
                          cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)}, capture_output=True, text=True,
                          check=True)


def _serve(data: Path) -> tuple[subprocess.Popen, dict]:
    from store.db.lock import read_holder

    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(data), "--user", "root", "serve",
                                "--port", "0"], cwd=HERE, env={**os.environ, "PYTHONPATH": str(HERE)},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        holder = read_holder(data) or {}
        if holder.get("pid") == process.pid and holder.get("url"):
            return process, holder
        time.sleep(0.05)
    raise SystemExit("campaigns serve did not start within 60 s")


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def measure(make_client, path: str, profiles: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    """Unitary triggers from ``concurrency`` threads for ``seconds``; every 20th call's outcome is followed."""
    latencies: list[float] = []
    followed: list[tuple[str, float]] = []
    counter = itertools.count()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker() -> None:
        with make_client() as client:
            while time.monotonic() < end:
                n = next(counter)
                started = time.monotonic()
                answer = client.post(path, json={"profiles": [profiles[n % len(profiles)]], "context": {"n": n},
                                                 "request_id": f"bench-{os.getpid()}-{time.time_ns()}-{n}"})
                accepted = time.monotonic()
                assert answer.status_code == 202, answer.text
                with lock:
                    latencies.append(accepted - started)
                    if n % 20 == 0:
                        followed.append((answer.json()["id"], accepted))

    to_outbox: list[float] = []

    def follower() -> None:
        """Polls the followed executions while the load runs: the first read that sees the outcomes (recorded
        right after the group's outbox fsync) bounds 202-to-outbox from above."""
        with make_client() as client:
            while time.monotonic() < end or followed:
                with lock:
                    pending = followed[:]
                for execution_id, accepted in pending:
                    if client.get(f"/v1/executions/{execution_id}").json()["status"] in ("succeeded", "failed"):
                        to_outbox.append(time.monotonic() - accepted)
                        with lock:
                            followed.remove((execution_id, accepted))
                time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)] + [threading.Thread(target=follower)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads[:-1]:
        t.join()
    elapsed = time.monotonic() - began
    threads[-1].join()
    return {"accepted/s": len(latencies) / elapsed, "p50 ms": 1000 * _percentile(latencies, 0.5),
            "p99 ms": 1000 * _percentile(latencies, 0.99), "202-to-outbox p99 ms": 1000 * _percentile(to_outbox, 0.99)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    from store.api.identity import USER_HEADER

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        _campaigns(data, "seed-demo")
        process, holder = _serve(data)
        try:
            token = _campaigns(data, "users", "add", "shop", "--role", "api-client").stdout.splitlines()[-1]
            rows = json.loads(_campaigns(data, "list", "--json", "--all").stdout)
            reset = next(r["id"] for r in rows if r["name"] == "Password reset")
            lines = (data / "outbox" / "email.jsonl").read_text().splitlines()
            profiles = list(dict.fromkeys(json.loads(line)["profileId"] for line in lines))[:50]
            path = f"/v1/campaigns/{reset}/trigger"
            transports = {
                "TCP + token": lambda: httpx.Client(base_url=holder["url"], headers={"Authorization": f"Bearer {token}"},
                                                    timeout=30),
                "socket": lambda: httpx.Client(transport=httpx.HTTPTransport(uds=holder["endpoint"]),
                                               base_url="http://campaigns.local", headers={USER_HEADER: "root"},
                                               timeout=30),
            }
            print(f"unitary triggers at concurrency {args.concurrency}, {args.seconds:g} s each "
                  f"(AJO documents {AJO_STANDARD_PER_SECOND}/s for standard API-triggered campaigns)")
            for name, make_client in transports.items():
                figures = measure(make_client, path, profiles, args.seconds, args.concurrency)
                print(f"{name:12} " + "  ".join(
                    f"{k} {v:,.0f}" + (f" (goal {'>=' if k == 'accepted/s' else '<'} {GOALS[k]:,})" if k in GOALS else "")
                    for k, v in figures.items()) + f"  [AJO {AJO_STANDARD_PER_SECOND}/s]")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
