"""The HTTP API: problem JSON for every refusal, the same operations the CLI offers."""

from __future__ import annotations

import httpx
import pytest

from store.api import create_app
from store.api.identity import USER_HEADER
from store.errors import InvalidTransition
from store.models import Role, User
from store.models.audience import Audience


async def raw(workspace, method: str, path: str, user: str | None = "root", **kwargs) -> httpx.Response:
    headers = {USER_HEADER: user} if user else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(workspace)), base_url="http://t") as http:
        return await http.request(method, path, headers=headers, **kwargs)


async def test_problem_json_for_not_found(workspace):
    r = await raw(workspace, "GET", "/v1/campaigns/cmp-77")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:campaigns:problem:not-found" and body["status"] == 404
    assert body["title"] == "Not found" and "cmp-77" in body["detail"]


async def test_problem_json_for_invalid_body_lists_fields(workspace):
    r = await raw(workspace, "POST", "/v1/campaigns", json={"campaign": {"name": "", "type": "action", "category": "x"},
                                                            "version": {"channel": "fax"}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"campaign.name", "campaign.category", "version.channel"} <= fields


async def test_unknown_user_is_401_saying_how_to_fix(workspace):
    r = await raw(workspace, "GET", "/v1/campaigns", user="mallory")
    assert r.status_code == 401 and "campaigns users add mallory" in r.json()["detail"]


async def test_forbidden_and_conflict_statuses(workspace, client_as):
    await client_as("root").add_user(User(name="vic", role=Role.viewer))
    r = await raw(workspace, "POST", "/v1/users", user="vic", json={"name": "x", "role": "admin"})
    assert r.status_code == 403 and r.json()["type"].endswith("forbidden")
    r = await raw(workspace, "POST", "/v1/users", json={"name": "vic", "role": "admin"})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]


async def test_the_last_admin_cannot_be_demoted(client_as):
    with pytest.raises(InvalidTransition, match="last admin"):
        await client_as("root").set_role("root", Role.viewer)


async def test_openapi_lists_every_cli_operation(workspace):
    paths = (await raw(workspace, "GET", "/openapi.json")).json()["paths"]
    for p in ("/v1/campaigns", "/v1/campaigns/{campaign_id}", "/v1/campaigns/{campaign_id}/draft",
              "/v1/campaigns/{campaign_id}/request-approval", "/v1/campaigns/{campaign_id}/approve",
              "/v1/campaigns/{campaign_id}/request-changes", "/v1/campaigns/{campaign_id}/archive",
              "/v1/campaigns/{campaign_id}/duplicate", "/v1/campaigns/{campaign_id}/stop",
              "/v1/campaigns/{campaign_id}/activate", "/v1/users", "/v1/profiles/import-chunk",
              "/v1/profiles/{profile_id}", "/v1/approvals", "/v1/audiences/{audience_id}/size"):
        assert p in paths, p


async def test_audience_size_is_counted_from_profiles(client_as):
    root = client_as("root")
    await root.import_profiles_chunk("jsonl", "\n".join(
        f'{{"id": "p{i}", "consent": {{"email": {str(i % 2 == 0).lower()}}}}}' for i in range(10)) + "\n", 1)
    await root.put_audience(Audience.model_validate({"id": "subs", "name": "Subs", "rule": {"kind": "consent", "channel": "email"}}))
    assert await root.audience_size("subs") == 5
