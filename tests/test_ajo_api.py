"""The execution API in AJO's shape: in-process on the frozen clock (audience calls, schedules, bad input, an
api campaign's dates), and through a real `campaigns serve` for the unitary call."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from store.api import create_app
from store.api.identity import USER_HEADER
from store.client import edit_from_file_document
from store.limits import CONTEXT_BYTES
from store.models import Status

from .conftest import T0

AJO = "/ajo/im/executions"
AJO_HEADERS = {"x-api-key": "any", "x-gw-ims-org-id": "ORG@AdobeOrg", "x-sandbox-name": "prod"}


def api_campaign(name: str = "Password reset", *, audience: str | None = "everyone", schedule: dict | None = None):
    draft = {"channel": "email", "channel_configuration": "email-transactional", "schedule": schedule or {},
             "content": {"email": {"subject": "Reset", "body": "<p>Code {{context.code | default: \"-\"}}</p>"}}}
    if audience:
        draft["audience"] = audience
    return edit_from_file_document({"name": name, "type": "api", "category": "transactional", "draft": draft})


@pytest.fixture
async def http(workspace, engine, root):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(workspace, engine)), base_url="http://t",
                                 headers={USER_HEADER: "root", **AJO_HEADERS}) as client:
        yield client


async def live_api(root, **kwargs) -> str:
    campaign = await root.create_campaign(api_campaign(**kwargs))
    await root.activate(campaign.id)
    return campaign.id


def assert_problem(r: httpx.Response, status: int, field: str | None, campaign_id=None, request_id=None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    if field is not None:
        assert field in {e["field"] for e in body.get("errors", [])} or field in body["detail"], body
    assert body["report"] == {"additionalContext": {"requestId": request_id, "campaignId": campaign_id}}


async def test_an_audience_call_runs_the_campaign_over_its_audience_and_reports_it(http, root, engine):
    cid = await live_api(root)
    r = await http.post(f"{AJO}/audience", json={"campaignId": cid, "requestId": "a-1", "audience": {"id": "everyone"},
                                                 "context": {"code": "42"}})
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["requestId"] == "a-1" and accepted["createdBy"] == "root"
    assert accepted["createdAt"].startswith("2026-11-26T09:00")
    url = f"{AJO}/audience/{accepted['executionId']}"
    assert (await http.get(url)).json()["status"] == "InProgress"
    engine.run_until_idle()
    done = (await http.get(url)).json()
    assert done["status"] == "Succeeded" and done["targetedProfileCount"] == 8
    assert done["sentCount"] + done["excludedCount"] + done["failedCount"] == 8 and done["sentCount"] >= 1
    assert (await root.campaign(cid)).status is Status.live  # an api campaign stays Live for the next call


async def test_a_scheduled_audience_call_runs_at_execute_at_on_the_engine_clock(http, root, engine, clock, workspace):
    cid = await live_api(root)
    at = T0 + timedelta(hours=2)
    r = await http.post(f"{AJO}/audience", json={"campaignId": cid, "schedule": {"executeAt": at.isoformat()}})
    assert r.status_code == 202, r.text
    assert r.json() == {"scheduleId": r.json()["scheduleId"], "scheduleStatus": "Scheduled", "campaignId": cid,
                        "executeAt": at.isoformat().replace("+00:00", "Z")}
    url = f"{AJO}/schedules/{r.json()['scheduleId']}"
    engine.run_until_idle()
    assert (await http.get(url)).json()["scheduleStatus"] == "Scheduled"
    assert await root.runs(cid) == []
    clock.advance(timedelta(hours=2))
    engine.run_until_idle()
    fired = (await http.get(url)).json()
    assert fired["scheduleStatus"] == "Triggered" and fired["executionId"]
    assert (await http.get(f"{AJO}/audience/{fired['executionId']}")).json()["status"] == "Succeeded"


async def test_a_schedule_survives_a_restart_and_a_cancelled_one_never_runs(http, root, engine, clock, workspace):
    from store.engine.engine import Engine

    cid = await live_api(root)
    at = (T0 + timedelta(hours=1)).isoformat()
    kept = (await http.post(f"{AJO}/audience", json={"campaignId": cid, "schedule": {"executeAt": at}})).json()
    dropped = (await http.post(f"{AJO}/audience", json={"campaignId": cid, "schedule": {"executeAt": at}})).json()
    r = await http.delete(f"{AJO}/schedules/{dropped['scheduleId']}")
    assert r.status_code == 200 and r.json() == {}
    again = await http.delete(f"{AJO}/schedules/{dropped['scheduleId']}")
    assert again.status_code == 409 and "Cancelled" in again.json()["detail"]
    restarted = Engine(workspace)  # a new engine reads its schedules back from the journal (the fixture's stays idle)
    try:
        clock.advance(timedelta(hours=1))
        restarted.run_until_idle()
        assert restarted.scheduled.get(kept["scheduleId"]).schedule_status.value == "Triggered"
        assert restarted.scheduled.get(dropped["scheduleId"]).schedule_status.value == "Cancelled"
        assert len(restarted.runs(cid)) == 1
    finally:
        restarted.shutdown()


async def test_an_unknown_schedule_or_execution_is_a_404(http):
    assert_problem(await http.get(f"{AJO}/schedules/sch-nope"), 404, None)
    assert_problem(await http.get(f"{AJO}/audience/cmp-9-r1"), 404, None)


@pytest.mark.parametrize("body, status, field", [
    (b'{"campaignId": "X", ', 422, "(body)"),
    ({"campaignId": "X", "recipients": [{"userId": "a@b.c", "namespace": "email"}]}, 422, "requestId"),
    ({"requestId": "r", "campaignId": "X", "recipients": [{"userId": "a@b.c", "namespace": "email"}] * 2}, 422, "appears twice"),
    ({"requestId": "r", "campaignId": "X", "recipients": [{"userId": f"u{n}@b.c", "namespace": "email"} for n in range(21)]},
     422, "recipients"),
    ({"requestId": "r", "campaignId": "X", "recipients": [{"userId": "a@b.c", "namespace": "email"}], "context": [1]},
     422, "context"),
    ({"requestId": "r", "campaignId": "X", "recipients": [{"userId": "a@b.c", "namespace": "email"}],
      "context": {"system": {}}}, 422, "context.system"),
    ({"requestId": "r", "campaignId": "X", "recipients": [{"userId": "a@b.c", "namespace": "email"}],
      "context": {"blob": "x" * CONTEXT_BYTES}}, 413, "context"),
    ({"requestId": "r", "campaignId": "ACTION", "recipients": [{"userId": "a@b.c", "namespace": "email"}]}, 422, "campaignId"),
])
async def test_bad_unitary_calls_are_refused_naming_the_field_and_store_nothing(http, root, engine, body, status, field):
    from .engine_setup import email_campaign

    cid = await live_api(root)
    action = (await root.create_campaign(email_campaign())).id
    if isinstance(body, dict):
        body = {**body, "campaignId": {"X": cid, "ACTION": action}[body["campaignId"]]}
        r = await http.post(f"{AJO}/unitary", json=body)
        campaign_id, request_id = body["campaignId"], body.get("requestId")
    else:
        r = await http.post(f"{AJO}/unitary", content=body, headers={"content-type": "application/json"})
        campaign_id = request_id = None
    assert_problem(r, status, field, campaign_id, request_id)
    assert await root.executions(cid) == [] and await root.runs(cid) == []


async def test_an_audience_call_on_a_campaign_without_audience_or_another_audience_is_refused(http, root):
    cid = await live_api(root, audience=None)
    assert_problem(await http.post(f"{AJO}/audience", json={"campaignId": cid}), 422, "audience", cid)
    other = await live_api(root, name="Other")
    assert_problem(await http.post(f"{AJO}/audience", json={"campaignId": other, "audience": {"id": "vips"}}),
                   422, "audience.id", other)


async def test_an_api_campaign_takes_calls_between_its_start_and_end_dates(http, root, engine, clock):
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    cid = await live_api(root, schedule={"start": start.isoformat(), "end": end.isoformat()})
    engine.run_until_idle()
    assert (await root.campaign(cid)).status is Status.scheduled
    early = await http.post(f"{AJO}/audience", json={"campaignId": cid})
    assert_problem(early, 409, None, cid)
    assert "from its start date 2026-11-26T10:00:00+00:00 until its end date 2026-11-26T12:00:00+00:00" in early.json()["detail"]
    clock.advance(timedelta(hours=1))
    engine.run_until_idle()
    assert (await root.campaign(cid)).status is Status.live
    assert "its start date came: it takes calls" in [e.detail for e in await root.audit_trail(cid)]
    assert (await http.post(f"{AJO}/audience", json={"campaignId": cid})).status_code == 202
    after_end = await http.post(f"{AJO}/audience", json={"campaignId": cid, "schedule": {"executeAt": end.isoformat()}})
    assert_problem(after_end, 409, "end date 2026-11-26T12:00:00+00:00", cid)
    engine.run_until_idle()
    clock.advance(timedelta(hours=2))
    late = await http.post(f"{AJO}/audience", json={"campaignId": cid})  # before the engine's next tick
    assert_problem(late, 409, None, cid)
    assert "until its end date 2026-11-26T12:00:00+00:00" in late.json()["detail"]
    engine.run_until_idle()
    assert (await root.campaign(cid)).status is Status.completed
    assert "end date" in (await http.post(f"{AJO}/audience", json={"campaignId": cid})).json()["detail"]


async def test_an_api_campaign_without_dates_is_live_until_stopped(http, root, engine, clock):
    cid = await live_api(root)
    clock.advance(timedelta(days=30))
    engine.run_until_idle()
    assert (await root.campaign(cid)).status is Status.live
    assert (await http.post(f"{AJO}/audience", json={"campaignId": cid})).status_code == 202


def test_the_unitary_call_through_a_real_server(tmp_path):
    """202, a replay's 200 with the first executionId, a different body's 409, and bad input refused before
    anything is stored, against `campaigns serve` with a bearer token and AJO's headers."""
    from store.engine.engine import Engine
    from store.workspace import Workspace

    from .processes import wait_until
    from .serving import serving, token
    from .test_api_schema import seed

    data = tmp_path / "ws"
    ws = Workspace(data, founder="root")
    eng = Engine(ws)
    try:
        seed(ws, eng)  # cmp-4: a Live api campaign
    finally:
        eng.shutdown()
        ws.close()
    call = {"requestId": "req-1", "campaignId": "cmp-4", "context": {"code": "42"},
            "recipients": [{"type": "aep", "userId": "p01", "namespace": "profileId"},
                           {"type": "aep", "userId": "bo@example.com", "namespace": "email"}]}
    with serving(data) as (_, base):
        headers = {"Authorization": f"Bearer {token(data, 'root')}", **AJO_HEADERS}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            first = http.post(f"{AJO}/unitary", json=call)
            assert first.status_code == 202, first.text
            assert set(first.json()) == {"executionId", "requestId", "createdAt", "createdBy"}
            replay = http.post(f"{AJO}/unitary", json=call)
            assert replay.status_code == 200 and replay.json()["executionId"] == first.json()["executionId"]
            other = http.post(f"{AJO}/unitary", json={**call, "context": {"code": "43"}})
            assert_problem(other, 409, None, "cmp-4", "req-1")
            one = call["recipients"][:1]
            for body, status, field in [
                ({**call, "requestId": "req-2", "context": {"blob": "x" * CONTEXT_BYTES}}, 413, "context"),
                ({**call, "requestId": "req-3", "context": {"system": 1}}, 422, "context.system"),
                ({**call, "requestId": "req-4", "recipients": [{**one[0], "userId": f"p{n}"} for n in range(21)]},
                 422, "recipients"),
                ({**call, "requestId": "req-5", "recipients": one * 2}, 422, "appears twice"),
                ({k: v for k, v in call.items() if k != "requestId"}, 422, "requestId"),
                ({**call, "requestId": "req-6", "campaignId": "cmp-2"}, 422, "campaignId"),
            ]:
                assert_problem(http.post(f"{AJO}/unitary", json=body), status, field, body["campaignId"],
                               body.get("requestId"))
            executions = http.get("/v1/campaigns/cmp-4/executions").json()
            assert [e["id"] for e in executions] == [first.json()["executionId"]]  # the refused calls stored nothing
            sent = wait_until(lambda: (e := http.get(f"/v1/executions/{first.json()['executionId']}").json())
                              ["status"] == "succeeded" and e, "the execution to be sent", timeout=60)
            assert {o["user_id"]: o["outcome"] for o in sent["outcomes"]} == {"p01": "sent", "bo@example.com": "sent"}


