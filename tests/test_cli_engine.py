"""The engine from the command line: activate in the foreground, runs, report, outbox, and
`campaigns engine` hosting the workspace for other commands over its socket."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_cli import campaign_id, demo, demo_template, run, run_json  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def test_activate_sends_in_the_foreground_and_reports(demo, capsys):
    contest = campaign_id(capsys, "Win a trip contest")
    code, out, err = run(capsys, "activate", contest)
    assert code == 0, err
    assert f"{contest} (Win a trip contest) is Live" in err and f"{contest}-r1 completed: targeted" in err
    [r] = run_json(capsys, "runs", contest)
    assert r["status"] == "completed" and r["counters"]["sent"] > 0
    assert r["counters"]["targeted"] == r["counters"]["sent"] + sum(r["counters"]["excluded"].values())
    code, out, _ = run(capsys, "outbox", "--campaign", contest, "--json", "--limit", "10000")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == r["counters"]["sent"] and {m["channel"] for m in lines} == {"sms"}
    assert all(m["content"]["text"].startswith("SHOP: Win a trip contest") for m in lines)
    report = run_json(capsys, "report", contest)
    assert report["status"] == "Live" and report["totals"]["sent"] == r["counters"]["sent"]
    code, out, _ = run(capsys, "report", contest)
    assert "no_consent" in out and f"{contest}-r1 completed" in out


def test_activate_refusal_lists_every_problem(demo, capsys):
    survey = campaign_id(capsys, "Two-factor code")
    doc = run_json(capsys, "show", survey)
    doc["draft"]["channel_configuration"] = None
    doc["draft"]["content"] = {"sms": {"text": ""}}
    (demo / "bad.json").write_text(json.dumps(doc))
    assert run(capsys, "edit", survey, "--file", str(demo / "bad.json"))[0] == 0
    code, out, err = run(capsys, "activate", survey)
    assert code == 1 and "draft.channel_configuration" in err and "draft.content.sms.text" in err
    assert run_json(capsys, "show", survey)["status"] == "Draft"


@pytest.fixture
def engine_process(demo):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(demo), "--user", "root", "engine"],
                               cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    socket = demo / "engine.sock"
    deadline = time.monotonic() + 20
    while not socket.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the engine did not start serving"
        time.sleep(0.05)
    yield process, socket
    if process.poll() is None:
        process.kill()
        process.wait()


def test_other_commands_reach_a_running_engine_over_its_socket(demo, capsys, engine_process):
    process, socket = engine_process
    assert stat.S_IMODE(socket.stat().st_mode) == 0o600
    contest = campaign_id(capsys, "Win a trip contest")  # over the socket: the engine holds the lock
    code, out, err = run(capsys, "activate", contest)
    assert code == 0, err
    assert f"{contest}-r1 completed" in err
    code, out, _ = run(capsys, "outbox", "--campaign", contest, "--json", "--limit", "10000")
    assert len(out.splitlines()) == run_json(capsys, "runs", contest)[0]["counters"]["sent"] > 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not socket.exists()
    assert run(capsys, "list")[0] == 0  # the lock is free again: the command opens the workspace itself


def test_outbox_follow_prints_messages_as_another_terminal_sends_them(demo, capsys):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    follow = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(demo), "--user", "root", "outbox",
                               "--follow", "--json", "--channel", "sms", "--limit", "10000"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 20
        while not (demo / "engine.sock").exists():  # the follower hosts the engine while it waits
            assert follow.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        existing = sum(1 for _ in (demo / "outbox" / "sms.jsonl").open())
        contest = campaign_id(capsys, "Win a trip contest")
        code, _, err = run(capsys, "activate", contest)
        assert code == 0, err
        sent = run_json(capsys, "runs", contest)[0]["counters"]["sent"]
        lines = [json.loads(follow.stdout.readline()) for _ in range(existing + sent)]
        assert sum(1 for m in lines if m["campaignId"] == contest) == sent
    finally:
        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=30) == 130


def test_trigger_an_api_campaign_from_the_command_line(demo, capsys):
    reset = campaign_id(capsys, "Password reset")
    profiles = [r["profileId"] for r in map(json.loads, (demo / "outbox" / "email.jsonl").read_text().splitlines()[:2])]
    code, out, err = run(capsys, "trigger", reset, "--profile", profiles[0], "--profile", profiles[1],
                         "--context", '{"orderId": "A-42"}', "--request-id", "A-42-1")
    assert code == 0, err
    execution_id = out.strip()
    assert execution_id.startswith("exe-") and "succeeded (request A-42-1): sent 2" in err
    code, out, _ = run(capsys, "outbox", "--campaign", reset, "--json")
    assert {json.loads(line)["runId"] for line in out.splitlines()} == {execution_id}
    code, out, err = run(capsys, "trigger", reset, "--profile", profiles[0], "--profile", profiles[1],
                         "--context", '{"orderId": "A-42"}', "--request-id", "A-42-1")
    assert (code, out.strip()) == (0, execution_id)  # a replay: the first execution, nothing sent again
    code, out, _ = run(capsys, "outbox", "--campaign", reset, "--json")
    assert len(out.splitlines()) == 2
    code, out, err = run(capsys, "trigger", reset, "--context", "[1]")  # refused before anything is sent
    assert code == 1 and "must be a JSON object" in err and len(err.strip().splitlines()) == 1
