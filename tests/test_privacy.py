"""Private by default (issue 8, item 4): owner-only workspaces, a private socket fallback, masked secrets."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from console.cli import main
from store.embedded import connect
from store.local_client import socket_path
from store.errors import ValidationFailed
from store.models import ChannelConfiguration
from store.models.channel import SECRET_MASK
from store.privacy import tighten, tightened_notice
from store.workspace import Workspace

from .console_support import settle
from .processes import campaigns, endpoint, start_engine, stop_engine
from .servers import HttpServer
from .test_engine_delivery import sms_campaign

UMASK = 0o022  # processes start with the usual permissive umask: the workspace itself must make its files private


def cli(*argv: str, **popen) -> subprocess.CompletedProcess:
    return campaigns("--user", "root", *argv, umask=UMASK, **popen)


def stop(engine: subprocess.Popen) -> None:
    code, err = stop_engine(engine)
    assert code == 0, err


def modes(data: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``data`` (itself as "."): its kind and permission bits, symlinks not followed."""
    found = {".": ("dir", stat.S_IMODE(data.lstat().st_mode))}
    for path in data.rglob("*"):
        st = path.lstat()
        kind = ("dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode)
                else "socket" if stat.S_ISSOCK(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "other")
        found[str(path.relative_to(data))] = (kind, stat.S_IMODE(st.st_mode))
    return found


def assert_private(data: Path, *, top: int = 0o700) -> dict[str, tuple[str, int]]:
    found = modes(data)
    loose = {p: f"{kind} {mode:04o}" for p, (kind, mode) in found.items()
             if (kind, mode) not in (("dir", top if p == "." else 0o700), ("file", 0o600), ("socket", 0o600),
                                 ("link", 0o777))}  # a symlink's own mode means nothing
    assert not loose, f"not private: {loose}"
    return found


def loosen(data: Path) -> None:
    """What a workspace made before this issue looks like: 0755 directories, 0644 files."""
    for path in [data, *data.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


# -- the data directory -------------------------------------------------------------------------

@pytest.mark.slow
def test_a_new_workspace_is_owner_only_through_a_real_run(tmp_path):
    data = tmp_path / "ws"
    seeded = cli("--data", str(data), "seed-demo")  # sends ten days of runs through the outbox
    assert seeded.returncode == 0, seeded.stderr
    assert "privacy:" not in seeded.stderr  # born private: nothing to tighten
    engine = start_engine(data, umask=UMASK)
    try:
        rows = json.loads(cli("--data", str(data), "list", "--all", "--json").stdout)
        contest = next(r["id"] for r in rows if r["name"] == "Win a trip contest")
        sent = cli("--data", str(data), "activate", contest)  # over the socket: the engine's children send
        assert sent.returncode == 0 and f"{contest}-r1 completed" in sent.stderr, sent.stderr
        hosting = assert_private(data)  # while the engine holds its databases open
    finally:
        stop(engine)
    after = assert_private(data)
    assert {"catalogue.journal", "lock", "profiles.sqlite3", "engine.sqlite3", "outbox/sms.jsonl", "outbox/email.jsonl",
            "signals"} <= after.keys()
    assert {"engine.sock", "profiles.sqlite3-wal", "engine.sqlite3-wal", "engine.sqlite3-shm"} <= hosting.keys()
    assert any(p.startswith("signals/") for p in hosting | after)


@pytest.mark.slow
def test_a_loose_workspace_is_tightened_on_open_and_the_user_told_once(tmp_path):
    data = tmp_path / "ws"
    Workspace(data, founder="root").close()
    (data / "outbox").mkdir()
    (data / "outbox" / "sms.jsonl").write_text("")
    outside = tmp_path / "not-the-workspace.txt"
    outside.write_text("someone else's file")
    (data / "notes").symlink_to(outside)  # a symlink is never followed
    loosen(data)
    outside.chmod(0o644)

    opened = cli("--data", str(data), "users")
    assert opened.returncode == 0, opened.stderr
    [notice] = [line for line in opened.stderr.splitlines() if line.startswith("privacy:")]
    assert str(data) in notice and "the directory 0755→0700" in notice and "owner-only" in notice
    assert "more)" in notice  # one line: the first few paths by name, then a count
    assert opened.stdout.startswith("root")  # the output itself is untouched
    assert_private(data)
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644

    again = cli("--data", str(data), "users")
    assert again.returncode == 0 and "privacy:" not in again.stderr


def test_a_directory_shared_with_a_group_keeps_0710_and_its_files_become_private(tmp_path):
    data = tmp_path / "ws"
    Workspace(data, founder="root").close()
    loosen(data)
    data.chmod(0o710)
    ws = Workspace(data)
    try:
        assert_private(data, top=0o710)
        assert ws.tightened and data not in [t.path for t in ws.tightened]
        [notice] = ws.notices
        assert "the directory" not in notice and "catalogue.journal 0644→0600" in notice
    finally:
        ws.close()


async def test_the_console_shows_the_tightening_as_a_notification(tmp_path):
    data = tmp_path / "ws"
    Workspace(data, founder="root").close()
    loosen(data)
    async with connect(data, "root") as client:
        from console.app import CampaignsApp

        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test() as pilot:
            await settle(pilot)
            [note] = [n for n in app._notifications if n.title == "Privacy"]
            assert note.severity == "warning" and note.message.startswith("privacy:") and str(data) in note.message
    assert_private(data)


# -- the socket fallback ------------------------------------------------------------------------

@pytest.fixture
def short_tmp(monkeypatch):
    """A temp directory of our own (short: AF_UNIX paths are limited), as TMPDIR and for this process."""
    path = Path(tempfile.mkdtemp(prefix="cp", dir="/tmp"))
    path.chmod(0o1777)  # like /tmp: anyone may create a name in it
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    yield path
    shutil.rmtree(path)


def long_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / ("long-" * 20) / "ws"
    assert len(str(data / "engine.sock")) > 107
    return data


def test_a_long_data_path_puts_its_socket_in_a_private_directory_of_the_user(tmp_path, short_tmp, monkeypatch):
    data = long_data_dir(tmp_path)
    path = socket_path(data)
    assert path.parent == short_tmp / f"campaigns-{os.getuid()}"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.getuid()
    path.parent.chmod(0o755)  # ours but loosened: tightened again
    assert socket_path(data) == path and stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    path = socket_path(data)
    assert path.parent == runtime / "campaigns" and stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("made_by_someone_else", ["a symlink to a directory", "a file"])
def test_a_name_taken_by_something_else_is_not_used_for_the_socket(tmp_path, short_tmp, made_by_someone_else):
    taken = short_tmp / f"campaigns-{os.getuid()}"
    if made_by_someone_else == "a file":
        taken.write_text("")
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        taken.symlink_to(tmp_path / "elsewhere")
    path = socket_path(long_data_dir(tmp_path))
    assert path.parent.parent == short_tmp and path.parent.name.startswith(f"campaigns-{os.getuid()}-")
    assert stat.S_IMODE(path.parent.lstat().st_mode) == 0o700 and path.parent.lstat().st_uid == os.getuid()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory owned by another account needs root")
def test_a_socket_directory_made_by_another_account_does_not_stop_the_engine(tmp_path, short_tmp):
    nobody = pwd.getpwnam("nobody")
    hostile = short_tmp / f"campaigns-{os.getuid()}"
    hostile.mkdir()
    hostile.chmod(0o777)
    os.chown(hostile, nobody.pw_uid, nobody.pw_gid)
    data = long_data_dir(tmp_path)
    Workspace(data, founder="root").close()

    engine = start_engine(data, env={"TMPDIR": str(short_tmp)}, umask=UMASK)
    try:
        socket = endpoint(data)
        home = socket.parent
        assert home.parent == short_tmp and home.name.startswith(f"campaigns-{os.getuid()}-")
        assert stat.S_IMODE(home.stat().st_mode) == 0o700 and home.stat().st_uid == os.getuid()
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600
        listed = cli("--data", str(data), "users")  # another command reaches the engine over that socket
        assert listed.returncode == 0 and listed.stdout.startswith("root"), listed.stderr
    finally:
        stop(engine)
    assert not home.exists()  # the one-off directory goes with its socket
    assert hostile.stat().st_uid == nobody.pw_uid and list(hostile.iterdir()) == []


# -- webhook secrets ----------------------------------------------------------------------------

SECRETS = {"Authorization": "Bearer s3cr3t-t0k3n", "X-Api-Key": "k-98765"}


def gateway(url: str = "https://sms.example/send", headers: dict[str, str] | None = None) -> ChannelConfiguration:
    return ChannelConfiguration(id="sms-hook", name="Gateway", channel="sms", category="marketing", provider="webhook",
                                sender="SHOP", webhook={"url": url, "headers": SECRETS if headers is None else headers,
                                                        "timeout_seconds": 5})


async def test_the_api_masks_webhook_headers_and_a_masked_document_keeps_the_secrets(root, engine, workspace):
    put = await root.put_channel_configuration(gateway())
    assert put.webhook.headers == dict.fromkeys(SECRETS, SECRET_MASK)
    raw = (await root.http.get("/v1/channel-configurations")).text
    assert not any(secret in raw for secret in SECRETS.values()) and SECRET_MASK in raw

    with HttpServer() as server:
        [listed] = [c for c in await root.channel_configurations() if c.id == "sms-hook"]
        document = listed.model_dump(mode="json")
        document["webhook"]["url"] = f"{server.url}/send"  # an admin edits the URL of the listed document
        await root.put_channel_configuration(ChannelConfiguration.model_validate(document))
        stored = workspace.catalogue.channel_configurations.get("sms-hook")
        assert stored.webhook.url == f"{server.url}/send" and stored.webhook.headers == SECRETS

        campaign = await root.create_campaign(sms_campaign())
        await root.activate(campaign.id)
        engine.run_until_idle()
        assert server.requests and {r.headers["authorization"] for r in server.requests} == {SECRETS["Authorization"]}
        assert {r.headers["x-api-key"] for r in server.requests} == {SECRETS["X-Api-Key"]}


async def test_a_changed_header_replaces_the_secret_and_a_mask_with_nothing_behind_it_is_refused(root, workspace):
    await root.put_channel_configuration(gateway())
    await root.put_channel_configuration(gateway(headers={"authorization": SECRET_MASK, "X-Api-Key": "k-new"}))
    stored = workspace.catalogue.channel_configurations.get("sms-hook")
    assert stored.webhook.headers == {"authorization": SECRETS["Authorization"], "X-Api-Key": "k-new"}

    with pytest.raises(ValidationFailed) as refused:
        await root.put_channel_configuration(gateway(headers={"X-Other": SECRET_MASK}))
    assert "'X-Other'" in refused.value.detail and "real value" in refused.value.detail
    assert workspace.catalogue.channel_configurations.get("sms-hook") == stored


def test_campaigns_channels_never_prints_a_webhook_secret(tmp_path, capsys):
    data = tmp_path / "ws"
    ws = Workspace(data, founder="root")
    try:
        ws.administration.put_channel_configuration(ws.catalogue.users.get("root"), gateway())
    finally:
        ws.close()
    capsys.readouterr()
    assert main(["--data", str(data), "--user", "root", "channels", "--json"]) == 0
    text = capsys.readouterr().out
    [config] = json.loads(text)
    assert config["webhook"]["headers"] == dict.fromkeys(SECRETS, SECRET_MASK)
    assert main(["--data", str(data), "--user", "root", "channels"]) == 0
    text += capsys.readouterr().out
    assert "sms-hook" in text and not any(secret in text for secret in SECRETS.values())


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another account needs root")
def test_a_file_of_another_account_is_named_with_what_its_owner_must_do(short_tmp):
    nobody = pwd.getpwnam("nobody")
    data = short_tmp / "ws"
    data.mkdir(mode=0o755)
    (data / "outbox").mkdir(mode=0o755)
    (data / "catalogue.json").write_text("{}")
    (data / "outbox" / "stray.jsonl").write_text("")  # left by root in nobody's workspace
    for path in (data, data / "outbox", data / "catalogue.json"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    loosen(data)
    short_tmp.chmod(0o755)
    os.seteuid(nobody.pw_uid)  # opened by the workspace's owner, who may not chmod root's file
    try:
        changes = tighten(data)
    finally:
        os.seteuid(0)
    notice = tightened_notice(data, changes)
    assert "made 3 paths owner-only, 1 could not be (outbox/stray.jsonl 0644 (owned by uid 0" in notice
    assert f"`chmod go= {data / 'outbox' / 'stray.jsonl'}`" in notice
    assert {p: mode for p, (_, mode) in modes(data).items()} == {
        ".": 0o700, "outbox": 0o700, "catalogue.json": 0o600, "outbox/stray.jsonl": 0o644}
