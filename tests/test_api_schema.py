"""The OpenAPI description tells the truth: every answer the API gives is one it declares.

Schemathesis generates requests (valid and invalid) for every operation of a real, seeded workspace,
reached through the app `campaigns serve` runs, with the admin's bearer token, and checks each answer's status code, content type, body
schema and headers against the description; a 5xx fails too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from store.api import create_app
from store.api.identity import TokenIdentity
from store.client import edit_from_file_document
from store.engine.engine import Engine
from store.models import ApprovalPolicy, ChannelConfiguration, Role, User
from store.models.audience import Audience
from store.workspace import Workspace

from .admin_http import http  # noqa: F401  (fixture)
from .engine_setup import email_campaign, profile_lines

# Derandomized, a few examples per operation (valid and invalid), no coverage phase (its exhaustive
# boundary cases run to thousands of requests for one nested body): well under a minute, on a busy machine too.
CONFIG = {
    "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
    "phases": {"coverage": {"enabled": False}},
    "suppress-health-check": ["all"],
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]

# Ids of what the workspace holds, offered to path parameters before generated ones, so operations reach
# real objects (and their 409s) as well as missing ones (their 404s).
SEEDED_IDS = {
    "campaign_id": ["cmp-1", "cmp-2", "cmp-3"],
    "audience_id": ["everyone"],
    "config_id": ["email-marketing"],
    "policy_id": ["sms-review"],
    "profile_id": ["p01"],
    "name": ["max"],
    "execution_id": ["cmp-4-r1"],  # the api campaign's audience execution
    "schedule_id": [],  # its scheduled execution (a random id, set by seed)
}


def seed(ws: Workspace, engine: Engine) -> None:
    """Users of every role, channel configurations, an audience, profiles, a policy, and campaigns Draft, Live,
    and Live with a draft beside."""
    root = ws.catalogue.users.find("root")
    for name, role in (("max", Role.manager), ("apo", Role.approver), ("vic", Role.viewer)):
        ws.administration.add_user(root, User(name=name, role=role))
    for channel, sender in (("email", "news@shop.example"), ("sms", "SHOP")):
        ws.administration.put_channel_configuration(root, ChannelConfiguration(
            id=f"{channel}-marketing", name=f"{channel} marketing", channel=channel, category="marketing", sender=sender))
    ws.administration.put_audience(root, Audience.model_validate({"id": "everyone", "name": "Everyone", "rule": {"kind": "all"}}))
    ws.administration.put_approval_policy(root, ApprovalPolicy.model_validate(
        {"id": "sms-review", "name": "SMS review", "conditions": {"channels": ["sms"]}, "approvers": {"roles": ["approver"]}}))
    ws.profiles.import_jsonl_chunk(profile_lines(), 1)
    for name in ("Spring sale", "Summer sale", "Autumn sale"):
        ws.lifecycle.create_campaign(root, email_campaign(name))
    engine.activate(root, "cmp-2")  # Live
    engine.activate(root, "cmp-3")
    live = ws.lifecycle.campaign(root, "cmp-3").live
    ws.lifecycle.edit_draft(root, "cmp-3", email_campaign("Autumn sale", subject="Autumn").model_copy(
        update={"base_revision": live.revision}))  # Live, with a draft beside
    ws.lifecycle.create_campaign(root, edit_from_file_document({"name": "Password reset", "type": "api",
                                                                "category": "marketing", "draft": {
        "channel": "email", "channel_configuration": "email-marketing", "audience": "everyone",
        "content": {"email": {"subject": "Reset", "body": "<p>{{context.code | default: \"-\"}}</p>"}}}}))
    engine.activate(root, "cmp-4")  # a Live api campaign, with an audience execution and a scheduled one
    engine.run_audience(root, "cmp-4", {})
    scheduled = engine.schedule_execution(
        root, "cmp-4", engine.clock.now() + timedelta(days=1), {}, None)
    SEEDED_IDS["schedule_id"] = [scheduled.schedule_id]


@pytest.fixture
def api_schema(tmp_path):
    ws = Workspace(tmp_path / "ws", founder="root")
    eng = Engine(ws)
    try:
        seed(ws, eng)
        token, _ = ws.administration.issue_token(ws.catalogue.users.get("root"), "root")  # the founding admin's
        config = {**CONFIG, "headers": {"Authorization": f"Bearer {token}"}}
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ws, eng, TokenIdentity()),
                                                config=schemathesis.Config.from_dict(config),
                                                headers=config["headers"])  # the schema needs the token too
        schema.hook(flatmap_path_parameters)
        yield schema
    finally:
        eng.shutdown()
        ws.close()


def flatmap_path_parameters(context, path_parameters):
    """Each path parameter is either what was generated or an id the workspace holds."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {k: st.sampled_from([*SEEDED_IDS.get(k, []), v]) for k, v in path_parameters.items()}
    return st.fixed_dictionaries(choices)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_answer_is_declared(case):
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code != 401, "every call carries the admin's token"


async def test_a_method_the_path_does_not_have_is_405_naming_every_method_it_has(http):
    r = await http.patch("/v1/campaigns")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "PATCH is not allowed on /v1/campaigns; use GET or POST"
    assert (await http.post("/v1/campaigns/cmp-9")).headers["allow"] == "DELETE, GET"
    r = await http.get("/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["type"] == "urn:campaigns:problem:not-found"


async def test_a_body_that_is_not_json_and_a_made_up_cursor_get_one_clear_line(http):
    r = await http.post("/v1/users", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "(body)"
    assert r.json()["detail"].startswith("(body): not valid JSON at character 9")
    r = await http.post("/v1/users", content=b'{"name": "\xff"}', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "send one JSON object in UTF-8" in r.json()["detail"]
    r = await http.get("/v1/outbox", params={"cursor": "email:-5"})  # was a 500
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
