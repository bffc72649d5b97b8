"""Command-line start-up figures: ``python bench/cli_bench.py [--root CHECKOUT] [--runs 10]``.

A command is a whole process, so the figure is its whole wall-clock time, interpreter start included, as an
operator waits for it: the median of ``--runs`` fresh processes each. On a demo workspace (seeded once in a
temporary directory) it times `campaigns list --json` through a running `campaigns engine` (the socket client)
and embedded (this process opens the workspace), `campaigns --help`, and the import of ``console.cli`` as
``python -X importtime`` totals it. ``--root`` measures another checkout (e.g. a `git worktree` of the
baseline) with this interpreter. Goals (issue 11): under 0.3 s through the engine, under 0.5 s embedded, import
under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
GOALS = {"list --json via engine": 0.3, "list --json embedded": 0.5, "import console.cli": 0.150}


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root)}


def _campaigns(*argv: str) -> list[str]:
    return [sys.executable, "-m", "console.cli", *argv]


def _timed_runs(root: Path, argv: list[str], runs: int) -> float:
    """The median wall-clock time of ``runs`` fresh processes of ``argv``, each checked to succeed."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=root, env=_env(root), capture_output=True)
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[2:])} failed: {done.stderr.decode(errors='replace')}")
    return statistics.median(samples)


def import_seconds(root: Path, runs: int) -> float:
    """``import console.cli`` as ``-X importtime`` counts it: the top-level imports after the interpreter's own
    start-up (``site``), in microseconds of cumulative time each; the median over ``runs`` processes."""
    samples = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import console.cli"], cwd=root,
                              env=_env(root), capture_output=True, text=True, check=True)
        total, after_site = 0, False
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            _, cumulative, name = line.split("|")
            if name.strip() == "site" and name.startswith(" site"):
                after_site = True
            elif after_site and not name.startswith("  "):
                total += int(cumulative)
        samples.append(total / 1e6)
    return statistics.median(samples)


def _wait_for_engine(data: Path, engine: subprocess.Popen) -> None:
    """Until the engine's lock names the socket it serves (read here: the checkout measured may differ)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if engine.poll() is not None:
            raise SystemExit(f"the engine ended: {engine.stderr.read() if engine.stderr else ''}")
        try:
            endpoint = json.loads((data / "lock").read_text() or "{}").get("endpoint")
        except (OSError, ValueError):
            endpoint = None
        if endpoint and Path(endpoint).exists():
            return
        time.sleep(0.05)
    raise SystemExit("the engine did not serve its socket within 120 s")


def measure(root: Path, runs: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        data = Path(tmp) / "demo"
        subprocess.run(_campaigns("--data", str(data), "seed-demo"), cwd=root, env=_env(root),
                       capture_output=True, check=True)
        listing = _campaigns("--data", str(data), "list", "--json")
        figures["list --json embedded"] = _timed_runs(root, listing, runs)
        engine = subprocess.Popen(_campaigns("--data", str(data), "engine"), cwd=root, env=_env(root),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        try:
            _wait_for_engine(data, engine)
            figures["list --json via engine"] = _timed_runs(root, listing, runs)
        finally:
            engine.send_signal(signal.SIGTERM)
            engine.communicate(timeout=60)
    figures["campaigns --help"] = _timed_runs(root, _campaigns("--help"), runs)
    figures["import console.cli"] = import_seconds(root, runs)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per figure (median)")
    args = parser.parse_args(argv)
    figures = measure(args.root.resolve(), args.runs)
    print(f"{args.root.resolve()}: median of {args.runs} fresh processes")
    for name, seconds in figures.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"  (goal < {goal * 1000:.0f} ms: {'met' if seconds < goal else 'MISSED'})"
        print(f"  {name:<24} {seconds * 1000:7.0f} ms{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
