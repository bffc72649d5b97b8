"""Ctrl-C on `campaigns activate` pauses the run it is sending; the next engine finishes it, exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from store.engine.outbox import Outbox
from store.models import Channel

from .engine_setup import large_workspace

ROOT = Path(__file__).resolve().parent.parent
PROFILES = 200_000


def build(data: Path, tmp: Path) -> str:
    return large_workspace(data, tmp / "p.csv", PROFILES, category="transactional", seed=9, activate=False,
                           content={"subject": "Service notice", "body": "We are back."})


def lines_written(data: Path) -> int:
    """How many messages are in the outbox, counted on one snapshot of the file: while a sender writes,
    its last line may be half there, and only lines ending in a newline are whole (as ``Outbox.read`` reads)."""
    path = data / "outbox" / "email.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def sent_profiles(data: Path) -> list[str]:
    """Profile ids of the messages sent, read by the product's reader once no sender is left."""
    messages, _ = Outbox(data).read({}, channel=Channel.email, limit=PROFILES + 1)
    return [m["profileId"] for m in messages]


@pytest.mark.slow
def test_ctrl_c_pauses_the_run_and_the_engine_resumes_it(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "console.cli", "--data", str(data), "--user", "root"]
    activate = subprocess.Popen([*cli, "activate", campaign_id], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while lines_written(data) < 10_000:  # waiting for sending to be under way, then pressing Ctrl-C
        assert activate.poll() is None and time.monotonic() < deadline, activate.stderr.read()
        time.sleep(0.02)
    activate.send_signal(signal.SIGINT)
    assert activate.wait(timeout=60) == 130
    sent_before = len(sent_profiles(data))
    status = sqlite3.connect(data / "engine.sqlite3").execute("SELECT status FROM runs").fetchone()[0]
    assert status == "running" and sent_before < PROFILES  # paused, not finished and not lost

    engine = subprocess.Popen([*cli, "engine"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while sqlite3.connect(data / "engine.sqlite3").execute("SELECT status FROM runs").fetchone()[0] != "completed":
            assert engine.poll() is None and time.monotonic() < deadline, "the engine did not finish the run"
            time.sleep(0.1)
    finally:
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(timeout=60) == 0
    sent = Counter(sent_profiles(data))
    assert max(sent.values()) == 1
    sent_count, targeted = sqlite3.connect(data / "engine.sqlite3").execute("SELECT sent, targeted FROM runs").fetchone()
    assert len(sent) == sent_count and sent_count > sent_before and targeted == PROFILES
