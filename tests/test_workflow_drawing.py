"""The workflow drawn as text: every activity and transition of the demo's workflows, counts when given, and a
200-activity workflow drawn whole."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from console.workflow_drawing import layout, workflow_text
from store.demo_workflows import WORKFLOWS
from store.models.run import RunCounters
from store.models.workflow import ActivityCount, ActivityKind, ActivityState, TransitionCount, Workflow, WorkflowCounts


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_activity_and_transition_is_drawn(name):
    workflow = Workflow.model_validate(WORKFLOWS[name])
    text = workflow_text(workflow)
    for activity in workflow.activities:
        assert activity.id in text
        assert (activity.label or "")[:17] in text
    for transition in workflow.transitions:
        assert f" {transition.name} " in text
    assert "not drawn" not in text
    assert "▶" in text


def test_a_split_branches_into_one_arrow_per_transition():
    workflow = Workflow.model_validate(WORKFLOWS["Onboarding journey"])
    lines = workflow_text(workflow).splitlines()
    split = layout(workflow).boxes["by-tier"]
    ports = [line[split.x + 21:] for line in lines[split.y + 1:split.y + 4]]
    assert [p.split()[0] for p in ports] == ["├─", "├─", "├─"]  # three ports on the split's right side
    assert [p.split()[1] for p in ports] == ["gold", "test-half", "others"]


def test_counts_show_on_transitions_and_channel_activities():
    workflow = Workflow.model_validate(WORKFLOWS["Onboarding journey"])
    counts = WorkflowCounts(
        campaign_id="cmp-1", version=1, run_id="run-1", computed_at=datetime(2026, 11, 26, tzinfo=timezone.utc),
        activities=[ActivityCount(id="welcome-gold", kind=ActivityKind.email, state=ActivityState.done,
                                  counters=RunCounters(targeted=1204, sent=1190)),
                    ActivityCount(id="two-days", kind=ActivityKind.wait, state=ActivityState.waiting,
                                  wait_until=datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc))],
        transitions=[TransitionCount(source="by-tier", to="welcome-gold", name="gold", count=1204),
                     TransitionCount(source="subscribers", to="by-tier", name="subscribers", count=5000)])
    text = workflow_text(workflow, counts)
    assert "─ gold 1,204 ─" in text
    assert "subscribers 5,000" in text
    assert "sent 1,190" in text
    assert "until " in text and "wait 2d" not in text


def test_two_hundred_activities_draw_whole():
    """22 branches of chains after a fork: every id is in the drawing."""
    activities = [{"id": "start", "kind": "build_audience", "rule": {"kind": "all"}},
                  {"id": "fork", "kind": "fork"}]
    transitions = [{"from": "start", "to": "fork", "name": "all"}]
    for branch in range(22):
        previous = "fork"
        for step in range(8):
            activity_id = f"b{branch}-s{step}"
            activities.append({"id": activity_id, "kind": "wait", "duration": "1d"})
            transitions.append({"from": previous, "to": activity_id, "name": f"to-{activity_id}"})
            previous = activity_id
        activities.append({"id": f"b{branch}-end", "kind": "end"})
        transitions.append({"from": previous, "to": f"b{branch}-end", "name": f"end-{branch}"})
    activities.append({"id": "short", "kind": "end"})
    transitions.append({"from": "fork", "to": "short", "name": "short"})
    workflow = Workflow.model_validate({"activities": activities[:200], "transitions": [
        t for t in transitions if t["to"] in {a["id"] for a in activities[:200]}]})
    assert len(workflow.activities) == 200
    text = workflow_text(workflow)
    for activity in workflow.activities:
        assert activity.id in text


def test_a_cycle_or_a_dangling_transition_is_listed_not_drawn():
    workflow = Workflow.model_validate({
        "activities": [{"id": "a", "kind": "fork"}, {"id": "b", "kind": "fork"}],
        "transitions": [{"from": "a", "to": "b", "name": "ab"}, {"from": "b", "to": "a", "name": "ba"}]})
    text = workflow_text(workflow)
    assert "not drawn: ab: a → b" in text and "not drawn: ba: b → a" in text
