"""The engine under real faults (issue 8): hosts and senders killed one process at a time, a gateway that
hangs, a torn outbox write. Each scenario runs once here with waits on conditions; bench/fault_bench.py
repeats them and prints the figures."""

from __future__ import annotations

import os
import signal

import pytest

from store.engine.engine import Engine
from store.engine.fence import Fences
from store.engine.outbox import Outbox, OutboxLines
from store.lifecycle import ENGINE
from store.models import Channel, ChannelConfiguration, RunStatus, edit_from_document
from store.models.audience import Audience
from store.workspace import Workspace

from .engine_setup import profile_lines
from .fault_support import (alive, build, children, kill_host_then_restart, kill_sender_repeatedly, outcome, run_state,
                            sender_of)
from .processes import campaigns, start_engine, stop_engine, wait_until
from .servers import SilentServer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("rate, profiles, after", [(None, 200_000, 20_000), (1_000, 5_000, 1_000)],
                         ids=["unthrottled", "throttled"])
def test_killing_only_the_host_never_leaves_two_senders_on_a_run(tmp_path, rate, profiles, after):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path, profiles, rate=rate)
    seen = kill_host_then_restart(data, campaign_id, after_lines=after)
    assert seen["orphans"] == 0  # the sender died with its host
    assert seen["status"] == "completed"
    assert seen["duplicates"] == 0 and seen["missing"] == 0
    assert seen["messages"] == seen["sent"] > 0
    if rate:
        assert seen["worst_window"] <= rate  # the limit held across the restart


def test_a_run_owned_by_a_live_process_is_not_resumed_until_that_process_is_gone(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path, 300)
    ws = Workspace(data)
    engine = Engine(ws)
    try:
        engine.run_until_idle()  # creates the due run, dispatches it and waits for it to end
        first = engine.runs(campaign_id)[0]
        assert first.status is RunStatus.completed
        # a second run, owned by a process that outlived its host (here: this test holds its fence)
        run = engine.ledger.create_run(campaign_id, 1, first.trigger, now=engine.clock.now())
        orphan = Fences(data).hold(run.id)
        lines = len(Outbox(data).read({}, limit=10**6)[0])
        engine.run_until_idle()  # returns with the run left alone: nothing may dispatch it
        assert engine.ledger.run(run.id).status is RunStatus.pending  # not dispatched: two senders send twice
        assert Fences(data).owner(run.id) == os.getpid()
        orphan.release(finished=False)  # the orphan dies: the kernel would release its lock
        engine.run_until_idle()
        assert engine.ledger.run(run.id).status is RunStatus.completed
        assert len(Outbox(data).read({}, limit=10**6)[0]) == 2 * lines
    finally:
        engine.shutdown()
        ws.close()


def test_a_killed_sender_is_replaced_and_its_run_completes_once(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path, 20_000, rate=2_000)
    seen = kill_sender_repeatedly(data, campaign_id, kills=3)
    assert len(seen["replaced"]) == 3
    assert seen["status"] == "completed"
    assert seen["duplicates"] == 0 and seen["missing"] == 0 and seen["messages"] == seen["sent"] > 0
    assert seen["worst_window"] <= 2_000
    assert seen["exit"] == 0  # Ctrl-C still stops the host


def test_ctrl_c_stops_a_host_whose_sender_was_killed_and_the_run_resumes_later(tmp_path):
    data = tmp_path / "ws"
    campaign_id = build(data, tmp_path, 20_000, rate=2_000)
    run_id = f"{campaign_id}-r1"
    host = start_engine(data)
    sender = wait_until(lambda: sender_of(data, run_id), "a sender to take the run")
    os.kill(sender, signal.SIGKILL)
    wait_until(lambda: (sender_of(data, run_id) or sender) != sender, "the host to resume the run in a new sender")
    assert stop_engine(host, signal.SIGINT)[0] == 0
    assert not any(alive(p) for p in children(host.pid))
    assert run_state(data, campaign_id)[0] == "running"  # journaled, to resume
    ws = Workspace(data)
    try:
        engine = Engine(ws)
        assert engine.runs(campaign_id)[0].status is RunStatus.paused  # nobody hosts it: it is not "running"
        engine.run_until_idle()
        engine.shutdown()
    finally:
        ws.close()
    seen = outcome(data, campaign_id)
    assert seen["status"] == "completed" and seen["duplicates"] == 0 and seen["missing"] == 0