async def test_a_systems_role_reads_its_audience_executions_and_schedules(http, root, engine):
    from store.models import Role, User

    cid = await live_api(root)
    await root.add_user(User(name="shop", role=Role.api_client))
    shop = {USER_HEADER: "shop"}
    accepted = (await http.post(f"{AJO}/audience", headers=shop, json={"campaignId": cid, "requestId": "s-1"})).json()
    assert (await http.get(f"{AJO}/audience/{accepted['executionId']}", headers=shop)).status_code == 200
    later = (engine.clock.now() + timedelta(hours=1)).isoformat()
    scheduled = await http.post(f"{AJO}/audience", headers=shop,
                                json={"campaignId": cid, "requestId": "s-2", "schedule": {"executeAt": later}})
    assert scheduled.status_code == 202, scheduled.text
    read = await http.get(f"{AJO}/schedules/{scheduled.json()['scheduleId']}", headers=shop)
    assert read.status_code == 200 and read.json()["scheduleStatus"] == "Scheduled"
    assert (await http.get(f"/v1/campaigns/{cid}", headers=shop)).status_code == 403  # and nothing else


async def test_an_audience_call_replayed_with_its_request_id_runs_once(http, root, engine):
    cid = await live_api(root)
    call = {"campaignId": cid, "requestId": "nightly-1", "context": {"code": "7"}}
    first = await http.post(f"{AJO}/audience", json=call)
    again = await http.post(f"{AJO}/audience", json=call)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["executionId"] == first.json()["executionId"]
    other = await http.post(f"{AJO}/audience", json={**call, "context": {"code": "8"}})
    assert_problem(other, 409, None, campaign_id=cid, request_id="nightly-1")
    assert "already used" in other.json()["detail"]
    assert len(engine.runs(cid)) == 1
