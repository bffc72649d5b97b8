"""Executions against a real `campaigns serve`, called by a system with an api-client token, as a shop would:
idempotent replays, a reused request id with another body, an unknown recipient among good ones, and a SIGKILL
right after accepted calls (each is sent exactly once after the restart, and replays find the first executions)."""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .processes import campaigns, wait_until
from .serving import issued, serving, token
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)

KILLED_AFTER = 1000  # accepted calls before the SIGKILL, as the issue asks


def _reset_and_profiles(data: Path, root: httpx.Client) -> tuple[str, list[str]]:
    """The demo's Live transactional "Password reset" (email) and profiles it has sent to (they have an address)."""
    reset = next(c["id"] for c in root.get("/v1/campaigns").json() if c["name"] == "Password reset")
    lines = (data / "outbox" / "email.jsonl").read_text().splitlines()
    return reset, list(dict.fromkeys(json.loads(line)["profileId"] for line in lines))[:3]


def _client(base: str, bearer: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bearer}"}, timeout=30)


def _outbox_lines(data: Path, execution_id: str) -> list[dict]:
    path = data / "outbox" / "email.jsonl"
    return [m for m in map(json.loads, path.read_text().splitlines()) if m["runId"] == execution_id]


def _finished(shop: httpx.Client, execution_id: str) -> dict | None:
    answer = shop.get(f"/v1/executions/{execution_id}").json()
    return answer if answer["status"] in ("succeeded", "failed") else None


@pytest.fixture
def served(demo):  # noqa: F811
    with serving(demo) as (process, base):
        added = campaigns("--data", str(demo), "--user", "root", "users", "add", "shop", "--role", "api-client")
        assert added.returncode == 0, added.stderr
        with _client(base, issued(added.stdout)) as shop, _client(base, token(demo, "root")) as root:
            yield process, demo, shop, root


def test_replay_conflict_and_an_unknown_recipient_among_good_ones(served):
    _, data, shop, root = served
    reset, (good, other, _) = _reset_and_profiles(data, root)
    path = f"/v1/campaigns/{reset}/trigger"
    body = {"profiles": [good, "nobody", other], "context": {"orderId": "A-1"}, "request_id": "order-A-1"}
    first = shop.post(path, json=body)
    assert first.status_code == 202, first.text
    execution = wait_until(lambda: _finished(shop, first.json()["id"]), "the execution's outcomes")
    outcomes = {o["user_id"]: o for o in execution["outcomes"]}
    assert execution["status"] == "succeeded" and outcomes["nobody"]["outcome"] == "excluded"
    assert outcomes["nobody"]["reason"] == "unknown_recipient"
    sent = _outbox_lines(data, execution["id"])
    assert {m["profileId"] for m in sent} == {good, other}
    assert {outcomes[good]["message_id"], outcomes[other]["message_id"]} == {m["messageKey"] for m in sent}
    assert root.get(f"/v1/campaigns/{reset}").json()["status"] == "Live"  # a call never fails a Live campaign

    replay = shop.post(path, json=body)
    assert (replay.status_code, replay.json()["id"]) == (200, execution["id"])
    other_body = shop.post(path, json={**body, "context": {"orderId": "A-2"}})
    assert other_body.status_code == 409 and "order-A-1" in other_body.json()["detail"]
    reserved = shop.post(path, json={"profiles": [good], "context": {"system": {}}})
    assert reserved.status_code == 422 and "context.system" in reserved.json()["detail"]
    assert shop.get("/v1/campaigns").status_code == 403  # an api-client triggers and reads executions, nothing else
    wait_until(lambda: root.get(f"/v1/campaigns/{reset}/executions").json()[0]["status"] == "succeeded", "no open call")
    assert len(_outbox_lines(data, execution["id"])) == 2  # the replay sent nothing


def test_a_kill_right_after_accepted_calls_loses_none_and_sends_none_twice(served, demo):  # noqa: F811
    process, data, shop, root = served
    reset, (good, _, _) = _reset_and_profiles(data, root)
    path = f"/v1/campaigns/{reset}/trigger"

    def call(n: int) -> tuple[str, str]:
        answer = shop.post(path, json={"profiles": [good], "context": {"n": n}, "request_id": f"kill-{n}"})
        assert answer.status_code == 202, answer.text
        return f"kill-{n}", answer.json()["id"]

    with ThreadPoolExecutor(16) as pool:
        accepted = dict(pool.map(call, range(KILLED_AFTER)))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    with serving(data) as (_, base), _client(base, token(data, "root")) as again:
        for n, (request_id, execution_id) in enumerate(accepted.items()):
            wait_until(lambda: _finished(again, execution_id), f"execution {execution_id} after the restart")
        lines = [json.loads(line) for line in (data / "outbox" / "email.jsonl").read_text().splitlines()]
        per_execution: dict[str, int] = {}
        for m in lines:
            per_execution[m["runId"]] = per_execution.get(m["runId"], 0) + 1
        assert {e: per_execution.get(e, 0) for e in accepted.values()} == {e: 1 for e in accepted.values()}
        for n, (request_id, execution_id) in enumerate(accepted.items()):
            replay = again.post(path, json={"profiles": [good], "context": {"n": n}, "request_id": request_id})
            assert (replay.status_code, replay.json()["id"]) == (200, execution_id)
        assert len((data / "outbox" / "email.jsonl").read_text().splitlines()) == len(lines)  # replays sent nothing
