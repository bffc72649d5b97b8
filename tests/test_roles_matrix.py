"""Every role against every action, through the API: allowed ones succeed, the others get 403.

The matrix is written out by hand (from DESIGN.md section 2) rather than derived from
store.roles, so a change to the permissions has to change this table too. It runs over every way a
caller is identified: in-process, on the workspace socket (the kernel names the OS account, whose owner
plays each user), and over TCP with each user's bearer token.
"""

from __future__ import annotations

import httpx
import pytest

from store.api import create_app
from store.api.identity import USER_HEADER, OsAccountIdentity, TokenIdentity
from store.client import CampaignsClient, edit_from_file_document
from store.serving import serve_socket, serve_tcp
from store.network import Listen
from store.errors import Forbidden
from store.models import ApprovalPolicy, ChannelConfiguration, Role, User, editable_document
from store.models.audience import Audience

from .approval_support import approve_current, request_changes_current

V, M, AP, AD, API = "viewer", "manager", "approver", "admin", "api-client"
MATRIX = {
    "view": {V, M, AP, AD},
    "create": {M, AD},
    "edit": {M, AD},
    "request approval": {M, AD},
    "cancel approval request": {M, AD},
    "approve": {AP, AD},
    "request changes": {AP, AD},
    "activate (no approval needed)": {M, AD},
    "activate an approved version": {M, AP, AD},
    "trigger an API campaign": {M, AD, API},
    "read executions": {V, M, AP, AD, API},
    "stop": {M, AD},
    "archive": {M, AD},
    "duplicate": {M, AD},
    "delete": {M, AD},
    "manage users": {AD},
    "manage channel configurations": {AD},
    "manage audiences": {AD},
    "manage approval policies": {AD},
    "import profiles": {AD},
}
DOC = {"name": "Matrix", "type": "action", "category": "marketing", "tags": ["m"],
       "draft": {"channel": "sms", "channel_configuration": "sms-marketing", "audience": "everyone",
                 "content": {"sms": {"text": "Hello"}}}}


SETUP = {
    "stop": "live", "archive": "live",
    "request approval": "policy", "cancel approval request": "requested", "approve": "requested",
    "request changes": "requested", "activate an approved version": "approved",
}


async def _prepare(workspace, root: CampaignsClient, manager: CampaignsClient, action: str) -> str:
    """Bring a fresh campaign, made by the manager `max`, to the state the action needs."""
    if action in ("trigger an API campaign", "read executions"):
        api = {**DOC, "type": "api", "name": "Matrix API"}
        cid = (await manager.create_campaign(edit_from_file_document(api))).id
        await manager.activate(cid)
        return cid
    cid = (await manager.create_campaign(edit_from_file_document(DOC))).id
    state = SETUP.get(action)
    if state in ("policy", "requested", "approved"):
        await root.put_approval_policy(ApprovalPolicy(id="p", name="p", conditions={"tags": ["m"]},
                                                      approvers={"roles": ["approver"]}))
    if state in ("requested", "approved"):
        await manager.request_approval(cid)
    if state == "approved":
        await approve_current(root, cid)
    if state == "live":
        assert (await manager.activate(cid)).status.value == "Live"
    return cid


@pytest.fixture(params=["in-process", "socket", "network"])
async def client_over(request, workspace, engine, client_as, tmp_path):
    """``client(name)``: a client acting as ``name`` over the transport this run is for."""
    if request.param == "in-process":
        yield client_as
        return
    made: list[CampaignsClient] = []
    if request.param == "socket":
        path = tmp_path / "engine.sock"
        server, task = await serve_socket(create_app(workspace, engine, OsAccountIdentity(peer=True)), path, None)

        def client(name: str) -> CampaignsClient:
            made.append(CampaignsClient(httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(path)),
                                                          base_url="http://campaigns.local", headers={USER_HEADER: name})))
            return made[-1]
    else:
        listen = Listen(port=0)
        server, task = await serve_tcp(create_app(workspace, engine, TokenIdentity()), listen)
        founder = workspace.catalogue.users.get("root")

        def client(name: str) -> CampaignsClient:
            """The token is issued on the first call, once the test has added the user."""
            async def bearer(http_request: httpx.Request) -> None:
                if "Authorization" not in http_request.headers:
                    token, _ = workspace.administration.issue_token(founder, name)
                    http.headers["Authorization"] = http_request.headers["Authorization"] = f"Bearer {token}"

            http = httpx.AsyncClient(base_url=listen.url, event_hooks={"request": [bearer]})
            made.append(CampaignsClient(http))
            return made[-1]
    yield client
    for c in made:
        await c.aclose()
    server.should_exit = True
    await task


