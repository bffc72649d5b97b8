"""The `campaigns` CLI end to end, in-process: every scripting command against a real demo workspace."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap

import pytest

from console.cli import main


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "demo"
    assert main(["--data", str(path), "--user", "root", "seed-demo"]) == 0
    return path


@pytest.fixture
def demo(demo_template, tmp_path, monkeypatch):
    path = tmp_path / "demo"
    shutil.copytree(demo_template, path)
    monkeypatch.setenv("CAMPAIGNS_DATA", str(path))
    monkeypatch.setenv("CAMPAIGNS_USER", "root")
    return path


def campaign_id(capsys, name: str) -> str:
    """Demo campaigns by name: their ids depend on the order the demo story creates them in."""
    return next(r["id"] for r in run_json(capsys, "list", "--all") if r["name"] == name)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_seed_demo_covers_every_type_category_and_status(demo, capsys):
    rows = run_json(capsys, "list", "--all")
    assert len(rows) >= 40
    assert {r["type"] for r in rows} == {"action", "api", "orchestrated"}
    assert {r["category"] for r in rows} == {"marketing", "transactional"}
    assert {r["status"] for r in rows} == {"Draft", "In review", "Activating", "Scheduled", "Live", "Stopped",
                                           "Completed", "Failed", "Archived"}
    assert any(r["has_draft"] and r["status"] == "Live" for r in rows)
    assert any(r["has_draft"] and r["status"] == "Scheduled" for r in rows)
    users = run_json(capsys, "users")
    assert {u["role"] for u in users} == {"viewer", "manager", "approver", "admin", "api-client"}
    assert {"root", "alice", "chloe", "eve"} <= {u["name"] for u in users}
    code, out, _ = run(capsys, "profiles", "stats")
    assert int(out.split()[0]) >= 2000
    assert len(run_json(capsys, "audiences")) >= 5
    configs = run_json(capsys, "channels")
    assert {c["channel"] for c in configs} == {"email", "sms", "push"}
    assert {c["category"] for c in configs} == {"marketing", "transactional"}


def test_seed_demo_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, out, err = run(capsys, "--data", str(tmp_path), "seed-demo")
    assert code == 1 and out == ""
    assert err.strip().startswith("error:") and "not empty" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_list_hides_finished_statuses_by_default_and_filters(demo, capsys):
    default = run_json(capsys, "list")
    assert default and not {"Stopped", "Completed", "Archived"} & {r["status"] for r in default}
    for r in default:
        assert {"id", "name", "type", "category", "status", "channel", "has_draft"} <= r.keys()
    assert {r["status"] for r in run_json(capsys, "list", "--status", "stopped")} == {"Stopped"}
    assert {r["type"] for r in run_json(capsys, "list", "--type", "api")} == {"api"}
    assert {r["channel"] for r in run_json(capsys, "list", "--channel", "sms", "--all")} == {"sms"}
    tagged = run_json(capsys, "list", "--tag", "vip", "--all")
    assert tagged and all("vip" in r["tags"] for r in tagged)
    found = run_json(capsys, "list", "--search", "NEWSLETTER")
    assert [r["name"] for r in found] == ["Weekly newsletter"]
    code, out, err = run(capsys, "list")
    assert "Weekly newsletter" in out and "hiding Stopped, Completed, Archived" in err


def test_show_side_by_side_and_create_from_show_json(demo, capsys):
    black_friday = campaign_id(capsys, "Black Friday early access")
    newsletter = campaign_id(capsys, "Weekly newsletter")
    code, out, _ = run(capsys, "show", black_friday)
    assert code == 0 and "LIVE" in out and "DRAFT" in out and "* Black Friday early access — updated" in out
    shown = run_json(capsys, "show", newsletter)
    path = demo / "copy.json"
    shown["name"] = "Weekly newsletter (Spain)"
    path.write_text(json.dumps(shown))
    code, out, err = run(capsys, "create", "--file", str(path))
    assert code == 0 and out.strip().startswith("cmp-") and len(out.split()) == 1
    created = run_json(capsys, "show", out.strip())
    assert created["status"] == "Draft" and created["draft"]["audience"] == shown["draft"]["audience"]
    assert created["draft"]["content"] == shown["draft"]["content"]


def test_create_refuses_bad_input_with_field_messages(demo, capsys):
    path = demo / "bad.json"
    path.write_text(json.dumps({"name": "X", "type": "api", "category": "marketing",
                                "draft": {"channel": "email", "rate_control": {"messages_per_second": 5000}}}))
    code, out, err = run(capsys, "create", "--file", str(path))
    assert code == 1 and out == ""
    assert "draft.rate_control.messages_per_second" in err and "between 1 and 2000" in err
    path.write_text("{not json")
    code, _, err = run(capsys, "create", "--file", str(path))
    assert code == 1 and "not valid JSON" in err and "line 1" in err


def test_edit_with_file_creates_a_draft_beside_live_and_refuses_stale_revisions(demo, capsys):
    deals = campaign_id(capsys, "Daily deals SMS")
    before = run_json(capsys, "show", deals)
    assert before["status"] == "Live" and before["draft"] is None
    edited = dict(before)
    edited["live"] = {**before["live"], "rate_control": {"messages_per_second": 25}}
    (demo / "e.json").write_text(json.dumps(edited))
    code, _, err = run(capsys, "edit", deals, "--file", str(demo / "e.json"))
    assert code == 0, err
    after = run_json(capsys, "show", deals)
    assert after["status"] == "Live" and after["draft"]["rate_control"]["messages_per_second"] == 25
    assert after["live"]["rate_control"]["messages_per_second"] == 50
    code, out, err = run(capsys, "edit", deals, "--file", str(demo / "e.json"))
    assert code == 1 and "was changed by root" in err and len(err.strip().splitlines()) == 1
    assert run_json(capsys, "show", deals)["draft"]["revision"] == after["draft"]["revision"]


def test_edit_opens_the_editor_on_the_draft(demo, capsys, monkeypatch, tmp_path):
    contest = campaign_id(capsys, "Win a trip contest")
    script = tmp_path / "editor.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        path = sys.argv[1]
        doc = json.load(open(path))
        doc["draft"]["content"]["sms"]["text"] = "SHOP: edited in the editor"
        json.dump(doc, open(path, "w"))
    """))
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    code, _, err = run(capsys, "edit", contest)
    assert code == 0, err
    assert run_json(capsys, "show", contest)["draft"]["content"]["sms"]["text"] == "SHOP: edited in the editor"
    monkeypatch.setenv("EDITOR", "true")
    code, _, err = run(capsys, "edit", contest)
    assert code == 0 and "no changes" in err


