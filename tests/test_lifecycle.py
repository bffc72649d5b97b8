"""The state machine of DESIGN.md section 2: every allowed transition, and refusals for the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.errors import Forbidden, InvalidTransition, StaleRevision, ValidationFailed
from store.lifecycle import TRANSITIONS, ActivationOutcome, Lifecycle
from store.models.audience import Audience
from store.models import (
    ApprovalPolicy, ApprovalState, CampaignEdit, Status, editable_document, edit_from_document,
)


def new_edit(**overrides) -> CampaignEdit:
    doc = {"name": "Winter sale", "type": "action", "category": "marketing", "tags": ["sale"],
           "draft": {"channel": "email", "channel_configuration": "email-marketing", "audience": "everyone",
                     "content": {"email": {"subject": "Hi {{profile.person.name.firstName}}", "body": "Sale!"}}}}
    doc.update(overrides)
    return edit_from_document(doc)


def edit_of(campaign, **draft_changes) -> CampaignEdit:
    doc = editable_document(campaign)
    doc["draft"].update(draft_changes)
    return edit_from_document(doc)


@pytest.fixture(autouse=True)
def everyone(catalogue):
    """The audience the campaigns here send to: a draft without one cannot be sent for approval."""
    catalogue.audiences.put(Audience.model_validate({"id": "everyone", "name": "Everyone", "rule": {"kind": "all"}}))


@pytest.fixture
def policy(catalogue):
    p = ApprovalPolicy(id="marketing-email", name="Marketing email", conditions={"categories": ["marketing"], "channels": ["email"]},
                       approvers={"roles": ["approver"]})
    catalogue.approval_policies.put(p)
    return p


def live_campaign(lifecycle: Lifecycle, users) -> str:
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.activate_campaign(users["manager"], c.id, None)
    lifecycle.complete_activation(c.id, ActivationOutcome(scheduled=False))
    return c.id


def test_create_gives_a_draft_with_version_one_and_an_audit_event(lifecycle, users, catalogue):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    assert c.id == "cmp-1" and c.status is Status.draft
    assert c.draft.number == 1 and c.draft.revision == 1 and c.live is None
    assert [e.action for e in catalogue.audit_trail(c.id)] == ["created"]


def test_ids_are_never_reused_after_a_delete(lifecycle, users):
    a = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.delete_campaign(users["manager"], a.id)
    b = lifecycle.create_campaign(users["manager"], new_edit())
    assert (a.id, b.id) == ("cmp-1", "cmp-2")


def test_activation_without_policy_goes_through_activating_to_live(lifecycle, users, catalogue):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    c = lifecycle.activate_campaign(users["manager"], c.id, None)
    assert c.status is Status.activating and c.draft.activated_by == "max"
    c = lifecycle.complete_activation(c.id, ActivationOutcome(scheduled=False))
    assert c.status is Status.live and c.live.number == 1 and c.draft is None
    assert [e.action for e in catalogue.audit_trail(c.id)] == ["created", "activated", "activation completed"]


def test_activation_with_future_start_is_scheduled_then_live(lifecycle, users):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.activate_campaign(users["manager"], c.id, None)
    assert lifecycle.complete_activation(c.id, ActivationOutcome(scheduled=True)).status is Status.scheduled
    assert lifecycle.engine_went_live(c.id).status is Status.live


def test_modify_live_creates_a_draft_beside_it_and_activation_swaps_it_in(lifecycle, users, clock):
    cid = live_campaign(lifecycle, users)
    live = lifecycle.campaign(users["viewer"], cid)
    clock.advance(timedelta(hours=1))
    c = lifecycle.edit_draft(users["manager2"], cid, edit_of(live, content={"email": {"subject": "New subject", "body": "x"}}))
    assert c.status is Status.live and c.has_draft
    assert c.live.content.email.subject.startswith("Hi") and c.draft.content.email.subject == "New subject"
    assert c.draft.number == 2 and c.draft.revision == live.live.revision + 1
    lifecycle.activate_campaign(users["manager"], cid, None)
    assert lifecycle.campaign(users["viewer"], cid).status is Status.activating
    c = lifecycle.complete_activation(cid, ActivationOutcome(scheduled=False))
    assert c.status is Status.live and c.live.number == 2 and c.draft is None
    assert [v.number for v in c.history] == [1]


def test_failed_activation_of_a_draft_beside_live_leaves_it_live(lifecycle, users):
    cid = live_campaign(lifecycle, users)
    c = lifecycle.campaign(users["viewer"], cid)
    lifecycle.edit_draft(users["manager"], cid, edit_of(c, rate_control={"messages_per_second": 10}))
    lifecycle.activate_campaign(users["manager"], cid, None)
    c = lifecycle.complete_activation(cid, ActivationOutcome(refusal="audience is empty"))
    assert c.status is Status.live and c.has_draft and c.status_reason == "audience is empty"


def test_stale_revision_is_refused_naming_who_changed_it_and_when(lifecycle, users, clock):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    stale = edit_of(c, rate_control={"messages_per_second": 5})
    clock.advance(timedelta(minutes=3))
    lifecycle.edit_draft(users["manager2"], c.id, edit_of(c, rate_control={"messages_per_second": 7}))
    with pytest.raises(StaleRevision) as e:
        lifecycle.edit_draft(users["manager"], c.id, stale)
    assert "mia" in e.value.detail and "2026-11-26 09:03:00" in e.value.detail
    assert lifecycle.campaign(users["viewer"], c.id).draft.rate_control.messages_per_second == 7


def test_an_edit_based_on_live_is_refused_once_someone_opened_a_draft(lifecycle, users):
    cid = live_campaign(lifecycle, users)
    c = lifecycle.campaign(users["viewer"], cid)
    first, second = edit_of(c, rate_control={"messages_per_second": 1}), edit_of(c, rate_control={"messages_per_second": 2})
    lifecycle.edit_draft(users["manager"], cid, first)
    with pytest.raises(StaleRevision):
        lifecycle.edit_draft(users["manager2"], cid, second)


def test_stop_is_final(lifecycle, users):
    cid = live_campaign(lifecycle, users)
    assert lifecycle.stop_campaign(users["manager"], cid).status is Status.stopped
    with pytest.raises(InvalidTransition, match="duplicate it instead"):
        lifecycle.activate_campaign(users["admin"], cid, None)
    with pytest.raises(InvalidTransition):
        lifecycle.edit_draft(users["admin"], cid, new_edit(draft={"channel": "email", "revision": 1}))
    copy = lifecycle.duplicate_campaign(users["manager"], cid)
    assert copy.status is Status.draft and copy.name.endswith("(copy)") and copy.draft.number == 1


def test_only_drafts_can_be_deleted_and_drafts_cannot_be_archived(lifecycle, users, catalogue):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    with pytest.raises(InvalidTransition, match="deleted, not archived"):
        lifecycle.archive_campaign(users["manager"], c.id)
    cid = live_campaign(lifecycle, users)
    with pytest.raises(InvalidTransition, match="only a Draft"):
        lifecycle.delete_campaign(users["manager"], cid)
    assert lifecycle.archive_campaign(users["manager"], cid).status is Status.archived
    assert lifecycle.delete_campaign(users["manager"], c.id) is None
    assert [e.action for e in catalogue.audit_trail(c.id)][-1] == "deleted"


def test_deleting_the_open_draft_keeps_the_live_version(lifecycle, users):
    cid = live_campaign(lifecycle, users)
    c = lifecycle.campaign(users["viewer"], cid)
    lifecycle.edit_draft(users["manager"], cid, edit_of(c, rate_control={"messages_per_second": 3}))
    remaining = lifecycle.delete_campaign(users["manager"], cid)
    assert remaining.status is Status.live and remaining.draft is None and remaining.live.number == 1


def test_every_status_reaches_exactly_its_allowed_successors():
    """The table itself: Stopped/Completed only archive, Archived is terminal, only Draft enters review."""
    assert TRANSITIONS[Status.archived] == frozenset()
    assert TRANSITIONS[Status.stopped] == TRANSITIONS[Status.completed] == {Status.archived}
    assert [s for s, nxt in TRANSITIONS.items() if Status.in_review in nxt] == [Status.draft]
    assert all(Status.archived in nxt for s, nxt in TRANSITIONS.items() if s not in (Status.draft, Status.archived))
    assert Status.activating not in TRANSITIONS[Status.stopped] | TRANSITIONS[Status.completed]


def test_engine_transitions_refuse_impossible_moves(lifecycle, users):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    with pytest.raises(InvalidTransition):
        lifecycle.engine_completed(c.id, "done")
    with pytest.raises(InvalidTransition):
        lifecycle.engine_went_live(c.id)


# approvals -------------------------------------------------------------------------------
def test_policy_replaces_activate_with_request_approval(lifecycle, users, policy, catalogue):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    with pytest.raises(InvalidTransition, match="needs approval under policy 'marketing-email'"):
        lifecycle.activate_campaign(users["manager"], c.id, None)
    c = lifecycle.request_approval(users["manager"], c.id)
    assert c.status is Status.in_review and c.draft.approval.state is ApprovalState.requested
    with pytest.raises(InvalidTransition, match="cancel the approval request first"):
        lifecycle.edit_draft(users["manager"], c.id, edit_of(c))
    c = lifecycle.approve(users["approver"], c.id, c.draft.revision)
    assert c.status is Status.draft and c.draft.approval.state is ApprovalState.approved
    assert lifecycle.activate_campaign(users["approver"], c.id, None).status is Status.activating
    assert [e.action for e in catalogue.audit_trail(c.id)] == ["created", "requested approval", "approved", "activated"]


def test_request_changes_needs_a_message_and_sends_it_back(lifecycle, users, policy):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.request_approval(users["manager"], c.id)
    with pytest.raises(ValidationFailed, match="needs a message"):
        lifecycle.request_changes(users["approver"], c.id, "  ", c.draft.revision)
    c = lifecycle.request_changes(users["approver"], c.id, "Subject too long", c.draft.revision)
    assert c.status is Status.draft and c.draft.approval.message == "Subject too long"
    with pytest.raises(InvalidTransition):
        lifecycle.activate_campaign(users["manager"], c.id, None)


def test_self_approval_is_blocked_by_default(lifecycle, users, catalogue):
    catalogue.approval_policies.put(ApprovalPolicy(id="all", name="All", approvers={"roles": ["admin", "approver"]}))
    c = lifecycle.create_campaign(users["admin"], new_edit())
    lifecycle.request_approval(users["admin"], c.id)
    with pytest.raises(Forbidden, match="blocks self-approval"):
        lifecycle.approve(users["admin"], c.id, c.draft.revision)
    assert lifecycle.approve(users["approver"], c.id, c.draft.revision).draft.approval.decided_by == "apo"


def test_self_approval_allowed_when_the_policy_says_so(lifecycle, users, catalogue):
    catalogue.approval_policies.put(ApprovalPolicy(id="all", name="All", approvers={"users": ["ada"]}, block_self_approval=False))
    c = lifecycle.create_campaign(users["admin"], new_edit())
    lifecycle.request_approval(users["admin"], c.id)
    assert lifecycle.approve(users["admin"], c.id, c.draft.revision).draft.approval.state is ApprovalState.approved


def test_approvers_named_by_user_only(lifecycle, users, catalogue):
    catalogue.approval_policies.put(ApprovalPolicy(id="vip", name="VIP", conditions={"tags": ["sale"]}, approvers={"users": ["ari"]}))
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.request_approval(users["manager"], c.id)
    with pytest.raises(Forbidden, match="not an approver under policy 'vip'"):
        lifecycle.approve(users["approver"], c.id, c.draft.revision)
    assert lifecycle.approve(users["approver2"], c.id, c.draft.revision).draft.approval.decided_by == "ari"


def test_cancel_request_only_by_the_requester_or_an_admin(lifecycle, users, policy):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.request_approval(users["manager"], c.id)
    with pytest.raises(InvalidTransition, match="only max"):
        lifecycle.cancel_approval_request(users["manager2"], c.id)
    c = lifecycle.cancel_approval_request(users["manager"], c.id)
    assert c.status is Status.draft and c.draft.approval is None


def test_an_edit_withdraws_an_approval(lifecycle, users, policy):
    c = lifecycle.create_campaign(users["manager"], new_edit())
    lifecycle.request_approval(users["manager"], c.id)
    c = lifecycle.approve(users["approver"], c.id, c.draft.revision)
    c = lifecycle.edit_draft(users["manager"], c.id, edit_of(c, rate_control={"messages_per_second": 9}))
    assert c.draft.approval is None
    with pytest.raises(InvalidTransition, match="request approval first"):
        lifecycle.activate_campaign(users["manager"], c.id, None)


def test_draft_beside_live_goes_through_review_without_leaving_live(lifecycle, users, catalogue, policy):
    catalogue.approval_policies.remove("marketing-email")
    cid = live_campaign(lifecycle, users)
    catalogue.approval_policies.put(policy)
    c = lifecycle.campaign(users["viewer"], cid)
    lifecycle.edit_draft(users["manager"], cid, edit_of(c, rate_control={"messages_per_second": 50}))
    c = lifecycle.request_approval(users["manager"], cid)
    assert c.status is Status.live and c.draft.approval.state is ApprovalState.requested
    c = lifecycle.approve(users["approver"], cid, c.draft.revision)
    assert c.status is Status.live
    lifecycle.activate_campaign(users["manager"], cid, None)
    assert lifecycle.complete_activation(cid, ActivationOutcome(scheduled=False)).live.rate_control.messages_per_second == 50


# references ------------------------------------------------------------------------------
def test_channel_configuration_must_exist_and_fit(lifecycle, users):
    with pytest.raises(ValidationFailed) as e:
        lifecycle.create_campaign(users["manager"], new_edit(draft={"channel": "email", "channel_configuration": "nope"}))
    assert e.value.errors[0]["field"] == "draft.channel_configuration"
    with pytest.raises(ValidationFailed, match="serves transactional email"):
        lifecycle.create_campaign(users["manager"], new_edit(draft={"channel": "email", "channel_configuration": "email-transactional"}))
    with pytest.raises(ValidationFailed, match="no audience 'ghosts'"):
        lifecycle.create_campaign(users["manager"], new_edit(draft={"channel": "email", "audience": "ghosts"}))


def test_a_template_syntax_error_is_refused_when_saved_naming_field_line_and_column(lifecycle, users):
    body = "Hello,\n\nYour code: {{ context.code }}\nSee you {{profil.name}}"
    with pytest.raises(ValidationFailed) as e:
        lifecycle.create_campaign(users["manager"], new_edit(draft={
            "channel": "email", "content": {"email": {"subject": "Hi {{ profile.x", "body": body}}}))
    fields = {err["field"]: err["message"] for err in e.value.errors}
    assert fields["draft.content.email.body"].startswith("line 4, column 11:") and "profil" in fields["draft.content.email.body"]
    assert fields["draft.content.email.subject"].startswith("line 1, column")
