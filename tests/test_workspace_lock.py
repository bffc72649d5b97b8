"""WorkspaceLock: one holder per data directory, named in the error, freed when it dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store.db.lock import WorkspaceLock, read_holder
from store.errors import WorkspaceLocked

HOLDER = textwrap.dedent("""
    import sys
    from store.db.lock import WorkspaceLock
    WorkspaceLock(sys.argv[1]).acquire({"endpoint": "/tmp/campaigns.sock"})
    print("ready", flush=True)
    sys.stdin.read()  # hold until killed
""")

TRY = textwrap.dedent("""
    import sys
    from store.db.lock import WorkspaceLock
    from store.errors import WorkspaceLocked
    try:
        WorkspaceLock(sys.argv[1]).acquire()
    except WorkspaceLocked as exc:
        print(exc.pid, exc.detail, sep="\\n")
    else:
        print("acquired")
""")


ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, text=True, env=env)


def test_second_lock_in_the_same_process_is_refused(tmp_path):
    with WorkspaceLock(tmp_path) as lock:
        assert lock.held
        with pytest.raises(WorkspaceLocked) as caught:
            WorkspaceLock(tmp_path).acquire()
        assert caught.value.pid == os.getpid()
        assert f"workspace {tmp_path} is in use by process {os.getpid()} (user " in caught.value.detail
        assert "stop that process" in caught.value.detail
        with pytest.raises(RuntimeError):
            lock.acquire()
    assert not lock.held and read_holder(tmp_path) is None
    WorkspaceLock(tmp_path).acquire().release()


def test_holder_record_and_update(tmp_path):
    lock = WorkspaceLock(tmp_path).acquire({"role": "server"})
    holder = read_holder(tmp_path)
    assert holder["pid"] == os.getpid() and holder["role"] == "server"
    assert holder["endpoint"] is None and holder["user"] and holder["started_at"]
    lock.update({"endpoint": "/run/campaigns.sock"})
    assert read_holder(tmp_path)["endpoint"] == "/run/campaigns.sock"
    assert json.loads((tmp_path / "lock").read_text())["role"] == "server"
    lock.release()
    lock.release()  # harmless


def test_other_process_is_refused_and_dead_holder_does_not_block(tmp_path):
    holder = run(HOLDER, str(tmp_path))
    try:
        assert holder.stdout.readline() == "ready\n"
        assert read_holder(tmp_path)["endpoint"] == "/tmp/campaigns.sock"
        with pytest.raises(WorkspaceLocked) as caught:
            WorkspaceLock(tmp_path).acquire()
        assert caught.value.pid == holder.pid
        assert f"in use by process {holder.pid}" in caught.value.detail
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    assert read_holder(tmp_path)["pid"] == holder.pid  # stale record left by the dead process
    with WorkspaceLock(tmp_path):
        assert read_holder(tmp_path)["pid"] == os.getpid()


def test_subprocess_names_the_holder(tmp_path):
    with WorkspaceLock(tmp_path):
        out, _ = run(TRY, str(tmp_path)).communicate()
        pid, detail = out.splitlines()
        assert int(pid) == os.getpid() and f"process {os.getpid()}" in detail
        # A subprocess started while we hold the lock does not inherit it.
        child = run(HOLDER, str(tmp_path / "other"))
        assert child.stdout.readline() == "ready\n"
    out, _ = run(TRY, str(tmp_path)).communicate()
    assert out == "acquired\n"
    child.send_signal(signal.SIGKILL)
    child.communicate()


def test_bare_pid_file_is_read(tmp_path):
    (tmp_path / "lock").write_text("4242\n")
    assert read_holder(tmp_path) == {"pid": 4242}
    with WorkspaceLock(tmp_path):  # nobody holds the flock: the old file does not block
        pass
