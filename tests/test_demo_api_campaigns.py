"""The demo has Live api campaigns (marketing and transactional, on email and SMS) whose content reads the call's
{{context.*}}, and a history of their executions with some recipients excluded: the console has something to show."""

from __future__ import annotations

from store.demo import CALLER
from store.models import CampaignType, Status
from store.models.execution import Outcome

from .console_support import console
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)


def test_the_demo_has_live_api_campaigns_reading_the_context_and_their_executions(demo):  # noqa: F811
    with console(demo) as (_, ws, engine):
        root = ws.catalogue.users.get("root")
        campaigns = [c for c in map(ws.catalogue.campaign, (r.row["id"] for r in ws.catalogue.campaign_rows()))
                     if c.type is CampaignType.api and c.status is Status.live]
        executions = {c.id: engine.executions(root, c.id) for c in campaigns}
    kinds = {(c.category.value, c.channel.value) for c in campaigns}
    assert {("marketing", "email"), ("marketing", "sms"), ("transactional", "email"), ("transactional", "sms")} <= kinds
    with_context = [c for c in campaigns if c.live is not None and "{{context." in c.live.content.model_dump_json()]
    assert {(c.category.value, c.channel.value) for c in with_context} >= {("marketing", "email"), ("transactional", "sms")}
    history = [e for runs in executions.values() for e in runs]
    assert len({e.campaign_id for e in history}) >= 3 and all(e.created_by == CALLER for e in history)
    outcomes = [o.outcome for e in history for o in e.outcomes]
    assert Outcome.sent in outcomes and Outcome.excluded in outcomes and Outcome.pending not in outcomes
    assert all(e.context for e in history)  # each call carries the context its campaign's content reads
