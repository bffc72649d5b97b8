"""Identity over the network: bearer tokens issued by admins (printed once, stored hashed) and `campaigns serve`."""

from __future__ import annotations

import json

from .test_cli import demo, demo_template, run  # noqa: F401  (fixtures)


def _issued(out: str) -> str:
    token = out.splitlines()[-1]
    assert len(token) >= 43 and " " not in token  # 32 random bytes, urlsafe base64
    return token


def test_tokens_are_printed_once_stored_hashed_and_audited(demo, capsys):
    code, out, err = run(capsys, "users", "add", "zed", "--role", "viewer")
    assert code == 0, err
    first = _issued(out)
    assert out.splitlines()[0] == "zed"
    code, out, err = run(capsys, "users", "token", "zed")
    second = _issued(out)
    assert code == 0 and second != first
    stored = b"".join(p.read_bytes() for p in demo.rglob("*") if p.is_file())
    assert first.encode() not in stored and second.encode() not in stored
    code, out, err = run(capsys, "users", "revoke", "zed")
    assert code == 0 and "2 tokens of zed revoked" in err
    code, out, err = run(capsys, "--user", "eve", "users", "token", "zed")
    assert code == 1 and "may not manage users" in err and out == ""


def test_add_user_as_json_carries_the_token(demo, capsys):
    code, out, err = run(capsys, "users", "add", "zed", "--role", "viewer", "--json")
    added = json.loads(out)
    assert code == 0 and added["name"] == "zed" and len(added["token"]) >= 43
