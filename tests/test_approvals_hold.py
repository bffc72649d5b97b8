"""Approvals that hold (issue 10 item 4): every matching policy needs its approval, an approver approves the
revision they saw, and a draft goes to review only when activation's checks would pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from textual.widgets import DataTable

from console.app import CampaignsApp
from console.cli import main
from console.screens.approvals import ApprovalsScreen
from store.api.identity import USER_HEADER
from store.client import CampaignsClient, edit_from_file_document
from store.demo import seed_demo_workspace
from store.embedded import connect
from store.errors import Forbidden, InvalidTransition, StaleRevision, ValidationFailed
from store.models import (
    ApprovalPolicy, ApprovalState, CampaignAction, ChannelConfiguration, Role, Status, User, editable_document,
    edit_from_document,
)
from store.models.audience import Audience
from store.workspace import Workspace

from .console_support import copy_workspace, seeded_by_cli, settle, wait_for


EVERYONE = Audience.model_validate({"id": "everyone", "name": "Everyone", "rule": {"kind": "all"}})


def vip_edit():
    return edit_from_document({
        "name": "VIP sale", "type": "action", "category": "marketing", "tags": ["vip"],
        "draft": {"channel": "email", "channel_configuration": "email-marketing", "audience": "everyone",
                  "content": {"email": {"subject": "Hi", "body": "Sale!"}}}})


@pytest.fixture
def two_policies(catalogue):
    catalogue.audiences.put(EVERYONE)
    catalogue.approval_policies.put(ApprovalPolicy(
        id="marketing-email", name="Marketing email", conditions={"categories": ["marketing"], "channels": ["email"]},
        approvers={"roles": ["approver"]}))
    catalogue.approval_policies.put(ApprovalPolicy(
        id="vip-offers", name="VIP offers need Ari", conditions={"tags": ["vip"]}, approvers={"users": ["ari"]}))


def test_two_matching_policies_need_two_approvals(lifecycle, users, two_policies):
    c = lifecycle.create_campaign(users["manager"], vip_edit())
    c = lifecycle.request_approval(users["manager"], c.id)
    assert c.draft.approval.waiting == ["marketing-email", "vip-offers"]
    c = lifecycle.approve(users["approver"], c.id, c.draft.revision)  # apo approves under marketing-email only
    assert c.status is Status.in_review and c.draft.approval.state is ApprovalState.requested
    assert c.draft.approval.waiting == ["vip-offers"] and c.draft.approval.approved_by == {"marketing-email": "apo"}
    assert CampaignAction.activate not in c.actions and CampaignAction.approve not in c.actions
    with pytest.raises(Forbidden, match="not an approver under policy 'vip-offers'"):
        lifecycle.approve(users["approver"], c.id, c.draft.revision)
    with pytest.raises(InvalidTransition, match="needs approval under policy 'vip-offers'"):
        lifecycle.activate_campaign(users["approver"], c.id, None)
    assert [r["name"] for r in lifecycle.awaiting_approval(users["approver"])] == []
    assert [r["name"] for r in lifecycle.awaiting_approval(users["approver2"])] == ["VIP sale"]
    c = lifecycle.approve(users["approver2"], c.id, c.draft.revision)
    assert c.status is Status.draft and c.draft.approval.state is ApprovalState.approved
    assert c.draft.approval.approved_by == {"marketing-email": "apo", "vip-offers": "ari"}
    assert lifecycle.activate_campaign(users["manager"], c.id, None).status is Status.activating


def test_one_person_named_by_both_policies_satisfies_both(lifecycle, users, two_policies, catalogue):
    carla = User(name="ari", role=Role.approver)  # an approver (marketing-email) named by vip-offers too
    c = lifecycle.create_campaign(users["manager"], vip_edit())
    lifecycle.request_approval(users["manager"], c.id)
    c = lifecycle.approve(carla, c.id, c.draft.revision)
    assert c.status is Status.draft and c.draft.approval.state is ApprovalState.approved
    assert c.draft.approval.approved_by == {"marketing-email": "ari", "vip-offers": "ari"}


def test_any_waiting_approver_may_send_it_back(lifecycle, users, two_policies):
    c = lifecycle.create_campaign(users["manager"], vip_edit())
    lifecycle.request_approval(users["manager"], c.id)
    lifecycle.approve(users["approver"], c.id, c.draft.revision)
    c = lifecycle.request_changes(users["approver2"], c.id, "No VIP discount this month", c.draft.revision)
    assert c.status is Status.draft and c.draft.approval.state is ApprovalState.changes_requested


def test_demo_vip_campaigns_were_approved_by_dmitri(tmp_path):
    ws = Workspace(tmp_path / "ws", founder="root")
    try:
        seed_demo_workspace(ws, ws.catalogue.users.get("root"))
        approved = 0
        for doc in ws.catalogue.campaign_documents():
            for version in (doc.get("live"), doc.get("draft"), *doc.get("history", ())):
                approval = version and version.get("approval")
                if approval and "vip" in doc.get("tags", ()) and approval["state"] == "approved":
                    assert approval["approved_by"].get("vip-offers") == "dmitri", doc["name"]
                    approved += 1
        assert approved  # the demo has VIP campaigns that went through review
    finally:
        ws.close()


# an approver approves what they saw --------------------------------------------------------
def sale_edit(subject: str = "Hi", tags: tuple[str, ...] = ("sale",)):
    return edit_from_document({
        "name": "Sale", "type": "action", "category": "marketing", "tags": list(tags),
        "draft": {"channel": "email", "channel_configuration": "email-marketing", "audience": "everyone",
                  "content": {"email": {"subject": subject, "body": "Sale!"}}}})


def resubmitted_behind_the_approvers_back(lifecycle, users) -> tuple[str, int]:
    """A request the approver read at one revision, then cancelled, changed and requested again."""
    manager = users["manager"]
    c = lifecycle.request_approval(manager, lifecycle.create_campaign(manager, sale_edit()).id)
    seen = c.draft.revision
    c = lifecycle.cancel_approval_request(manager, c.id)
    doc = editable_document(c)
    doc["draft"]["content"]["email"]["subject"] = "Everything must go"
    lifecycle.edit_draft(manager, c.id, edit_from_document(doc))
    lifecycle.request_approval(manager, c.id)
    return c.id, seen


def test_approve_is_refused_after_the_draft_changed(lifecycle, users, two_policies):
    cid, seen = resubmitted_behind_the_approvers_back(lifecycle, users)
    with pytest.raises(StaleRevision, match=rf"{cid} was changed by max at .* you reviewed revision {seen}\)"):
        lifecycle.approve(users["approver"], cid, seen)
    with pytest.raises(StaleRevision, match="was changed by max"):
        lifecycle.request_changes(users["approver"], cid, "shorter", seen)
    with pytest.raises(StaleRevision, match="does not say which revision"):
        lifecycle.approve(users["approver"], cid, None)
    c = lifecycle.campaign(users["approver"], cid)
    assert c.status is Status.in_review and c.draft.approval.state is ApprovalState.requested
    assert c.draft.approval.approved_by == {}
    assert lifecycle.approve(users["approver"], cid, c.draft.revision).draft.approval.state is ApprovalState.approved


@contextmanager
def marketing_workspace(data: Path, users) -> Iterator[Workspace]:
    """A workspace on disk with the test users, one approval policy on marketing and what an email needs;
    closed afterwards so that the CLI can open it."""
    ws = Workspace(data, founder="root")
    try:
        for user in users.values():
            ws.catalogue.users.put(user)
        ws.catalogue.approval_policies.put(ApprovalPolicy(
            id="marketing", name="Marketing", conditions={"categories": ["marketing"]}, approvers={"roles": ["approver"]}))
        ws.catalogue.audiences.put(EVERYONE)
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id="email-marketing", name="Email", channel="email", category="marketing", sender="shop@example.com"))
        yield ws
    finally:
        ws.close()


def test_cli_approve_sends_the_revision_it_was_given(tmp_path, users, capsys):
    data = tmp_path / "ws"
    with marketing_workspace(data, users) as ws:
        cid, seen = resubmitted_behind_the_approvers_back(ws.lifecycle, users)
    capsys.readouterr()
    assert main(["--data", str(data), "--user", "apo", "approve", cid, "--revision", str(seen)]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{cid} was changed by max" in err and f"you reviewed revision {seen}" in err
    assert len(err.splitlines()) == 1
    assert main(["--data", str(data), "--user", "apo", "approve", cid]) == 0  # the revision it shows
    err = capsys.readouterr().err
    assert f"deciding on revision {seen + 1} of {cid} (last changed by max" in err and "approved" in err


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return seeded_by_cli(tmp_path_factory.mktemp("approvals-hold") / "demo")


async def test_console_approves_the_revision_on_screen(demo_dir, tmp_path):
    """chloe's inbox shows a draft; its requester changes it behind her back: her y is refused, naming who."""
    async with connect(copy_workspace(demo_dir, tmp_path / "ws"), "chloe") as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("w")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ApprovalsScreen)
            table = screen.query_one(DataTable)
            row = next(r for r in screen.rows.values() if r.name == "Re-engagement winback")
            table.move_cursor(row=table.get_row_index(row.id))
            await settle(pilot)
            requester = CampaignsClient(httpx.AsyncClient(
                transport=client.http._transport, base_url=client.http.base_url,
                headers={USER_HEADER: row.requested_by}))
            await requester.cancel_approval_request(row.id)
            doc = editable_document(await requester.campaign(row.id))
            doc["description"] = "changed after the approver opened it"
            await requester.edit_draft(row.id, edit_from_file_document(doc))
            await requester.request_approval(row.id)
            await pilot.press("y")
            await wait_for(pilot, lambda: any(n.severity == "error" for n in app._notifications), "the refusal")
            error = next(n for n in app._notifications if n.severity == "error")
            assert f"was changed by {row.requested_by}" in error.message
            assert f"you reviewed revision {row.revision}" in error.message
            assert (await client.campaign(row.id)).draft.approval.state is ApprovalState.requested


