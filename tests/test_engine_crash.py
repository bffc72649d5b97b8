"""Crash safety: a real engine process is SIGKILLed mid-run again and again, then allowed to finish.

Afterwards every profile of the audience has exactly one outcome: one outbox line (never two) or
one exclusion, and the run's counters add up.
"""

from __future__ import annotations

import json
import os
import random
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
AUDIENCE = 250_000


def build(data: Path, tmp: Path) -> str:
    return large_workspace(data, tmp / "p.csv", AUDIENCE, category="marketing", seed=3, activate=True, content={
        "subject": "Hi {{profile.person.name.firstName | default: \"you\"}}",
        "body": "Offer for {{profile.person.name.firstName | default: \"you\"}}"})


def start_worker(data: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "tests.engine_worker", str(data)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    return worker


@pytest.mark.slow
def test_killed_runs_resume_without_duplicates_or_losses(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path)
    rng = random.Random(11)
    kills = 0
    while True:
        worker = start_worker(data)
        time.sleep(rng.uniform(0.05, 0.4))  # racing the kill against the run, not waiting for time to pass
        if worker.poll() is not None:
            break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
        if kills == 8:
            worker = start_worker(data)
            assert worker.stdout.readline().strip() == "done"
            worker.wait()
            break
    assert kills >= 3, "the run finished too fast to be interrupted; raise AUDIENCE"

    lines = (data / "outbox" / "email.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""  # no torn line left behind
    sent = Counter(json.loads(line)["profileId"] for line in lines[:-1])
    duplicates = [p for p, n in sent.items() if n > 1]
    assert duplicates == []
    db = sqlite3.connect(data / "engine.sqlite3")
    excluded = {r[0] for r in db.execute("SELECT profile_id FROM deliveries WHERE outcome = 'excluded'")}
    status, targeted, sent_count, excluded_json = db.execute(
        "SELECT status, targeted, sent, excluded FROM runs WHERE campaign_id = ?", (campaign_id,)).fetchone()
    audience = {r[0] for r in sqlite3.connect(data / "profiles.sqlite3").execute("SELECT id FROM profiles")}
    assert status == "completed"
    assert set(sent) | excluded == audience and not set(sent) & excluded  # none forgotten, none twice
    assert sent_count == len(sent) and targeted == AUDIENCE == sent_count + sum(json.loads(excluded_json).values())
