"""Workflows saved through the API: the JSON shape, every problem refused at save named by activity, nothing
stored half-way, and no activation without a workflow."""

from __future__ import annotations

import httpx
import pytest

from store.api import create_app
from store.api.identity import USER_HEADER
from store.errors import ValidationFailed

from .engine_setup import prepare

WORKFLOW = {
    "activities": [
        {"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
        {"id": "vip-split", "kind": "split", "segments": [
            {"transition": "vip", "rule": {"kind": "attribute", "attr": "vip", "op": "eq", "value": True}}],
         "remainder": "others"},
        {"id": "mail", "kind": "email", "channel_configuration": "email-marketing",
         "content": {"subject": "Hi {{profile.person.name.firstName | default: \"you\"}}", "body": "<p>Hello</p>"}},
        {"id": "done", "kind": "end"},
    ],
    "transitions": [
        {"from": "everyone", "to": "vip-split", "name": "all"},
        {"from": "vip-split", "to": "mail", "name": "vip"},
        {"from": "vip-split", "to": "done", "name": "others"},
        {"from": "mail", "to": "done", "name": "sent"},
    ],
}


def body(workflow: dict | None = WORKFLOW, **version) -> dict:
    return {"campaign": {"name": "Journey", "type": "orchestrated", "category": "marketing"},
            "version": {**({"workflow": workflow} if workflow is not None else {"channel": "email"}), **version}}


@pytest.fixture
async def api(workspace, engine, client_as):
    await prepare(client_as("root"))
    app = create_app(workspace, engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 headers={USER_HEADER: "root"}) as http:
        yield http


async def test_a_workflow_is_created_and_read_back_as_written(api):
    r = await api.post("/v1/campaigns", json=body())
    assert r.status_code == 201, r.text
    draft = r.json()["draft"]
    assert draft["channel"] == "email"  # its first channel activity's, for the list
    assert draft["workflow"]["transitions"][0] == {"from": "everyone", "to": "vip-split", "name": "all"}
    assert [a["id"] for a in draft["workflow"]["activities"]] == ["everyone", "vip-split", "mail", "done"]


async def test_every_problem_is_named_by_activity_and_nothing_is_stored(api):
    bad = {
        "activities": [
            {"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
            {"id": "a", "kind": "fork"}, {"id": "b", "kind": "fork"},
            {"id": "join", "kind": "and_join"},
            {"id": "mail", "kind": "email", "content": {"subject": "", "body": "Hi {{profile.x"}},
        ],
        "transitions": [
            {"from": "everyone", "to": "join", "name": "t1"},
            {"from": "a", "to": "b", "name": "t2"}, {"from": "b", "to": "a", "name": "t3"},
            {"from": "join", "to": "mail", "name": "t4"}, {"from": "mail", "to": "nowhere", "name": "t5"},
        ],
    }
    r = await api.post("/v1/campaigns", json=body(bad))
    assert r.status_code == 422
    problems = {(e["field"], e["message"]) for e in r.json()["errors"]}
    fields = {f for f, _ in problems}
    assert "draft.workflow.transitions.t5.to" in fields  # dangling
    assert any(f == "draft.workflow.transitions" and "cycle through a, b" in m for f, m in problems)
    assert any(f == "draft.workflow.activities.join" and "two inputs or more" in m for f, m in problems)
    assert "draft.workflow.activities.mail.content.subject" in fields  # a channel activity without content
    assert any(f == "draft.workflow.activities.mail.content.body" and "unclosed" in m for f, m in problems)
    assert (await api.get("/v1/campaigns", params={"all": "true"})).json() == []


async def test_unknown_kinds_and_bad_rules_are_named_by_activity(api):
    bad = {"activities": [{"id": "x", "kind": "teleport"},
                          {"id": "who", "kind": "build_audience", "rule": {"kind": "attribute", "attr": "a", "op": "near"}}]}
    r = await api.post("/v1/campaigns", json=body(bad))
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "unknown activity kind 'teleport'" in errors["version.workflow.activities.x.kind"]
    assert any(f.startswith("version.workflow.activities.who.rule") for f in errors)


async def test_a_rule_that_does_not_compile_is_refused_at_save(api):
    deep: dict = {"kind": "all"}
    for _ in range(40):
        deep = {"kind": "not", "rule": deep}
    r = await api.post("/v1/campaigns", json=body({"activities": [{"id": "who", "kind": "build_audience", "rule": deep}]}))
    assert r.status_code == 422
    assert any(e["field"] == "draft.workflow.activities.who.rule" and "deeper than" in e["message"]
               for e in r.json()["errors"])


async def test_ten_thousand_activities_get_one_clear_line(api):
    huge = {"activities": [{"id": f"a{i}", "kind": "end"} for i in range(10_000)], "transitions": []}
    r = await api.post("/v1/campaigns", json=body(huge))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "version.workflow.activities", "message": (
        "a workflow has at most 200 activities; this one has 10,000: split it into several campaigns")}]