# request approval checks the draft like activation does -------------------------------------
def test_request_approval_refuses_an_unready_draft_with_every_problem(lifecycle, users, two_policies, catalogue):
    doc = {"name": "Half done", "type": "action", "category": "marketing", "tags": ["sale"],
           "draft": {"channel": "email", "channel_configuration": "email-marketing",
                     "content": {"email": {"subject": " ", "body": "Sale!"}},
                     "schedule": {"start": "2020-01-01T09:00:00Z"}}}
    c = lifecycle.create_campaign(users["manager"], edit_from_document(doc))
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.request_approval(users["manager"], c.id)
    assert {e["field"] for e in refused.value.errors} == {
        "draft.audience", "draft.content.email.subject", "draft.schedule.start"}
    assert refused.value.detail.startswith(f"{c.id} cannot be sent for approval: ")
    c = lifecycle.campaign(users["manager"], c.id)
    assert c.status is Status.draft and c.draft.approval is None
    assert [e.action for e in catalogue.audit_trail(c.id)] == ["created"]


def test_cli_request_approval_names_every_problem_in_one_line(tmp_path, users, capsys):
    data = tmp_path / "ws"
    with marketing_workspace(data, users) as ws:
        cid = ws.lifecycle.create_campaign(users["manager"], edit_from_document({
            "name": "Empty", "type": "action", "category": "marketing",
            "draft": {"channel": "sms", "content": {"sms": {"text": ""}}}})).id
    capsys.readouterr()
    assert main(["--data", str(data), "--user", "max", "request-approval", cid]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    for words in ("cannot be sent for approval", "draft.audience", "draft.channel_configuration",
                  "draft.content.sms.text: must not be empty"):
        assert words in err
