"""The canvas's edits as functions of the workflow JSON: what `a` adds saves cleanly, a source starts a branch."""

from __future__ import annotations

from console import workflow_edits as edits
from store.models import Category, Workflow
from store.models.workflow import ActivityKind
from store.workflow_rules import workflow_problems


def saves(document: dict) -> list[dict]:
    return workflow_problems(Workflow.model_validate(document), Category.marketing)


def test_a_second_audience_starts_its_own_branch_and_combines_with_the_first():
    workflow: dict = {"activities": [], "transitions": []}
    assert edits.addable_kinds(workflow, None) == [ActivityKind.build_audience, ActivityKind.read_audience]
    first = edits.new_activity(workflow, ActivityKind.build_audience)
    workflow = edits.add_after(workflow, None, first)
    assert ActivityKind.read_audience in edits.addable_kinds(workflow, first["id"])
    second = edits.new_activity(workflow, ActivityKind.read_audience, audience="vip")
    workflow = edits.add_after(workflow, first["id"], second)
    assert second["audience"] == "vip" and workflow["transitions"] == []  # not after the first: beside it
    combine = edits.new_activity(workflow, ActivityKind.combine)
    workflow = edits.add_after(workflow, first["id"], combine, second_input=second["id"])
    assert {(t["from"], t["to"]) for t in workflow["transitions"]} == {
        (first["id"], combine["id"]), (second["id"], combine["id"])}
    assert saves(workflow) == []


def test_after_an_end_only_a_new_branch_can_be_added():
    workflow = {"activities": [{"id": "all", "kind": "build_audience", "rule": {"kind": "all"}},
                               {"id": "done", "kind": "end"}],
                "transitions": [{"from": "all", "to": "done", "name": "all"}]}
    assert edits.addable_kinds(workflow, "done") == [ActivityKind.build_audience, ActivityKind.read_audience]


def test_every_kind_added_after_an_audience_saves():
    base = {"activities": [{"id": "all", "kind": "build_audience", "rule": {"kind": "all"}}], "transitions": []}
    for kind in edits.addable_kinds(base, "all"):
        if kind in (ActivityKind.combine, ActivityKind.and_join):
            continue  # they ask for a second input
        activity = edits.new_activity(base, kind, "email-marketing" if kind is ActivityKind.email else None,
                                      audience="vip")
        if kind in (ActivityKind.sms, ActivityKind.push):
            activity["channel_configuration"] = f"{kind.value}-marketing"
        assert saves(edits.add_after(base, "all", activity)) == [], kind
