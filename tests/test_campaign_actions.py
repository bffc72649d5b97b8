"""The actions a campaign's payload and list row advertise are exactly those the engine then allows.

For every role and a campaign in each state, every action is tried through the API: it must succeed when the
payload listed it and be refused when it did not. A rule changed on one side only fails here.
"""

from __future__ import annotations

from datetime import timedelta

from store.client import CampaignsClient, edit_from_file_document
from store.engine.ledger import Ledger
from store.errors import CampaignsError
from store.models import (
    ApprovalPolicy, CampaignAction, Role, RunFailure, RunStatus, Status, User, editable_document,
)

from .approval_support import approve_current, request_changes_current
from .engine_setup import email_campaign

A = CampaignAction
ROLES = {"vic": Role.viewer, "max": Role.manager, "mia": Role.manager, "apo": Role.approver, "root": Role.admin}
LATER = {"start": "2026-12-24T09:00", "time_zone": "UTC"}


async def _state(root: CampaignsClient, max_: CampaignsClient, engine, state: str) -> str:
    """A fresh campaign by the manager `max`, brought to ``state``."""
    reviewed = state.startswith("policy")
    edit = email_campaign(f"{state} campaign", schedule=LATER if state == "scheduled" else None,
                          type="api" if state == "api live" else "action")
    if reviewed:
        edit.campaign.tags = ["review"]
    cid = (await max_.create_campaign(edit)).id
    if state in ("draft", "policy draft"):
        return cid
    if reviewed:
        await max_.request_approval(cid)
        if state == "policy in review":
            return cid
        if state == "policy changes requested":
            await request_changes_current(root, cid, "shorter")
            return cid
        await approve_current(root, cid)
        if state == "policy approved":
            return cid
    await max_.activate(cid)
    engine.run_until_idle()
    if state == "live with draft" or state == "policy live with draft":
        doc = editable_document(await max_.campaign(cid))
        doc["description"] = "next version"
        await max_.edit_draft(cid, edit_from_file_document(doc))
        if state == "policy live with draft":
            await max_.request_approval(cid)
    elif state == "stopped":
        await max_.stop(cid)
    elif state == "archived":
        await max_.stop(cid)
        await max_.archive(cid)
    return cid


STATES = ["draft", "policy draft", "policy in review", "policy changes requested", "policy approved", "live",
          "scheduled", "live with draft", "policy live with draft", "stopped", "archived", "api live"]


async def _try(client: CampaignsClient, action: CampaignAction, cid: str) -> bool:
    """Whether the engine allows ``action`` (True when done); a refusal is one of the API's problems."""
    calls = {
        A.edit: lambda: _edit(client, cid),
        A.request_approval: lambda: client.request_approval(cid),
        A.cancel_approval_request: lambda: client.cancel_approval_request(cid),
        A.approve: lambda: approve_current(client, cid),
        A.request_changes: lambda: request_changes_current(client, cid, "shorter please"),
        A.activate: lambda: client.activate(cid),
        A.stop: lambda: client.stop(cid),
        A.archive: lambda: client.archive(cid),
        A.duplicate: lambda: client.duplicate(cid),
        A.delete: lambda: client.delete_campaign(cid),
        A.trigger: lambda: client.trigger(cid, profiles=["p01"], context={}),
    }
    try:
        await calls[action]()
    except CampaignsError:
        return False
    return True


async def _edit(client: CampaignsClient, cid: str):
    doc = editable_document(await client.campaign(cid))
    doc["description"] = "changed"
    return await client.edit_draft(cid, edit_from_file_document(doc))


async def test_advertised_actions_are_exactly_what_the_engine_allows(root, client_as, engine):
    for name in ("vic", "mia"):  # max and apo come with the prepared workspace
        await root.add_user(User(name=name, role=ROLES[name]))
    await root.put_approval_policy(ApprovalPolicy(id="review", name="Review", conditions={"tags": ["review"]},
                                                  approvers={"roles": ["approver"]}))
    clients = {name: client_as(name) for name in ROLES}
    drift = []
    for state in STATES:
        for name, client in clients.items():
            cid = await _state(root, clients["max"], engine, state)
            advertised = set((await client.campaign(cid)).actions)
            assert set((await _row(client, cid)).actions) == advertised, (state, name)
            assert (A.compare in advertised) == ("with draft" in state), (state, name)
            for action in A:
                if action is A.compare:
                    continue
                allowed = await _try(client, action, cid)
                if allowed != (action in advertised):
                    drift.append(f"{state} / {name} ({ROLES[name].value}) / {action.value}: "
                                 f"{'allowed' if allowed else 'refused'} but {'' if action in advertised else 'not '}listed")
                if allowed and action is not A.duplicate:  # it changed: the next action starts from the state again
                    cid = await _state(root, clients["max"], engine, state)
    assert not drift, "\n".join(drift)


