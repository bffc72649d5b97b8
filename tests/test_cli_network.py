"""Commands over the network: `campaigns --connect URL` against a real `campaigns serve`, with a token from
--token, $CAMPAIGNS_TOKEN or the file `campaigns login` keeps (0600; refused when others may read it)."""

from __future__ import annotations

import io
import json
import os
import socket
import stat

import pytest

from .processes import campaigns
from .serving import serving, token
from .test_cli import demo, demo_template, run  # noqa: F401  (fixtures)


@pytest.fixture
def config(tmp_path, monkeypatch):
    """A home of its own for the token file (platformdirs reads $XDG_CONFIG_HOME)."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("CAMPAIGNS_TOKEN", raising=False)
    return home / "campaigns" / "tokens.json"


@pytest.fixture
def served(demo, config):
    with serving(demo) as (process, url):
        yield url, demo


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_login_keeps_the_token_private_and_commands_run_on_the_server_as_its_user(served, config, capsys,
                                                                                  monkeypatch):
    url, data = served
    eve = token(data, "eve")
    monkeypatch.setattr("sys.stdin", io.StringIO(eve + "\n"))  # piped, as `... | campaigns login URL`
    code, out, err = run(capsys, "login", url + "/")
    assert code == 0 and f"logged in to {url} as eve (viewer)" in err
    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {url: eve}

    monkeypatch.setenv("CAMPAIGNS_USER", "root")  # ambient: the token, not the environment, says who acts
    code, out, err = run(capsys, "--connect", url, "list", "--json")
    assert code == 0 and len(json.loads(out)) > 0
    draft = next(r["id"] for r in json.loads(out) if r["status"] == "Draft")
    code, out, err = run(capsys, "--connect", url, "activate", draft)
    assert code == 1 and "eve is viewer and may not" in _one_line(err)

    code, out, err = run(capsys, "logout")
    assert code == 0 and f"logged out of {url}" in err and not config.exists()
    code, out, err = run(capsys, "--connect", url, "list")
    assert code == 1 and f"no token for {url}: run `campaigns login {url}`" in _one_line(err)


def test_token_from_the_option_or_the_environment_and_edits_reach_the_server(served, capsys, monkeypatch, tmp_path):
    url, data = served
    alice = token(data, "alice")
    code, out, err = run(capsys, "--connect", url, f"--token={alice}", "create", "--file", str(_document(tmp_path)),
                         "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["created_by"] == "alice"
    monkeypatch.setenv("CAMPAIGNS_TOKEN", alice)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**created, "name": "Network launch, revised"}))
    code, out, err = run(capsys, "--connect", url, "edit", created["id"], "--file", str(edited))
    assert code == 0, err
    root = campaigns("--connect", url, "--token=" + token(data, "root"), "show", created["id"], "--json")
    assert root.returncode == 0 and json.loads(root.stdout)["name"] == "Network launch, revised"


def _document(tmp_path):
    path = tmp_path / "new.json"
    path.write_text(json.dumps({"name": "Network launch", "type": "action", "category": "marketing",
                                "draft": {"channel": "email"}}))
    return path


def test_forged_and_revoked_tokens_and_an_unreachable_server_each_get_one_line(served, config, capsys):
    url, data = served
    code, out, err = run(capsys, "--connect", url, "--token=forged-" + "x" * 40, "list")
    assert code == 1 and "this token is unknown" in _one_line(err) and out == ""
    eve = token(data, "eve")
    assert campaigns("--data", str(data), "--user", "root", "users", "revoke", "eve").returncode == 0
    code, out, err = run(capsys, "login", url, f"--token={eve}")
    assert code == 1 and "this token was revoked" in _one_line(err) and not config.exists()

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, out, err = run(capsys, "--connect", closed, f"--token={eve}", "list")
    assert code == 1 and f"cannot reach {closed}" in _one_line(err) and "campaigns serve" in err
    code, out, err = run(capsys, "--connect", "ftp://example.com", f"--token={eve}", "list")
    assert code == 1 and "is not a server URL" in _one_line(err)


def test_a_token_file_others_may_read_or_not_written_by_login_is_refused_and_kept(served, config, capsys):
    url, data = served
    root = token(data, "root")
    assert run(capsys, "login", url, f"--token={root}")[0] == 0
    os.chmod(config, 0o644)
    code, out, err = run(capsys, "--connect", url, "list")
    assert code == 1 and f"run `chmod 600 {config}`" in _one_line(err)
    os.chmod(config, 0o600)
    assert run(capsys, "--connect", url, "list")[0] == 0

    config.write_text("not json\n")
    for argv in (("--connect", url, "list"), ("login", url, f"--token={root}"), ("logout", "--all")):
        code, out, err = run(capsys, *argv)
        assert code == 1 and "is not a token file `campaigns login` wrote" in _one_line(err)
    assert config.read_text() == "not json\n"


def test_connect_refuses_what_it_cannot_mean(served, capsys):
    url, data = served
    for argv, reason in (
            (("--connect", url, "--user", "root", "list"), "--connect acts as the user its token names"),
            (("--connect", url, "--data", str(data), "console"), "--connect acts as the user its token names"),
            (("--connect", url, "serve"), "`campaigns serve` works on this machine's workspace only"),
            (("--connect", url, "seed-demo"), "`campaigns seed-demo` works on this machine's workspace only"),
            (("--token", "abc", "list"), "--token is for a server: give --connect URL with it")):
        code, out, err = run(capsys, *argv)
        assert code == 1 and reason in _one_line(err), argv
