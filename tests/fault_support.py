"""Faults as operators' machines have them, shared by tests/test_faults.py and bench/fault_bench.py:
a host killed without its sending child, a sending child killed under its host, a gateway that hangs.

Every wait is on a condition with a generous deadline; the scenarios return what they saw (duplicates,
missing profiles, the busiest one-second window, how long a host took to replace a lost sender), so the
test asserts on them and the bench prints them.
"""

from __future__ import annotations

import bisect
import os
import signal
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from store.engine.outbox import Outbox
from store.models import Channel

from .engine_setup import large_workspace
from .processes import start_engine, stop_engine, wait_until
CONTENT = {"subject": "Hi {{profile.person.name.firstName | default: \"you\"}}",
           "body": "Offer for {{profile.person.name.firstName | default: \"you\"}}"}


def build(data: Path, tmp: Path, profiles: int, *, rate: int | None = None) -> str:
    """A workspace whose one campaign (to ``profiles`` profiles) is Live with its run due."""
    return large_workspace(data, tmp / f"{data.name}.csv", profiles, category="transactional", seed=5,
                           activate=True, content=CONTENT, rate=rate)


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.update(int(p) for p in f.read().split())
    except FileNotFoundError:
        pass
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] not in ("Z", "X")  # a zombie is dead, only not reaped yet
    except FileNotFoundError:
        return False


def run_state(data: Path, campaign_id: str) -> tuple[str, int] | None:
    """The status and sent count of the campaign's first run, as journaled (None before it exists)."""
    with sqlite3.connect(data / "engine.sqlite3", timeout=30) as db:
        return db.execute("SELECT status, sent FROM runs WHERE campaign_id = ? ORDER BY rowid LIMIT 1",
                          (campaign_id,)).fetchone()


def finished(data: Path, campaign_id: str) -> bool:
    return (run_state(data, campaign_id) or ("",))[0] in ("completed", "failed", "stopped")


def outbox_lines(data: Path) -> int:
    """Lines in the email outbox so far (counted, never parsed: a sender may be writing the last one)."""
    try:
        with open(data / "outbox" / "email.jsonl", "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def sender_of(data: Path, run_id: str) -> int | None:
    """The pid of the process that holds the run's fence, while one does."""
    try:
        text = (data / "fences" / f"{run_id}.lock").read_text().strip()
    except FileNotFoundError:
        return None
    pid = int(text) if text.isdigit() else None
    return pid if pid and alive(pid) else None


def outcome(data: Path, campaign_id: str) -> dict:
    """Each profile's messages, through the product's own outbox reader: duplicates, missing, the busiest
    one-second window, and the run's journaled status."""
    messages = Outbox(data).read({}, channel=Channel.email, limit=10**9)[0]
    sent = Counter(m["profileId"] for m in messages if m["campaignId"] == campaign_id)
    with sqlite3.connect(data / "engine.sqlite3") as db:
        excluded = {r[0] for r in db.execute("SELECT profile_id FROM deliveries WHERE outcome = 'excluded'")}
        status, sent_count = db.execute("SELECT status, sent FROM runs WHERE campaign_id = ?", (campaign_id,)).fetchone()
    with sqlite3.connect(data / "profiles.sqlite3") as db:
        audience = {r[0] for r in db.execute("SELECT id FROM profiles")}
    times = sorted(datetime.fromisoformat(m["sentAt"]).timestamp() for m in messages if m["campaignId"] == campaign_id)
    return {"status": status, "sent": sent_count, "messages": sum(sent.values()),
            "duplicates": sum(n - 1 for n in sent.values() if n > 1),
            "missing": len(audience - set(sent) - excluded), "worst_window": worst_window(times)}


def worst_window(times: list[float]) -> int:
    """The most sends in any one-second window [t, t + 1 s)."""
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def kill_host_then_restart(data: Path, campaign_id: str, *, after_lines: int) -> dict:
    """SIGKILL only the host's pid mid-send (as the OOM killer does), start `campaigns engine` at once and let
    it finish; what each profile got, and whether the killed host's sender outlived it."""
    host = start_engine(data)
    wait_until(lambda: outbox_lines(data) >= after_lines, "the first messages to leave")
    senders = children(host.pid)
    stop_engine(host, signal.SIGKILL)
    holders: set[int | None] = set()  # every process seen sending the run once the next host runs

    def gone(condition):
        def check() -> bool:
            holders.add(sender_of(data, f"{campaign_id}-r1"))
            return condition()
        return check

    try:
        wait_until(lambda: not any(alive(p) for p in senders), "the killed host's senders to die", timeout=2,
                   every=0.005)
    except AssertionError:
        pass  # reported as orphans below
    orphans = {p for p in senders if alive(p)}
    successor = start_engine(data)
    try:
        wait_until(gone(lambda: (run_state(data, campaign_id) or ("",))[0] == "completed"), "the run to complete",
                   every=0.005)
    finally:
        stop_engine(successor)
    return {**outcome(data, campaign_id), "orphans": len(orphans | (holders & senders))}


def kill_sender_repeatedly(data: Path, campaign_id: str, kills: int) -> dict:
    """SIGKILL only the sending child ``kills`` times during one run; how long the host took each time to
    resume the run in a new sender, and whether a Ctrl-C still stops the host."""
    host = start_engine(data)
    run_id = f"{campaign_id}-r1"
    replaced: list[float] = []
    try:
        for _ in range(kills):
            before = outbox_lines(data)
            sender = wait_until(lambda: sender_of(data, run_id), "a sender to take the run")
            wait_until(lambda: outbox_lines(data) > before, "the sender to make progress")
            os.kill(sender, signal.SIGKILL)
            killed = time.monotonic()
            wait_until(lambda: (sender_of(data, run_id) or sender) != sender or finished(data, campaign_id),
                       "a new sender", every=0.005)
            if finished(data, campaign_id):
                break  # the sender had just finished the run when the kill came
            replaced.append(time.monotonic() - killed)
        wait_until(lambda: finished(data, campaign_id), "the run to complete")
    finally:
        code, _ = stop_engine(host, signal.SIGINT)
    return {**outcome(data, campaign_id), "replaced": replaced, "exit": code}
