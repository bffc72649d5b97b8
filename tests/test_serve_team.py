"""A team on a real `campaigns serve`: each person with their own token, over loopback TCP.

Approvals that hold (two matching policies, an approval on the revision the approver saw) and a stale
edit refused by name, end to end through the network client.
"""

from __future__ import annotations

import pytest

from store.errors import StaleRevision
from store.models import ApprovalState, Status, editable_document
from store.client import edit_from_file_document
from store.remote import connect_remote

from .serving import serving, token
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)


@pytest.fixture
def served(demo):
    with serving(demo) as (_, url):
        yield url, demo


async def _id(client, name: str) -> str:
    rows = await client.list_campaigns()
    return next(r.id for r in rows if r.name == name)


async def test_an_approval_is_on_what_the_approver_saw_and_every_matching_policy_needs_one(served):
    url, data = served
    async with (connect_remote(url, token(data, "alice")) as alice, connect_remote(url, token(data, "chloe")) as chloe,
                connect_remote(url, token(data, "dmitri")) as dmitri):
        cid = await _id(alice, "VIP private sale")  # In review; "marketing-email" and "vip-offers" both match
        seen = (await chloe.campaign(cid)).current.revision
        await alice.cancel_approval_request(cid)
        doc = editable_document(await alice.campaign(cid))
        doc["draft"]["content"]["email"]["subject"] = "Everything must go"
        await alice.edit_draft(cid, edit_from_file_document(doc))
        await alice.request_approval(cid, "subject changed after legal's review")
        with pytest.raises(StaleRevision, match=rf"{cid} was changed by alice"):
            await chloe.approve(cid, seen)
        shown = await chloe.campaign(cid)
        assert shown.current.approval.request_message == "subject changed after legal's review"
        half = await chloe.approve(cid, shown.current.revision)
        assert half.status is Status.in_review and half.current.approval.waiting == ["vip-offers"]
        done = await dmitri.approve(cid, shown.current.revision)
        assert done.current.approval.state is ApprovalState.approved
        trail = await alice.audit_trail(cid)
        assert [(e.user, e.proof) for e in trail[-2:]] == [("chloe", "bearer token"), ("dmitri", "bearer token")]


async def test_a_stale_edit_from_a_second_user_is_refused_naming_who_changed_it(served):
    url, data = served
    async with connect_remote(url, token(data, "alice")) as alice, connect_remote(url, token(data, "bruno")) as bruno:
        cid = await _id(alice, "Black Friday early access")  # Live, with bruno's open draft beside
        read_by_alice = editable_document(await alice.campaign(cid))
        doc = editable_document(await bruno.campaign(cid))
        doc["draft"]["content"]["email"]["subject"] = "bruno's subject"
        await bruno.edit_draft(cid, edit_from_file_document(doc))
        read_by_alice["draft"]["content"]["email"]["subject"] = "alice's subject"
        with pytest.raises(StaleRevision, match="changed by bruno"):
            await alice.edit_draft(cid, edit_from_file_document(read_by_alice))
        assert (await alice.campaign(cid)).draft.content.email.subject == "bruno's subject"
