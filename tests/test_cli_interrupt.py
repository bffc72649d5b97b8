"""Ctrl-C on `campaigns activate` pauses the run it is sending; the next engine finishes it, exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .engine_setup import large_workspace

ROOT = Path(__file__).resolve().parent.parent
PROFILES = 200_000


def build(data: Path, tmp: Path) -> str:
    return large_workspace(data, tmp / "p.csv", PROFILES, category="transactional", seed=9, activate=False,
                           content={"subject": "Service notice", "body": "We are back."})


def outbox_lines(data: Path) -> list[str]:
    path = data / "outbox" / "email.jsonl"
    return [json.loads(line)["profileId"] for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
def test_ctrl_c_pauses_the_run_and_the_engine_resumes_it(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "console.cli", "--data", str(data), "--user", "root"]
    activate = subprocess.Popen([*cli, "activate", campaign_id], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(outbox_lines(data)) < 10_000:  # waiting for sending to be under way, then pressing Ctrl-C
        assert activate.poll() is None and time.monotonic() < deadline, activate.stderr.read()
        time.sleep(0.02)
    activate.send_signal(signal.SIGINT)
    assert activate.wait(timeout=60) == 130
    sent_before = len(outbox_lines(data))
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
    sent = Counter(outbox_lines(data))
    assert max(sent.values()) == 1
    sent_count, targeted = sqlite3.connect(data / "engine.sqlite3").execute("SELECT sent, targeted FROM runs").fetchone()
    assert len(sent) == sent_count and sent_count > sent_before and targeted == PROFILES
