"""Workflows from the command line: create and edit them as JSON, test mode's counts, `show`."""

from __future__ import annotations

import json

from .test_cli import campaign_id, demo, demo_template, run, run_json  # noqa: F401 (fixtures)


def test_campaigns_test_prints_every_transition_with_its_count(demo, capsys):
    cid = campaign_id(capsys, "Onboarding journey")
    code, out, err = run(capsys, "test", cid)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    lines = {r[0]: r for r in rows if len(r) == 4 and r[-1].replace(",", "").isdigit()}  # the table's rows
    assert lines["subscribers"][:3] == ["subscribers", "subscribers", "by-tier"]
    counts = {name: int(lines[name][-1].replace(",", "")) for name in ("subscribers", "gold", "test-half", "others")}
    assert counts["gold"] + counts["test-half"] + counts["others"] == counts["subscribers"] > 0
    assert "rendered for p" in out and "welcome-gold (Email): skipped" in out


def test_campaigns_test_json_gives_the_workflows_transitions_with_counts(demo, capsys):
    cid = campaign_id(capsys, "Abandoned browse")
    body = run_json(capsys, "test", cid)
    assert body["test"] is True and body["run_id"] is None
    transitions = {t["name"]: t for t in body["transitions"]}
    assert set(transitions) == {"browsers", "vips", "non-vip", "unique", "targeted", "saved"}
    assert transitions["browsers"]["from"] == "browsers" and transitions["browsers"]["to"] == "not-vip"
    assert transitions["unique"]["count"] <= transitions["non-vip"]["count"] <= transitions["browsers"]["count"]
    assert transitions["targeted"]["count"] == transitions["unique"]["count"]  # a channel activity passes them on
    # test mode saves nothing: the list the workflow would save is still unknown to the profile store
    code, out, _ = run(capsys, "profiles", "stats")
    assert code == 0 and "winback" not in out


def test_test_of_a_campaign_without_a_workflow_says_what_to_do(demo, capsys):
    cid = campaign_id(capsys, "Cyber Monday push")
    code, _, err = run(capsys, "test", cid)
    assert code != 0 and "only orchestrated campaigns have a workflow" in err


def test_a_workflow_is_created_and_edited_from_a_file(demo, capsys, tmp_path):
    document = {"name": "Welcome", "type": "orchestrated", "category": "marketing", "draft": {"workflow": {
        "activities": [{"id": "all", "kind": "read_audience", "audience": "everyone"},
                       {"id": "mail", "kind": "email", "channel_configuration": "email-marketing",
                        "content": {"subject": "Hello", "body": "Welcome"}}],
        "transitions": [{"from": "all", "to": "mail", "name": "everyone"}]}}}
    path = tmp_path / "welcome.json"
    path.write_text(json.dumps(document))
    code, out, err = run(capsys, "create", "--file", str(path))
    assert code == 0, err
    cid = out.strip()
    shown = run_json(capsys, "show", cid)
    assert shown["draft"]["workflow"]["transitions"] == [{"from": "all", "to": "mail", "name": "everyone"}]
    shown["draft"]["workflow"]["transitions"].append({"from": "mail", "to": "all", "name": "loop"})
    path.write_text(json.dumps(shown))
    code, _, err = run(capsys, "edit", cid, "--file", str(path))
    assert code == 1 and "cycle through" in err and "activities.all" in err
    assert run_json(capsys, "show", cid)["draft"]["revision"] == 1  # nothing stored half-way


def test_show_draws_the_workflow_with_the_latest_runs_counts(demo, capsys):
    cid = campaign_id(capsys, "Quarterly lookbook")
    code, out, err = run(capsys, "show", cid)
    assert code == 0, err
    assert f"counts of run {cid}-r1" in out
    workflow = run_json(capsys, "show", cid)["live"]["workflow"]
    for activity in workflow["activities"]:
        assert activity["id"] in out
    counts = run_json(capsys, "test", cid, "--live")
    readers = next(t for t in counts["transitions"] if t["name"] == "readers")
    assert f"readers {readers['count']:,}" in out  # the run's count on its arrow, as a test counts it now
    assert "┌" in out and "▶" in out
