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

from store.lifecycle import ENGINE
from store.models import ChannelConfiguration, edit_from_document
from store.models.audience import Audience
from store.profiles.chunking import iter_import_chunks
from store.profiles.generate import generate_profiles_csv
from store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
PROFILES = 200_000


def build(data: Path, tmp: Path) -> str:
    ws = Workspace(data, founder="root")
    try:
        generate_profiles_csv(tmp / "p.csv", PROFILES, seed=9)
        for chunk in iter_import_chunks(tmp / "p.csv"):
            ws.profiles.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id="email-transactional", name="Service", channel="email", category="transactional", sender="no-reply@x.example"))
        ws.catalogue.audiences.put(Audience.model_validate({"id": "all", "name": "All", "rule": {"kind": "all"}}))
        return ws.lifecycle.create_campaign(ENGINE, edit_from_document({
            "name": "Outage notice", "type": "action", "category": "transactional", "draft": {
                "channel": "email", "channel_configuration": "email-transactional", "audience": "all",
                "content": {"email": {"subject": "Service notice", "body": "We are back."}}}})).id
    finally:
        ws.close()


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
