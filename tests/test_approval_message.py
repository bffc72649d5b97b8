"""The requester's message (issue 10 item 4): `request-approval -m` stores it on the request, the approvers read
it in `approvals`, `show` and the audit trail; too long or with control characters, it is refused, nothing changed."""

from __future__ import annotations

import json

from console.cli import main
from store.limits import MESSAGE_CHARS

from .test_approvals_hold import marketing_workspace, sale_edit


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def draft(tmp_path, users) -> tuple[str, str]:
    data = tmp_path / "ws"
    with marketing_workspace(data, users) as ws:
        cid = ws.lifecycle.create_campaign(users["manager"], sale_edit()).id
    return str(data), cid


def test_the_approvers_read_the_requesters_message(tmp_path, users, capsys):
    data, cid = draft(tmp_path, users)
    message = "Legal checked the wording.\nPlease decide before Friday."
    code, _, err = run(capsys, "--data", data, "--user", "max", "request-approval", cid, "-m", message)
    assert code == 0 and "sent for approval; status In review" in err

    code, out, _ = run(capsys, "--data", data, "--user", "apo", "approvals")
    assert code == 0
    lines = out.splitlines()
    assert cid in lines[0] and "requested by max" in lines[0]
    assert [line.strip() for line in lines[1:]] == ["> Legal checked the wording.", "> Please decide before Friday."]

    code, out, _ = run(capsys, "--data", data, "--user", "apo", "approvals", "--json")
    assert json.loads(out)[0]["request_message"] == message
    code, out, _ = run(capsys, "--data", data, "--user", "apo", "show", cid)
    assert "request message" in out and "Legal checked the wording." in out
    code, out, _ = run(capsys, "--data", data, "--user", "apo", "show", cid, "--json")
    assert json.loads(out)["draft"]["approval"]["request_message"] == message
    code, out, _ = run(capsys, "--data", data, "--user", "apo", "audit", cid, "--json")
    requested = [e for e in json.loads(out) if e["action"] == "requested approval"]
    assert requested and requested[-1]["detail"].endswith(f": {message}")


def test_without_a_message_nothing_is_shown(tmp_path, users, capsys):
    data, cid = draft(tmp_path, users)
    assert run(capsys, "--data", data, "--user", "max", "request-approval", cid)[0] == 0
    code, out, _ = run(capsys, "--data", data, "--user", "apo", "approvals")
    assert len(out.splitlines()) == 1
    code, out, _ = run(capsys, "--data", data, "--user", "apo", "show", cid, "--json")
    assert json.loads(out)["draft"]["approval"]["request_message"] is None


def test_a_bad_message_is_refused_and_nothing_changes(tmp_path, users, capsys):
    data, cid = draft(tmp_path, users)
    for message, words in (("x" * (MESSAGE_CHARS + 1), f"at most {MESSAGE_CHARS} characters"),
                           ("see \x1b[31mhere", "U+001B (ESCAPE)")):
        code, out, err = run(capsys, "--data", data, "--user", "max", "request-approval", cid, "-m", message)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
        assert "message" in err and words in err, err
    code, out, _ = run(capsys, "--data", data, "--user", "max", "show", cid, "--json")
    assert json.loads(out)["status"] == "Draft" and json.loads(out)["draft"]["approval"] is None
