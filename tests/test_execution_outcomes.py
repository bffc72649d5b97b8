"""Each recipient of an execution gets its own outcome: looked up by its namespace, or sent by its channel data
alone (external, transactional only); the call's profile and context override for this message only."""

from __future__ import annotations

import asyncio

import pytest

from store.client import edit_from_file_document
from store.errors import Conflict, ValidationFailed
from store.models import Status
from store.models.execution import Recipient

from .test_engine import outbox


def _r(user_id: str, namespace: str = "profileId", **fields) -> Recipient:
    return Recipient.model_validate({"userId": user_id, "namespace": namespace, **fields})


async def _live(root, category: str = "transactional") -> str:
    c = await root.create_campaign(edit_from_file_document({"name": "Reset", "type": "api", "category": category, "draft": {
        "channel": "email", "channel_configuration": f"email-{category}",
        "content": {"email": {"subject": "Reset for {{profile.person.name.firstName | default: \"you\"}}",
                              "body": "<p>Code {{context.code}}</p>"}}}}))
    assert (await root.activate(c.id)).status is Status.live
    return c.id


async def test_recipients_by_namespace_external_and_overrides(root, engine, workspace):
    cid = await _live(root)
    actor = workspace.catalogue.users.get("root")
    recipients = [
        _r("ana@EXAMPLE.com", "email", context={"code": "mine"}),  # the domain is compared lower-cased, as stored
        _r("+33600000007", "phone", profile={"person": {"name": {"firstName": "Fanny"}}}),
        _r("guest", type="external", channelData={"emailAddress": "guest@example.org"}, profile={"person": {"name": {
            "firstName": "Guest"}}}),
        _r("lost", type="external"),
        _r("nobody@example.com", "email"),
    ]
    execution, replayed = engine.execute(actor, cid, "r-1", recipients, {"code": "shared"})
    assert not replayed
    engine.run_until_idle()
    done = {o.user_id: o for o in engine.execution(actor, execution.id).outcomes}
    assert (done["ana@EXAMPLE.com"].profile_id, done["+33600000007"].profile_id) == ("p01", "p07")
    assert (done["lost"].reason, done["nobody@example.com"].reason) == ("no_address", "unknown_recipient")
    messages = {m.profile_id: m for m in await outbox(root, cid)}
    assert messages["p01"].content["body"] == "<p>Code mine</p>"  # the recipient's context wins
    assert messages["p07"].content["subject"] == "Reset for Fanny" and messages["guest"].to == "guest@example.org"
    assert workspace.profiles.get("p07").attributes["person"]["name"]["firstName"] == "Fa"  # never stored
    assert (await root.campaign(cid)).status is Status.live


async def test_a_marketing_call_excludes_externals_and_needs_consent(root, engine, workspace):
    cid = await _live(root, "marketing")
    actor = workspace.catalogue.users.get("root")
    execution, _ = engine.execute(actor, cid, "m-1", [_r("p01"), _r("p05"), _r(
        "guest", type="external", channelData={"emailAddress": "guest@example.org"})], {"code": "1"})
    engine.run_until_idle()
    done = {o.user_id: (o.outcome.value, o.reason) for o in engine.execution(actor, execution.id).outcomes}
    assert done == {"p01": ("sent", None), "p05": ("excluded", "no_consent"), "guest": ("excluded", "external_recipient")}


async def test_replays_conflicts_and_reserved_context(root, engine, workspace):
    cid = await _live(root)
    actor = workspace.catalogue.users.get("root")
    first, _ = engine.execute(actor, cid, "same", [_r("p01")], {"code": "1"})
    again, replayed = engine.execute(actor, cid, "same", [_r("p01")], {"code": "1"})
    assert replayed and again.id == first.id
    with pytest.raises(Conflict, match="'same'"):
        engine.execute(actor, cid, "same", [_r("p02")], {"code": "1"})
    with pytest.raises(ValidationFailed, match="context.system"):
        engine.execute(actor, cid, "other", [_r("p01", context={"system": 1})], {})
    engine.run_until_idle()
    assert [m.profile_id for m in await outbox(root, cid)] == ["p01"]


async def test_a_hung_gateway_holds_only_its_own_campaigns_calls(root, engine, workspace):
    """Calls through an SMTP server that never answers wait in that gateway's own slots; a call of another
    campaign, accepted after them, is sent meanwhile (it used to wait behind them in one shared pass)."""
    import time

    from store.models import ChannelConfiguration

    from .servers import SilentServer

    with SilentServer() as gateway:
        await root.put_channel_configuration(ChannelConfiguration.model_validate({
            "id": "hung", "name": "Hung SMTP", "channel": "email", "category": "transactional",
            "sender": "shop@example.com", "provider": "smtp",
            "smtp": {"host": "127.0.0.1", "port": gateway.port, "timeout_seconds": 3}}))
        hung = await root.create_campaign(edit_from_file_document({
            "name": "Via the hung gateway", "type": "api", "category": "transactional", "draft": {
                "channel": "email", "channel_configuration": "hung",
                "content": {"email": {"subject": "Hi", "body": "<p>Hi</p>"}}}}))
        await root.activate(hung.id)
        quick = await _live(root)
        actor = workspace.catalogue.users.get("root")
        engine.start()
        stuck, _ = engine.execute(actor, hung.id, "h-1", [_r("ana@example.com", "email")], {})
        sent, _ = engine.execute(actor, quick, "q-1", [_r("ana@example.com", "email")], {"code": "1"})
        deadline = time.monotonic() + 60
        while engine.execution(actor, sent.id).status.value not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the outbox call waited behind the hung gateway"
            await asyncio.sleep(0.02)
        assert engine.execution(actor, sent.id).outcomes[0].outcome.value == "sent"
        assert engine.execution(actor, stuck.id).status.value in ("accepted", "in_progress")  # still at the gateway
        while engine.execution(actor, stuck.id).status.value not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the hung gateway's attempts never ended"
            await asyncio.sleep(0.02)
        outcome = engine.execution(actor, stuck.id).outcomes[0]
        assert outcome.outcome.value == "failed" and outcome.error