async def _row(client: CampaignsClient, cid: str):
    from store.listing import CampaignFilter

    return next(r for r in await client.list_campaigns(CampaignFilter(all=True)) if r.id == cid)


async def test_a_list_row_carries_the_callers_actions(root, client_as):
    await root.add_user(User(name="vic", role=Role.viewer))
    cid = (await client_as("max").create_campaign(email_campaign())).id
    assert set((await _row(client_as("vic"), cid)).actions) == set()
    assert {A.edit, A.activate, A.delete, A.duplicate} <= set((await _row(client_as("max"), cid)).actions)
    assert A.archive not in (await _row(client_as("max"), cid)).actions  # a Draft is deleted, not archived


async def test_activation_makes_one_lifecycle_change_after_the_checks(root, client_as):
    max_ = client_as("max")
    cid = (await max_.create_campaign(email_campaign())).id
    before = len(await max_.audit_trail(cid))
    campaign = await max_.activate(cid)
    assert campaign.status is Status.live and campaign.live.number == 1
    events = [(e.user, e.action) for e in (await max_.audit_trail(cid))[before:]]
    assert events == [("max", "activated"), ("engine", "activation completed")]
    assert A.stop in campaign.actions and A.activate not in campaign.actions


async def test_a_refused_activation_changes_nothing(root, client_as, workspace):
    max_ = client_as("max")
    cid = (await max_.create_campaign(email_campaign(audience="vips"))).id
    workspace.profiles.import_jsonl_chunk('{"id": "p01", "attributes": {"vip": false}}\n'
                                          '{"id": "p07", "attributes": {"vip": false}}\n', 1)
    before = await max_.audit_trail(cid)
    try:
        await max_.activate(cid)
    except CampaignsError as refused:
        assert "is empty" in refused.detail
    else:
        raise AssertionError("an empty audience must refuse the activation")
    assert (await max_.campaign(cid)).status is Status.draft and await max_.audit_trail(cid) == before


async def test_a_campaign_left_activating_is_completed_by_the_engine(root, client_as, engine, workspace):
    """As after a crash between the person's activation and its completion (or a store from before)."""
    max_ = client_as("max")
    cid = (await max_.create_campaign(email_campaign())).id
    workspace.lifecycle.activate_campaign(workspace.catalogue.users.find("max"), cid, None)
    assert (await max_.campaign(cid)).status is Status.activating
    engine.run_until_idle()
    assert (await max_.campaign(cid)).status is Status.live
    assert [e.action for e in await max_.audit_trail(cid)][-2:] == ["activated", "activation completed"]


async def test_a_recurring_campaign_whose_audience_was_empty_stays_live(root, engine, workspace, clock):
    schedule = {"time_zone": "UTC", "recurrence": {"frequency": "hourly", "interval": 6}}
    c = await root.create_campaign(email_campaign(audience="vips", schedule=schedule))
    await root.activate(c.id)
    workspace.profiles.import_jsonl_chunk('{"id": "p01", "attributes": {"vip": false}}\n'
                                          '{"id": "p07", "attributes": {"vip": false}}\n', 1)
    clock.advance(timedelta(hours=6))
    engine.run_until_idle()
    [run] = [r for r in await root.runs(c.id) if r.status is RunStatus.failed]
    assert run.failure is RunFailure.audience_empty and "is empty" in run.error
    assert (await root.campaign(c.id)).status is Status.live


async def test_a_run_journaled_before_typed_reasons_still_loads(tmp_path):
    """An engine journal written before the failure column: opening adds it, old runs read with none."""
    import sqlite3

    path = tmp_path / "engine.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, version INTEGER NOT NULL,
            trigger TEXT NOT NULL, occurrence TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT,
            ended_at TEXT, error TEXT, targeted INTEGER NOT NULL DEFAULT 0, sent INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0, excluded TEXT NOT NULL DEFAULT '{}', cursor TEXT NOT NULL DEFAULT '',
            last_id TEXT, context TEXT, UNIQUE (campaign_id, occurrence));
        INSERT INTO runs (id, campaign_id, version, trigger, status, created_at, error)
            VALUES ('cmp-1-r1', 'cmp-1', 1, 'schedule', 'failed', '2026-11-01T09:00:00+00:00', 'audience ''vips'' is empty');
    """)
    db.commit()
    db.close()
    ledger = Ledger(tmp_path)
    try:
        run = ledger.run("cmp-1-r1")
        assert run.status is RunStatus.failed and run.failure is None and "is empty" in run.error
    finally:
        ledger.close()


def test_every_status_has_its_transitions_and_its_display():
    """Adding a status touches the model, the transition table, one display map and the demo (docs/architecture.md):
    a status missing from the table or the map fails here rather than on the screen."""
    from console.display import STATUS_TONES
    from store.campaign_rules import TRANSITIONS

    assert set(TRANSITIONS) == set(Status) and set(STATUS_TONES) == set(Status)
    assert all(to <= set(Status) for to in TRANSITIONS.values())