@pytest.mark.parametrize("role", [V, M, AP, AD, API])
@pytest.mark.parametrize("action", list(MATRIX))
async def test_role_matrix(workspace, client_over, role, action):
    root, manager = client_over("root"), client_over("max")
    await root.add_user(User(name="max", role=Role.manager))
    if role != M:
        await root.add_user(User(name="who", role=Role(role)))
    await root.put_channel_configuration(ChannelConfiguration(id="sms-marketing", name="s", channel="sms",
                                                              category="marketing", sender="SHOP"))
    await root.put_audience(Audience.model_validate({"id": "everyone", "name": "Everyone", "rule": {"kind": "all"}}))
    await root.import_profiles_chunk("jsonl", '{"id": "p1", "identities": {"phone": "+33612345678"}}\n', 1)
    cid = await _prepare(workspace, root, manager, action)
    client = manager if role == M else client_over("who")
    call = {
        "view": lambda: client.campaign(cid),
        "create": lambda: client.create_campaign(edit_from_file_document(DOC)),
        "edit": lambda: _edit(client, cid),
        "request approval": lambda: client.request_approval(cid),
        "cancel approval request": lambda: client.cancel_approval_request(cid),
        "approve": lambda: approve_current(client, cid),
        "request changes": lambda: request_changes_current(client, cid, "shorter please"),
        "activate (no approval needed)": lambda: client.activate(cid),
        "activate an approved version": lambda: client.activate(cid),
        "stop": lambda: client.stop(cid),
        "trigger an API campaign": lambda: client.trigger(cid, profiles=["p1"], context={"code": "1"}),
        "read executions": lambda: _read_executions(client, manager, cid),
        "archive": lambda: client.archive(cid),
        "duplicate": lambda: client.duplicate(cid),
        "delete": lambda: client.delete_campaign(cid),
        "manage users": lambda: client.add_user(User(name="newbie", role=Role.viewer)),
        "manage channel configurations": lambda: client.put_channel_configuration(ChannelConfiguration(
            id="push-x", name="p", channel="push", category="marketing", sender="app")),
        "manage audiences": lambda: client.put_audience(Audience.model_validate(
            {"id": "all", "name": "All", "rule": {"kind": "all"}})),
        "manage approval policies": lambda: client.put_approval_policy(ApprovalPolicy(
            id="q", name="q", approvers={"roles": ["approver"]})),
        "import profiles": lambda: client.import_profiles_chunk("jsonl", '{"id": "p1"}\n', 1),
    }[action]
    if role in MATRIX[action]:
        await call()
    else:
        with pytest.raises(Forbidden) as refused:
            await call()
        assert f"is {role} and may not" in refused.value.detail


async def _edit(client: CampaignsClient, cid: str):
    doc = editable_document(await client.campaign(cid))
    doc["description"] = "changed"
    return await client.edit_draft(cid, edit_from_file_document(doc))


async def _read_executions(client: CampaignsClient, manager: CampaignsClient, cid: str):
    execution = await manager.trigger(cid, profiles=["p1"], context={"code": "1"})
    assert (await client.execution(execution.id)).id == execution.id
    assert [e.id for e in await client.executions(cid)] == [execution.id]
