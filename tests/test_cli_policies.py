"""`campaigns policies`: admins list, add, edit (file or $EDITOR), disable and enable approval policies."""

from __future__ import annotations

import json
import shlex
import sys

import pytest

from console.cli import main

from .test_cli import run

POLICY = {"id": "vip", "name": "VIP offers", "conditions": {"tags": ["vip"]},
          "approvers": {"users": ["dmitri"], "roles": ["approver"]}}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A new workspace whose founder (this OS account) is its admin, with a manager beside them."""
    path = tmp_path / "ws"
    monkeypatch.setenv("CAMPAIGNS_DATA", str(path))
    monkeypatch.delenv("CAMPAIGNS_USER", raising=False)
    assert main(["users", "add", "mo", "--role", "manager"]) == 0
    return path


def policies(capsys) -> dict[str, dict]:
    code, out, err = run(capsys, "policies", "list", "--json")
    assert code == 0, err
    return {p["id"]: p for p in json.loads(out)}


def write(tmp_path, document: object, name: str = "policy.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    return err


def test_add_lists_and_refuses_an_existing_id(workspace, tmp_path, capsys):
    assert run(capsys, "policies", "add", "--file", str(write(tmp_path, POLICY)))[0] == 0
    stored = policies(capsys)["vip"]
    assert stored["enabled"] and stored["block_self_approval"] and stored["conditions"]["tags"] == ["vip"]
    code, out, err = run(capsys, "policies", "list")
    assert code == 0
    assert out.split() == ["vip", "enabled", "VIP", "offers", "when", "tag", "vip;", "approved", "by", "dmitri,",
                           "any", "approver"]

    changed = write(tmp_path, {**POLICY, "name": "Overwritten"}, "again.json")
    err = one_error_line(*run(capsys, "policies", "add", "--file", str(changed)))
    assert "already exists" in err and "`campaigns policies edit vip`" in err
    assert policies(capsys)["vip"]["name"] == "VIP offers"


def test_bad_files_get_one_line_and_change_nothing(workspace, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "vip",')
    assert "is not valid JSON" in one_error_line(*run(capsys, "policies", "add", "--file", str(bad)))
    nobody = write(tmp_path, {**POLICY, "approvers": {}})
    assert "name at least one user or one role" in one_error_line(
        *run(capsys, "policies", "add", "--file", str(nobody)))
    assert "no file" in one_error_line(*run(capsys, "policies", "add", "--file", str(tmp_path / "missing.json")))
    assert policies(capsys) == {}


def test_edit_from_a_file_and_disable_enable(workspace, tmp_path, capsys):
    run(capsys, "policies", "add", "--file", str(write(tmp_path, POLICY)))
    edited = write(tmp_path, {**POLICY, "name": "VIP offers need Dmitri", "approvers": {"users": ["dmitri"]}}, "e.json")
    assert run(capsys, "policies", "edit", "vip", "--file", str(edited))[0] == 0
    assert policies(capsys)["vip"]["approvers"] == {"users": ["dmitri"], "roles": []}

    assert run(capsys, "policies", "disable", "vip")[2].strip() == "approval policy vip disabled"
    assert policies(capsys)["vip"]["enabled"] is False
    assert "disabled" in run(capsys, "policies", "list")[1]
    run(capsys, "policies", "enable", "vip")
    assert policies(capsys)["vip"]["enabled"] is True

    renamed = write(tmp_path, {**POLICY, "id": "gold"}, "r.json")
    assert "cannot change" in one_error_line(*run(capsys, "policies", "edit", "vip", "--file", str(renamed)))
    assert "no approval policy 'nope'" in one_error_line(*run(capsys, "policies", "disable", "nope"))
    assert set(policies(capsys)) == {"vip"}


def test_edit_in_the_editor(workspace, tmp_path, capsys, monkeypatch):
    run(capsys, "policies", "add", "--file", str(write(tmp_path, POLICY)))
    editor = tmp_path / "editor.py"
    editor.write_text("import json, sys\np = json.load(open(sys.argv[1]))\np['conditions']['channels'] = ['email']\n"
                      "json.dump(p, open(sys.argv[1], 'w'))\n")
    monkeypatch.setenv("VISUAL", f"{shlex.quote(sys.executable)} {shlex.quote(str(editor))}")
    assert run(capsys, "policies", "edit", "vip")[0] == 0
    assert policies(capsys)["vip"]["conditions"]["channels"] == ["email"]

    editor.write_text("import sys\nopen(sys.argv[1], 'w').write('{\"id\": \"vip\"')\n")
    err = one_error_line(*run(capsys, "policies", "edit", "vip"))
    kept = err.split("your edit is kept at ")[1].split(" ")[0]
    assert open(kept).read() == '{"id": "vip"'
    assert policies(capsys)["vip"]["conditions"]["channels"] == ["email"]


def test_only_admins_change_policies(workspace, tmp_path, capsys):
    run(capsys, "policies", "add", "--file", str(write(tmp_path, POLICY)))
    for argv in (("disable", "vip"), ("add", "--file", str(write(tmp_path, {**POLICY, "id": "other"}, "o.json")))):
        err = one_error_line(*run(capsys, "--user", "mo", "policies", *argv))
        assert "mo is manager and may not manage approval policies" in err
    assert run(capsys, "--user", "mo", "policies", "list")[0] == 0
    assert set(policies(capsys)) == {"vip"} and policies(capsys)["vip"]["enabled"]
