"""Test mode of an orchestrated campaign: every transition's count, computed as a run would, sending and saving nothing.

As in AJO, every activity runs but Save audience and the channel activities, which pass their population on
(state ``skipped``); waits pass at once. Each channel activity is rendered for the first profile that reaches it,
from the same rows a run sends from, so enriched attributes render and a template that fails for real data says
so before anything is sent. The populations live in TEMP tables (``Populations(test=True)``): the profile store's
file is never written, and the cost is that of the SQL, linear in the profiles.
"""

from __future__ import annotations

from datetime import datetime

from .errors import ValidationFailed
from .models.audience import Rule
from .models.workflow import (
    CHANNELS, ActivityCount, ActivityKind, ActivityState, ChannelActivity, TransitionCount, Workflow, WorkflowCounts,
)
from .profiles.db import ROW_FIELDS, ProfileStore
from .profiles.workflow_sql import Populations
from .templates import RenderError, compile_content

SAMPLE_SIZE = 5
_NOT_EXECUTED = frozenset({ActivityKind.save_audience, *CHANNELS})


def run_workflow_test(profiles: ProfileStore, campaign_id: str, version_number: int, workflow: Workflow,
                      audiences: dict[str, Rule], now: datetime) -> WorkflowCounts:
    """Count every transition of ``workflow`` over today's profiles. An activity that cannot be computed (an
    audience gone since the save) is ``failed`` with its reason, and the activities after it stay ``pending``."""
    populations = Populations(profiles, f"test:{campaign_id}:{version_number}", test=True)
    counts = {a.id: ActivityCount(id=a.id, kind=ActivityKind(a.kind)) for a in workflow.activities}
    transitions = {t.name: TransitionCount(source=t.source, to=t.to, name=t.name) for t in workflow.transitions}
    try:
        for activity in workflow.order():
            count = counts[activity.id]
            try:
                result = populations.evaluate(workflow, activity, seed=f"{campaign_id}:{activity.id}",
                                              audiences=audiences)
            except ValidationFailed as error:
                count.state, count.error = ActivityState.failed, error.detail
                break
            count.inbound, count.unrouted = result.inbound, result.unrouted
            count.state = ActivityState.skipped if count.kind in _NOT_EXECUTED else ActivityState.done
            for name, crossed in result.outbound.items():
                transitions[name].count, transitions[name].sample = crossed, populations.sample(name, SAMPLE_SIZE)
            if count.kind in CHANNELS:
                _render_sample(populations, workflow, activity, count)  # type: ignore[arg-type]
    finally:
        populations.close()
    return WorkflowCounts(campaign_id=campaign_id, version=version_number, test=True, computed_at=now,
                          activities=list(counts.values()), transitions=list(transitions.values()))


def _render_sample(populations: Populations, workflow: Workflow, activity: ChannelActivity,
                   count: ActivityCount) -> None:
    """``rendered`` for the first profile (lowest id) that reaches ``activity``, or ``error`` saying why not."""
    inbound = workflow.inbound(activity.id)
    try:
        compiled = compile_content(activity.message_content(), activity.channel,
                                   f"workflow.activities.{activity.id}.content")
    except ValidationFailed as error:
        count.error = error.detail
        return
    paths = sorted(compiled.paths)
    first = next(populations.rows(inbound[0].name, attributes=paths, chunk_size=1), []) if inbound else []
    if not first:
        return
    row = first[0]
    count.sample_profile = row[0]
    try:
        count.rendered = compiled.bind(paths, offset=len(ROW_FIELDS) - 1)(row, None)
    except RenderError as error:
        count.error = f"rendering for profile {row[0]}: {error}"
