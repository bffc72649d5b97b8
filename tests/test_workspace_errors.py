"""Through the CLI: a second process gets the lock holder's PID; a corrupted store is never overwritten."""

from __future__ import annotations

import subprocess
import sys

from console.cli import main


def test_second_process_is_told_who_holds_the_workspace(tmp_path, capsys):
    data = tmp_path / "ws"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from store.workspace import Workspace; "
         f"w = Workspace({str(data)!r}, founder='root'); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        code = main(["--data", str(data), "--user", "root", "list"])
        err = capsys.readouterr().err
        assert code == 1 and f"in use by process {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    assert main(["--data", str(data), "--user", "root", "list"]) == 0


def test_corrupted_catalogue_gives_a_clear_error_and_is_left_untouched(tmp_path, capsys):
    data = tmp_path / "ws"
    assert main(["--data", str(data), "--user", "root", "users"]) == 0
    snapshot = data / "catalogue.json"
    snapshot.write_text('{"format": 1, "seq": 3, "tables": {"users": ')
    before = snapshot.read_bytes()
    capsys.readouterr()
    code = main(["--data", str(data), "--user", "root", "list"])
    err = capsys.readouterr().err
    assert code == 1 and "catalogue" in err and "corrupt" in err.lower()
    assert snapshot.read_bytes() == before
