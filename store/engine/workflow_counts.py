"""A workflow run's counts as people read them: each activity's state, each transition's count and sample,
each channel activity's delivery run and its counters, from the engine journal."""

from __future__ import annotations

from datetime import datetime

from ..models import Campaign, Run
from ..models.workflow import CHANNELS, ActivityCount, ActivityKind, ActivityState, TransitionCount, WorkflowCounts
from .ledger import Ledger
from .runner import RunFailed, version_of


def workflow_counts(ledger: Ledger, campaign: Campaign, run: Run, now: datetime) -> WorkflowCounts | None:
    """None when the run's version has no workflow (or is gone)."""
    try:
        workflow = version_of(campaign, run.version).workflow
    except RunFailed:
        return None
    if workflow is None:
        return None
    records = ledger.activities(run.id)
    children = {child.id: child for child in ledger.child_runs(run.id)}
    activities = []
    for activity in workflow.activities:
        record = records.get(activity.id)
        child = children.get(f"{run.id}.{activity.id}") if ActivityKind(activity.kind) in CHANNELS else None
        activities.append(ActivityCount(
            id=activity.id, kind=ActivityKind(activity.kind), state=ActivityState(record.state) if record else ActivityState.pending,
            inbound=record.inbound if record else None, unrouted=record.unrouted if record else 0,
            wait_until=record.wait_until if record else None, error=record.error if record else None,
            run_id=child.id if child else None, counters=child.counters if child else None))
    transitions = []
    for transition in workflow.transitions:
        record = records.get(transition.source)
        outbound = record.outbound if record is not None else {}
        transitions.append(TransitionCount(
            source=transition.source, to=transition.to, name=transition.name, count=outbound.get(transition.name),
            sample=record.samples.get(transition.name, []) if record is not None else []))
    return WorkflowCounts(campaign_id=campaign.id, version=run.version, run_id=run.id,
                          computed_at=run.ended_at or now, activities=activities, transitions=transitions)
