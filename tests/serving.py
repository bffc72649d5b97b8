"""A real `campaigns serve` on a free loopback port, and tokens issued by `campaigns users token`, as an
operator gets them: for the tests of the network API, the CLI over `--connect` and consoles on a server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.db.lock import read_holder

from .processes import ROOT, campaigns, environment, stop_engine, wait_until


@contextmanager
def serving(data: Path, *options: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """(process, base URL) once `campaigns serve --port 0 OPTIONS` listens; stopped at the end if still running."""
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(data), "--user", "root", "serve",
                                "--port", "0", *options], cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def url() -> str | None:
        assert process.poll() is None, f"serve ended: {process.stderr.read() if process.stderr else ''}"
        holder = read_holder(data) or {}
        return holder.get("url") if holder.get("pid") == process.pid else None  # not one a killed server left

    try:
        yield process, wait_until(url, "campaigns serve to listen", timeout=60, every=0.05)
    finally:
        stop_engine(process)


def issued(out: str) -> str:
    """The token `users add`/`users token` printed alone on its last line."""
    token = out.splitlines()[-1]
    assert len(token) >= 43 and " " not in token  # 32 random bytes, urlsafe base64
    return token


def token(data: Path, name: str) -> str:
    """A new token for ``name``, issued by the founder through the served workspace's socket."""
    done = campaigns("--data", str(data), "--user", "root", "users", "token", name)
    assert done.returncode == 0, done.stderr
    return issued(done.stdout)
