"""`campaigns` in processes of its own, as users run it: a command, a hosting engine, and a wait on a
condition with a deadline (never a fixed pause: the machine may be loaded)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from store.db.lock import read_holder

ROOT = Path(__file__).resolve().parent.parent


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}


def campaigns(*argv: str, env: dict[str, str] | None = None, **popen) -> subprocess.CompletedProcess:
    """`campaigns ARGV` in its own process, to its end; output captured as text."""
    return subprocess.run([sys.executable, "-m", "console.cli", *argv], cwd=ROOT, env=environment(env),
                          capture_output=True, text=True, timeout=300, **popen)


def wait_until(condition, what: str, timeout: float = 120.0, every: float = 0.02):
    """Poll ``condition`` until it returns something truthy, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def start_engine(data: Path, *, user: str = "root", env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """`campaigns engine` hosting the workspace as ``user``, returned once it serves its socket (wherever that is)."""
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(data), "--user", user, "engine"],
                               cwd=ROOT, env=environment(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, **popen)

    def serving() -> bool:
        assert process.poll() is None, f"the engine ended: {process.stderr.read()}"
        endpoint = (read_holder(data) or {}).get("endpoint")
        return bool(endpoint) and Path(endpoint).exists()

    wait_until(serving, "the engine to serve the workspace", timeout=60, every=0.05)
    return process


def endpoint(data: Path) -> Path:
    """The socket the hosting engine serves, as its lock records it."""
    return Path(read_holder(data)["endpoint"])


def stop_engine(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60.0) -> tuple[int, str]:
    """Signal the engine (if it still runs) and wait for it: its exit code and what it wrote on stderr."""
    if process.poll() is None:
        process.send_signal(sig)
    if process.stderr is None or process.stderr.closed:  # stopped before
        return process.wait(timeout), ""
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err
