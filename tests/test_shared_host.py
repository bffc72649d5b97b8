"""Several operators on one host, each with their own OS account, sharing one engine (`campaigns engine --group`).

The clients run as real second accounts (tests/as_account.py drops root's privileges), so the kernel, not a
header, says who they are. CI runs as root, which is what creating those accounts needs.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .processes import ROOT, campaigns, environment, stop_engine, wait_until
from .serving import serving, token

TEAM, PEER, OUTSIDER = "campaigns-team", "campaigns-peer", "campaigns-outsider"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating second OS accounts needs root (as in CI)")


def _ensure_account(name: str, *groups: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    if groups:
        subprocess.run(["usermod", "-aG", ",".join(groups), name], check=True)


@pytest.fixture(scope="module")
def accounts():
    if subprocess.run(["getent", "group", TEAM], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", TEAM], check=True)
    _ensure_account(PEER, TEAM)
    _ensure_account(OUTSIDER)
    return pwd.getpwnam(PEER).pw_uid


@pytest.fixture
def data():
    """A workspace path other accounts can walk to (pytest's own temporary directories are root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="campaigns-shared-"))
    base.chmod(0o711)
    yield base / "ws"
    subprocess.run(["rm", "-rf", str(base)], check=True)


def as_account(account: str, *argv: str, groups: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    options = [a for g in groups for a in ("--group", g)]
    return subprocess.run([sys.executable, str(ROOT / "tests" / "as_account.py"), account, *options, "--", *argv],
                          cwd="/", env=environment(), capture_output=True, text=True, timeout=300)


def start_shared_engine(data: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(data), "engine", "--group", TEAM],
                               cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)

    def serving() -> bool:
        assert process.poll() is None, f"the engine ended: {process.stderr.read()}"
        return (data / "engine.sock").exists()

    wait_until(serving, "the shared engine's socket", timeout=60, every=0.05)
    return process


CAMPAIGN = {"name": "Peer's welcome", "type": "action", "category": "marketing", "draft": {"channel": "email"}}


def test_members_act_as_their_own_account_and_cannot_claim_another(accounts, data):
    assert campaigns("--data", str(data), "users").returncode == 0  # founded by root, its first admin
    engine = start_shared_engine(data)
    try:
        mode = stat.S_IMODE(os.stat(data).st_mode)
        sock = os.stat(data / "engine.sock")
        assert (mode, stat.S_IMODE(sock.st_mode)) == (0o710, 0o660)
        assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in data.iterdir() if p.is_file())

        unknown = as_account(PEER, "--data", str(data), "list", groups=(TEAM,))
        assert unknown.returncode == 1
        assert f"OS account {PEER} has no user" in unknown.stderr and f"--os-user {PEER}" in unknown.stderr
        added = campaigns("--data", str(data), "users", "add", "pat", "--role", "manager", "--os-user", PEER)
        assert added.returncode == 0, added.stderr

        spec = data.parent / "campaign.json"
        spec.write_text(json.dumps(CAMPAIGN))
        spec.chmod(0o644)
        created = as_account(PEER, "--data", str(data), "create", "--file", str(spec), groups=(TEAM,))
        assert created.returncode == 0, created.stderr
        campaign_id = created.stdout.strip()
        trail = json.loads(campaigns("--data", str(data), "audit", campaign_id, "--json").stdout)
        assert trail[0]["user"] == "pat" and trail[0]["proof"] == f"OS account {PEER} (uid {accounts})"
        shown = campaigns("--data", str(data), "audit", campaign_id).stdout
        assert "pat          created v1" in shown and f"(OS account {PEER} (uid {accounts}))" in shown

        claimed = as_account(PEER, "--data", str(data), "--user", "root", "users", "add", "mallory", "--role",
                             "admin", groups=(TEAM,))
        assert claimed.returncode == 1 and claimed.stderr.count("\n") == 1
        assert f"you are OS account {PEER}" in claimed.stderr and "--user cannot name someone else" in claimed.stderr
        names = campaigns("--data", str(data), "users").stdout
        assert "mallory" not in names

        hosted = as_account(PEER, "--data", str(data), "engine", groups=(TEAM,))  # what a console does too
        assert hosted.returncode == 1 and "already hosted by the shared engine" in hosted.stderr

        outsider = as_account(OUTSIDER, "--data", str(data), "list")
        assert outsider.returncode == 1 and outsider.stderr.count("\n") == 1
        assert f"served to group {TEAM}, which you are not in" in outsider.stderr
        assert "--connect URL" in outsider.stderr

        role_play = campaigns("--data", str(data), "--user", "pat", "list")
        assert role_play.returncode == 1 and f"since it was served to group {TEAM}" in role_play.stderr
    finally:
        code, err = stop_engine(engine)
    assert code == 0, err
    # for good: with no engine running, in-process, the owner still cannot play someone else
    later = campaigns("--data", str(data), "--user", "pat", "list")
    assert later.returncode == 1 and f"since it was served to group {TEAM}" in later.stderr
    gone = as_account(PEER, "--data", str(data), "list", groups=(TEAM,))
    assert gone.returncode == 1 and "no engine is serving it" in gone.stderr


def test_a_workspace_never_shared_keeps_role_play_and_is_closed_to_others(accounts, data):
    assert campaigns("--data", str(data), "users", "add", "chloe", "--role", "manager").returncode == 0
    played = campaigns("--data", str(data), "--user", "chloe", "users", "add", "x", "--role", "viewer")
    assert played.returncode == 1 and "may not manage users" in played.stderr  # acting as chloe, a manager
    private = as_account(PEER, "--data", str(data), "list", groups=(TEAM,))
    assert private.returncode == 1 and "is not shared" in private.stderr


def test_serving_to_a_group_refuses_a_socket_path_too_long_and_an_unknown_group(accounts):
    base = Path(tempfile.mkdtemp(prefix="campaigns-long-"))
    try:
        long = base / ("d" * 90)
        refused = campaigns("--data", str(long), "engine", "--group", TEAM)
        assert refused.returncode == 1 and "too long for a Unix socket" in refused.stderr
        unknown = campaigns("--data", str(base / "ws"), "engine", "--group", "no-such-group")
        assert unknown.returncode == 1 and "no group 'no-such-group'" in unknown.stderr
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=True)


def test_serve_shares_the_socket_with_the_group_beside_its_tcp_port(accounts, data):
    assert campaigns("--data", str(data), "users", "add", "pat", "--role", "viewer", "--os-user", PEER).returncode == 0
    with serving(data, "--group", TEAM) as (_, url):
        assert stat.S_IMODE(os.stat(data / "engine.sock").st_mode) == 0o660
        me = as_account(PEER, "--data", str(data), "users", groups=(TEAM,))
        assert me.returncode == 0 and "pat" in me.stdout
        remote = campaigns("--connect", url, "--token", token(data, "pat"), "users")
        assert remote.returncode == 0 and "pat" in remote.stdout