async def test_a_refused_edit_leaves_the_draft_as_it_was(api):
    created = (await api.post("/v1/campaigns", json=body())).json()
    cycle = {**WORKFLOW, "transitions": [*WORKFLOW["transitions"], {"from": "mail", "to": "vip-split", "name": "back"}]}
    r = await api.put(f"/v1/campaigns/{created['id']}/draft", json={**body(cycle), "base_revision": 1})
    assert r.status_code == 422 and "cycle" in r.text
    after = (await api.get(f"/v1/campaigns/{created['id']}")).json()
    assert after["draft"]["revision"] == 1 and after["draft"]["workflow"] == created["draft"]["workflow"]


async def test_no_activation_until_the_campaign_has_a_workflow(api):
    created = (await api.post("/v1/campaigns", json=body(None))).json()
    r = await api.post(f"/v1/campaigns/{created['id']}/activate")
    assert r.status_code == 422
    assert any(e["field"] == "draft.workflow" and "needs a workflow" in e["message"] for e in r.json()["errors"])


async def test_a_workflow_on_another_type_is_refused(api):
    r = await api.post("/v1/campaigns", json={**body(), "campaign": {"name": "X", "type": "action",
                                                                       "category": "marketing"}})
    assert r.status_code == 422 and "only orchestrated campaigns have a workflow" in r.text


async def test_channel_configuration_must_serve_the_channel_and_category(api):
    wrong = {**WORKFLOW, "activities": [*WORKFLOW["activities"][:2], {**WORKFLOW["activities"][2],
             "channel_configuration": "sms-transactional"}, WORKFLOW["activities"][3]]}
    r = await api.post("/v1/campaigns", json=body(wrong))
    assert r.status_code == 422
    assert any(e["field"] == "draft.workflow.activities.mail.channel_configuration"
               and "serves transactional sms, not marketing email" in e["message"] for e in r.json()["errors"])


def test_the_client_refuses_a_bad_file_before_sending():
    from store.client import edit_from_file_document

    with pytest.raises(ValidationFailed, match="unknown activity kind"):
        edit_from_file_document({"name": "J", "type": "orchestrated", "category": "marketing",
                                 "draft": {"workflow": {"activities": [{"id": "x", "kind": "nope"}]}}})


async def test_the_activation_preview_counts_a_workflow_by_test_mode(api):
    created = (await api.post("/v1/campaigns", json=body())).json()
    preview = (await api.get(f"/v1/campaigns/{created['id']}/activation-preview")).json()
    assert preview["problems"] == [] and preview["audience"] is None
    assert preview["audience_size"] == 8  # every profile enters
    assert preview["expected_sends"] == 2  # the two VIPs reach the email


async def test_an_enrichment_csv_over_its_limit_and_a_label_with_control_characters_are_refused(api):
    big = "id,offer.code\n" + "".join(f"p{n:07d},{'X' * 20}\n" for n in range(10_000))  # about 300 KB
    bad = {"activities": [WORKFLOW["activities"][0],
                          {"id": "codes", "kind": "enrichment", "csv": big},
                          {"id": "spoof", "kind": "end", "label": "Done\x1b[2J"}],
           "transitions": [{"from": "everyone", "to": "codes", "name": "all"},
                           {"from": "codes", "to": "spoof", "name": "coded"}]}
    r = await api.post("/v1/campaigns", json=body(bad))
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "256 KB (262,144 bytes)" in errors["version.workflow.activities.codes"]
    assert "version.workflow.activities.spoof.label" in errors
    assert (await api.get("/v1/campaigns", params={"all": "true"})).json() == []