def test_approval_flow_between_users(demo, capsys):
    survey = campaign_id(capsys, "Q1 product survey")
    assert run(capsys, "--user", "alice", "request-approval", survey)[0] == 0
    assert run_json(capsys, "show", survey)["status"] == "In review"
    pending = run_json(capsys, "--user", "chloe", "approvals")
    assert survey in [r["id"] for r in pending]
    code, _, err = run(capsys, "--user", "alice", "approve", survey)
    assert code == 1 and "alice is manager and may not approve" in err
    code, _, err = run(capsys, "--user", "chloe", "request-changes", survey, "--message", "Add an unsubscribe link")
    assert code == 0, err
    shown = run_json(capsys, "show", survey)
    assert shown["status"] == "Draft" and shown["draft"]["approval"]["message"] == "Add an unsubscribe link"
    assert run(capsys, "--user", "alice", "request-approval", survey)[0] == 0
    assert run(capsys, "--user", "chloe", "approve", survey)[0] == 0
    assert run_json(capsys, "--user", "alice", "activate", survey)["status"] == "Live"
    actions = [e["action"] for e in run_json(capsys, "audit", survey)]
    assert actions[-6:] == ["requested approval", "requested changes", "requested approval", "approved", "activated",
                            "activation completed"]


def test_refusals_exit_non_zero_with_one_clear_line(demo, capsys):
    black_friday = campaign_id(capsys, "Black Friday early access")
    beta = campaign_id(capsys, "Beta feedback survey")
    code, out, err = run(capsys, "--user", "eve", "duplicate", black_friday)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "eve is viewer and may not duplicate" in err and "admin" in err
    code, _, err = run(capsys, "stop", beta)
    assert code == 1 and "only Live or Scheduled" in err
    code, _, err = run(capsys, "show", "cmp-999")
    assert code == 1 and "no campaign 'cmp-999'" in err
    code, _, err = run(capsys, "--user", "nobody", "list")
    assert code == 1 and "'nobody' is not a user" in err and "users add nobody" in err


