"""Ctrl-C (to the whole terminal's process group, as a terminal sends it) or SIGTERM on `campaigns engine` while
it sends: it exits 0 without a traceback, and none of its child processes outlives it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from .engine_setup import large_workspace
from .processes import start_engine, stop_engine, wait_until


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from the kernel's own list of each task's children."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(k) for k in children.read_text().split()}
            except (FileNotFoundError, ProcessLookupError):
                continue
            todo += kids - found
            found |= kids
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped by whoever inherited it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_the_engine_stops_cleanly_and_leaves_no_child(tmp_path, how):
    data = tmp_path / "ws"
    large_workspace(data, tmp_path / "p.csv", 3_000, category="transactional", seed=5, activate=True, rate=20,
                    content={"subject": "Notice", "body": "Hello"})  # a run of minutes: senders are busy
    engine = start_engine(data, start_new_session=True)  # its own group, as a terminal's foreground job
    try:
        children = wait_until(lambda: descendants(engine.pid), "the engine to start its senders", timeout=120)
        wait_until(lambda: (data / "outbox" / "email.jsonl").exists(), "the first messages to leave", timeout=120)
        children |= descendants(engine.pid)
        if how == "ctrl-c":
            os.killpg(engine.pid, signal.SIGINT)  # the terminal signals every process of the job
        code, err = stop_engine(engine, signal.SIGTERM if how == "sigterm" else 0)  # 0: only wait
    finally:
        if engine.poll() is None:
            engine.kill()
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "engine stopping" in err
    wait_until(lambda: not [c for c in children if alive(c)], "every child of the engine to end", timeout=30)