def hung_gateway_workspace(data, port: int) -> dict[str, str]:
    """Two campaigns on an SMTP gateway at ``port`` and seven on the outbox, all Live with a run due;
    returns their ids by name."""
    ws = Workspace(data, founder="root")
    try:
        ws.profiles.import_jsonl_chunk(profile_lines(), 1)
        ws.catalogue.audiences.put(Audience.model_validate({"id": "all", "name": "All", "rule": {"kind": "all"}}))
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id="outbox", name="Outbox", channel="email", category="transactional", sender="news@shop.example"))
        ws.catalogue.channel_configurations.put(ChannelConfiguration.model_validate({
            "id": "hung", "name": "Hung SMTP", "channel": "email", "category": "transactional",
            "sender": "news@shop.example", "provider": "smtp", "smtp": {"host": "127.0.0.1", "port": port}}))
        engine = Engine(ws)
        ids = {}
        for name, config in [(f"Hung {i}", "hung") for i in range(2)] + [(f"Quick {i}", "outbox") for i in range(7)]:
            campaign = ws.lifecycle.create_campaign(ENGINE, edit_from_document({
                "name": name, "type": "action", "category": "transactional", "draft": {
                    "channel": "email", "channel_configuration": config, "audience": "all",
                    "content": {"email": {"subject": "Hi", "body": "<p>Hello</p>"}}}}))
            engine.activate(ENGINE, campaign.id)
            ids[name] = campaign.id
        engine.shutdown()
        return ids
    finally:
        ws.close()


def test_a_hung_gateway_holds_only_its_own_slots_and_a_stop_ends_its_run(tmp_path):
    data = tmp_path / "ws"
    with SilentServer() as gateway:
        ids = hung_gateway_workspace(data, gateway.port)
        host = start_engine(data)
        try:
            quick = [cid for name, cid in ids.items() if name.startswith("Quick")]
            wait_until(lambda: all((run_state(data, cid) or ("",))[0] == "completed" for cid in quick),
                       "the seven outbox campaigns to finish beside the hung gateway", timeout=60)
            hung = ids["Hung 0"]
            hung_both = (hung, ids["Hung 1"])  # each holds one of its gateway's two slots (claimed later under load)
            wait_until(lambda: all((run_state(data, cid) or ("",))[0] == "running" for cid in hung_both),
                       "both hung campaigns to be sending", timeout=60)
            stopped = campaigns("--data", str(data), "--user", "root", "stop", hung)
            assert stopped.returncode == 0, stopped.stderr
            wait_until(lambda: run_state(data, hung)[0] == "stopped", "the stop to end the hung run", timeout=30)
            assert run_state(data, ids["Hung 1"])[0] == "running"  # the other hung campaign is untouched
        finally:
            stop_engine(host)


def test_a_sender_killed_mid_write_never_corrupts_the_next_senders_line(tmp_path):
    outbox = Outbox(tmp_path)
    lines = OutboxLines("cmp-1", "cmp-1-r1", Channel.email, ["subject"])
    outbox.append(Channel.email, [lines.line("k1", "p1", "a@x", "t", {"subject": "one"})])
    whole = lines.line("k2", "p2", "b@x", "t", {"subject": "two"})
    with open(outbox.path(Channel.email), "ab") as f:
        f.write(whole[: len(whole) // 2])  # a sender killed in the middle of its write
    outbox.append(Channel.email, [lines.line("k3", "p3", "c@x", "t", {"subject": "three"})])
    messages, _ = outbox.read({})
    assert [m["profileId"] for m in messages] == ["p1", "p3"]
    assert outbox.sent_in(Channel.email, "cmp-1-r1", 0) == {"p1", "p3"}
