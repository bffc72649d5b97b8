"""Test mode (store/workflow_test.py): every transition counted, channel and save activities skipped, a sample
rendered, and nothing written to the profile store's file."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from store.models.audience import RULE
from store.models.workflow import ActivityState, Workflow
from store.profiles.db import ProfileStore
from store.profiles.workflow_sql import Populations
from store.workflow_test import run_workflow_test

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
WORKFLOW = Workflow.model_validate({
    "activities": [
        {"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
        {"id": "offers", "kind": "enrichment", "csv": "id,offer.code\nr0001,WELCOME1\nr0003,WELCOME3\n"},
        {"id": "split", "kind": "split", "segments": [{"transition": "a", "percent": 40}], "remainder": "b"},
        {"id": "keep", "kind": "save_audience", "list": "tested"},
        {"id": "wait", "kind": "wait", "duration": "3d"},
        {"id": "mail", "kind": "email", "content": {
            "subject": "Hello {{profile.person.name.firstName}}",
            "body": "<p>Your code: {{profile.offer.code | default: \"none\"}}</p>"}},
        {"id": "text", "kind": "sms", "content": {"text": "Code {{profile.offer.code}}"}},
        {"id": "done", "kind": "end"},
    ],
    "transitions": [
        {"from": "everyone", "to": "offers", "name": "all"}, {"from": "offers", "to": "split", "name": "enriched"},
        {"from": "split", "to": "keep", "name": "a"}, {"from": "split", "to": "wait", "name": "b"},
        {"from": "keep", "to": "mail", "name": "kept"}, {"from": "wait", "to": "text", "name": "waited"},
        {"from": "mail", "to": "done", "name": "mailed"}, {"from": "text", "to": "done", "name": "texted"},
    ],
})


@pytest.fixture
def profiles(tmp_path):
    store = ProfileStore(tmp_path)
    lines = [json.dumps({"id": f"r{i:04d}", "identities": {"email": f"r{i}@x.example"},
                         "attributes": {"person": {"name": {"firstName": f"Name{i}"}}}}) for i in range(1000)]
    assert store.import_jsonl_chunk("\n".join(lines), 1).imported == 1000
    yield store
    store.close()


def _files(store: ProfileStore) -> list:
    paths = [store.path.with_name(store.path.name + suffix) for suffix in ("", "-wal")]
    return [(p.read_bytes(), p.stat().st_mtime_ns) if p.exists() else None for p in paths]


def test_every_transition_is_counted_and_nothing_is_written(profiles):
    before = _files(profiles)
    counts = run_workflow_test(profiles, "c-1", 2, WORKFLOW, {}, NOW)
    assert _files(profiles) == before
    assert profiles.list_names() == {}  # save_audience skipped
    assert (counts.campaign_id, counts.version, counts.test, counts.run_id, counts.computed_at) == ("c-1", 2, True,
                                                                                                    None, NOW)
    by_name = {t.name: t for t in counts.transitions}
    assert by_name["all"].count == by_name["enriched"].count == 1000
    assert by_name["a"].count + by_name["b"].count == 1000
    assert 300 < by_name["a"].count < 500
    assert by_name["kept"].count == by_name["mailed"].count == by_name["a"].count
    assert by_name["waited"].count == by_name["texted"].count == by_name["b"].count
    assert by_name["all"].sample == ["r0000", "r0001", "r0002", "r0003", "r0004"]
    assert all(len(t.sample) == 5 for t in counts.transitions)
    states = {a.id: a.state for a in counts.activities}
    assert states == {"everyone": ActivityState.done, "offers": ActivityState.done, "split": ActivityState.done,
                      "keep": ActivityState.skipped, "wait": ActivityState.done, "mail": ActivityState.skipped,
                      "text": ActivityState.skipped, "done": ActivityState.done}
    activity = {a.id: a for a in counts.activities}
    assert activity["split"].inbound == 1000 and activity["split"].unrouted == 0
    assert activity["done"].inbound == 1000


def test_each_channel_activity_is_rendered_for_its_first_profile(profiles):
    counts = run_workflow_test(profiles, "c-1", 1, WORKFLOW, {}, NOW)
    by_name = {t.name: t for t in counts.transitions}
    activity = {a.id: a for a in counts.activities}
    mail, text = activity["mail"], activity["text"]
    # With this seed r0001 (enriched with a code) is the first to be mailed and r0000 (no code) the first texted.
    assert mail.sample_profile == by_name["kept"].sample[0] == "r0001"
    assert mail.rendered == {"subject": "Hello Name1", "preheader": "", "body": "<p>Your code: WELCOME1</p>"}
    assert mail.error is None
    assert text.sample_profile == by_name["waited"].sample[0] == "r0000"
    assert text.rendered is None  # no code and no default: the test says so before anything is sent
    assert text.error == ("rendering for profile r0000: workflow.activities.text.content.sms.text: "
                          "profile.offer.code is missing or null and has no default")


def test_a_tests_counts_are_the_runs(profiles):
    tested = {t.name: t.count for t in run_workflow_test(profiles, "c-9", 1, WORKFLOW, {}, NOW).transitions}
    run = Populations(profiles, "run-1")
    for activity in WORKFLOW.order():
        run.evaluate(WORKFLOW, activity, seed=f"c-9:{activity.id}", audiences={})
    assert tested == {t.name: run.count(t.name) for t in WORKFLOW.transitions}


def test_an_activity_that_cannot_be_computed_fails_and_the_rest_wait(profiles):
    workflow = Workflow.model_validate({
        "activities": [{"id": "vips", "kind": "read_audience", "audience": "vip"},
                       {"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
                       {"id": "both", "kind": "combine", "operation": "union"}, {"id": "done", "kind": "end"}],
        "transitions": [{"from": "everyone", "to": "both", "name": "e"}, {"from": "vips", "to": "both", "name": "v"},
                        {"from": "both", "to": "done", "name": "u"}]})
    counts = run_workflow_test(profiles, "c-1", 1, workflow, {}, NOW)
    activity = {a.id: a for a in counts.activities}
    assert activity["vips"].state is ActivityState.failed and "'vip', which does not exist" in activity["vips"].error
    assert activity["both"].state is ActivityState.pending and activity["done"].state is ActivityState.pending
    assert {t.name: t.count for t in counts.transitions} == {"e": None, "v": None, "u": None}
    ok = run_workflow_test(profiles, "c-1", 1, workflow, {"vip": RULE.validate_python({"kind": "all"})}, NOW)
    assert {t.name: t.count for t in ok.transitions} == {"e": 1000, "v": 1000, "u": 1000}
