"""A real `campaigns engine` host, with its sending child, SIGKILLed while a workflow delivers its second channel
activity; the next host resumes the workflow at that activity: each profile gets each activity's message exactly
once, and the first activity is not sent again."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from store.models import ChannelConfiguration
from store.models.audience import Audience

from .fault_support import CONTENT, alive, children, outbox_lines
from .processes import start_engine, stop_engine, wait_until

PROFILES = 6_000
RATE = 1_000  # the second activity lasts about 6 s: long enough to be killed in the middle


def build(data: Path, csv: Path) -> str:
    """A workspace of generated profiles and a Live orchestrated campaign mailing everyone twice."""
    from store.engine.engine import Engine
    from store.import_chunks import iter_import_chunks
    from store.lifecycle import ENGINE
    from store.models import edit_from_document
    from store.profiles.generate import generate_profiles_csv
    from store.workspace import Workspace

    ws = Workspace(data, founder="root")
    try:
        generate_profiles_csv(csv, PROFILES, seed=7)
        for chunk in iter_import_chunks(csv):
            ws.profiles.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id="email-transactional", name="Email", channel="email", category="transactional",
            sender="news@shop.example"))
        ws.catalogue.audiences.put(Audience.model_validate({"id": "all", "name": "All", "rule": {"kind": "all"}}))
        mail = {"kind": "email", "channel_configuration": "email-transactional", "content": CONTENT}
        campaign = ws.lifecycle.create_campaign(ENGINE, edit_from_document({
            "name": "Two mails", "type": "orchestrated", "category": "transactional", "draft": {"workflow": {
                "activities": [
                    {"id": "everyone", "kind": "read_audience", "audience": "all"},
                    {"id": "first", **mail},
                    {"id": "second", **mail, "rate_control": {"messages_per_second": RATE}},
                    {"id": "finish", "kind": "end"}],
                "transitions": [
                    {"from": "everyone", "to": "first", "name": "all"},
                    {"from": "first", "to": "second", "name": "mailed"},
                    {"from": "second", "to": "finish", "name": "mailed-twice"}]}}}))
        engine = Engine(ws)
        engine.activate(ENGINE, campaign.id)
        engine.shutdown()
        return campaign.id
    finally:
        ws.close()


def runs(data: Path) -> dict[str, tuple[str, int]]:
    """Every run as journaled, child runs included: id -> (status, sent)."""
    with sqlite3.connect(data / "engine.sqlite3", timeout=30) as db:
        return {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, status, sent FROM runs")}


def messages(data: Path) -> Counter:
    """(run id, profile id) of every outbox line."""
    lines = (data / "outbox" / "email.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""  # no torn line left behind
    return Counter((m["runId"], m["profileId"]) for m in map(json.loads, lines[:-1]))


@pytest.mark.slow
def test_a_workflow_killed_mid_activity_resumes_there_without_duplicates(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path / "p.csv")
    run_id = f"{campaign_id}-r1"
    first, second = f"{run_id}.first", f"{run_id}.second"

    host = start_engine(data)
    wait_until(lambda: runs(data).get(first, ("",))[0] == "completed", "the first activity to end")
    first_sent = runs(data)[first][1]
    wait_until(lambda: outbox_lines(data) >= first_sent + 1_000, "the second activity to be sending")
    senders = children(host.pid)
    stop_engine(host, signal.SIGKILL)
    wait_until(lambda: not any(alive(p) for p in senders), "the killed host's senders to die", timeout=30)
    killed_at = messages(data)
    assert runs(data)[second][0] == "running" and runs(data)[run_id][0] == "running"
    assert 0 < sum(n for (r, _), n in killed_at.items() if r == second) < first_sent  # killed mid-activity

    successor = start_engine(data)
    try:
        wait_until(lambda: runs(data)[run_id][0] == "completed", "the workflow to complete")
    finally:
        stop_engine(successor)

    sent = messages(data)
    assert [key for key, n in sent.items() if n > 1] == []  # no profile got a message twice
    by_run = Counter(r for r, _ in sent)
    assert by_run[first] == first_sent == sum(n for (r, _), n in killed_at.items() if r == first)  # not re-sent
    assert {p for r, p in sent if r == first} == {p for r, p in sent if r == second}  # each got both, once
    final = runs(data)
    assert final[second] == ("completed", by_run[second]) and final[run_id] == ("completed", 2 * by_run[first])