def test_lifecycle_commands(demo, capsys):
    newsletter = campaign_id(capsys, "Weekly newsletter")
    deals = campaign_id(capsys, "Daily deals SMS")
    summer = campaign_id(capsys, "Summer clearance")
    code, out, _ = run(capsys, "duplicate", summer)
    new_id = out.strip()
    assert code == 0 and new_id.startswith("cmp-") and run_json(capsys, "show", new_id)["status"] == "Draft"
    assert run(capsys, "delete", new_id)[0] == 0
    assert run(capsys, "show", new_id)[0] == 1
    assert run_json(capsys, "stop", deals)["status"] == "Stopped"
    assert run_json(capsys, "archive", deals)["status"] == "Archived"
    code, _, err = run(capsys, "delete", deals)
    assert code == 1 and "only a Draft campaign can be deleted" in err
    assert run_json(capsys, "delete", newsletter)["draft"] is None


def test_users_add_and_list(demo, capsys):
    code, out, _ = run(capsys, "users", "add", "zoe", "--role", "approver")
    assert code == 0 and out.splitlines()[0] == "zoe"  # then the new user's token (tests/test_serve_tokens.py)
    assert {"name": "zoe", "role": "approver"}.items() <= {u["name"]: u for u in run_json(capsys, "users")}["zoe"].items()
    code, _, err = run(capsys, "--user", "alice", "users", "add", "yann", "--role", "admin")
    assert code == 1 and "may not manage users" in err
    code, out, _ = run(capsys, "users")
    assert "zoe" in out and "approver" in out


def test_profiles_import_reports_rejections_and_show(demo, capsys, tmp_path):
    csv = tmp_path / "people.csv"
    csv.write_text("id,person.name.firstName,identities.email,consent.email,timeZone\n"
                   "p-1,Ana,ana@example.com,yes,Europe/Lisbon\n"
                   "p-2,Bob,bob@,no,Europe/Paris\n"
                   "p-3,Chen,chen@example.com,true,Asia/Shanghai\n")
    code, out, err = run(capsys, "profiles", "import", str(csv))
    assert code == 3
    assert "imported 2, updated 0, rejected 1" in out and "line 3" in out and "bob@" in out
    shown = run_json(capsys, "profiles", "show", "p-1")
    assert shown["attributes"]["person"]["name"]["firstName"] == "Ana" and shown["consent"]["email"] is True
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text('{"id": "p-1", "attributes": {"person": {"name": {"firstName": "Ana Maria"}}}}\n{oops\n')
    code, out, _ = run(capsys, "profiles", "import", str(jsonl), "--json")
    summary = json.loads(out)
    assert code == 3
    assert (summary["imported"], summary["updated"], summary["rejected"]) == (0, 1, 1)
    assert summary["rejections"][0]["line"] == 2 and "malformed JSON" in summary["rejections"][0]["reason"]


def test_the_demo_seeds_for_an_os_user_named_like_a_demo_persona(tmp_path, capsys, monkeypatch):
    import store.workspace

    monkeypatch.setattr(store.workspace, "default_user", lambda: "alice")  # the OS account is called alice
    assert main(["--data", str(tmp_path / "d"), "--user", "alice", "seed-demo"]) == 0
    users = {u["name"]: u["role"] for u in json.loads(run(capsys, "--data", str(tmp_path / "d"), "--user", "alice",
                                                          "users", "--json")[1])}
    assert users["alice"] == "admin" and users["chloe"] == "approver"
