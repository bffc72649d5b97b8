"""The demo's orchestrated campaigns: the Live "Quarterly lookbook" shows what its workflow's run sent (its email
at once, its push still waiting two weeks); the others send nothing and carry no action fields of their own."""

from __future__ import annotations

from store.models import CampaignType, RunStatus, Status

from .console_support import console
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)


def test_the_live_lookbook_shows_sends_its_workflow_made_and_the_others_none(demo):  # noqa: F811
    with console(demo) as (_, ws, engine):
        campaigns = [c for c in map(ws.catalogue.campaign, (r.row["id"] for r in ws.catalogue.campaign_rows()))
                     if c.type is CampaignType.orchestrated]
        runs = {c.name: engine.ledger.runs(c.id) for c in campaigns}
        lookbook = next(c for c in campaigns if c.name == "Quarterly lookbook")
        counts = engine.workflow_counts(lookbook.id)
        children = engine.ledger.child_runs(runs["Quarterly lookbook"][0].id)
    assert lookbook.status is Status.live
    [run] = runs.pop("Quarterly lookbook")
    assert run.status is RunStatus.running and all(r == [] for r in runs.values())
    assert all(c.current.audience is None and c.current.content.email is None for c in campaigns)
    states = {a.id: a.state.value for a in counts.activities}
    assert states["lookbook-email"] == "done" and states["two-weeks"] == "waiting"
    assert states["lookbook-push"] == "pending"
    [email] = children
    assert email.id == f"{run.id}.lookbook-email" and run.counters.sent == email.counters.sent > 0
    crossed = {t.name: t.count for t in counts.transitions}
    assert crossed["app-users"] + crossed["no-app"] == crossed["to-app"] == crossed["readers"]
