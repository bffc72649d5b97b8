"""`campaigns --help` and a command that talks to a running engine load no server side (FastAPI, uvicorn, the
engine) and no console (Textual), and the socket client builds no TLS context: each is a fresh process, as a
user runs it, whose sys.modules and ssl contexts are read at exit. Importing the command line loads neither the
client nor the models; `list --json` through an engine skips httpx's own command line and the campaign rules."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .processes import ROOT, environment, start_engine, stop_engine
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)

HEAVY = ("fastapi", "uvicorn", "starlette", "textual", "store.api", "store.hosting", "store.engine", "store.workspace")
PROBE = """
import json, ssl, sys
made = []
build = ssl.SSLContext.__new__
def counted(cls, *args, **kwargs):
    made.append(cls)
    return build(cls, *args, **kwargs)
ssl.SSLContext.__new__ = staticmethod(counted)
from console.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
loaded = sorted({m.split(".")[0] if not m.startswith("store.") else ".".join(m.split(".")[:2])
                 for m, module in sys.modules.items() if module is not None})  # None: an import refused
print(json.dumps({"code": code, "loaded": loaded, "tls_contexts": len(made)}), file=sys.stderr)
"""


def probe(*argv: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, env=environment(), capture_output=True,
                          text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_help_loads_no_server_side_and_no_console():
    seen = probe("--help")
    assert seen["code"] == 0
    assert not [m for m in seen["loaded"] if m in HEAVY]


def test_a_command_through_a_running_engine_loads_no_server_side_and_builds_no_tls_context(demo):
    engine = start_engine(demo)
    try:
        seen = probe("--data", str(demo), "--user", "root", "list", "--json")
    finally:
        code, err = stop_engine(engine)
    assert seen["code"] == 0 and code == 0, err
    assert not [m for m in seen["loaded"] if m in HEAVY]
    assert seen["tls_contexts"] == 0
    assert "click" not in seen["loaded"] and "pygments" not in seen["loaded"]  # httpx's command line
    assert "store.listing" not in seen["loaded"] and "store.campaign_rules" not in seen["loaded"]


def test_importing_the_command_line_loads_no_client_models_server_or_console():
    code = "import json, sys, console.cli; print(json.dumps([m for m, v in sys.modules.items() if v is not None]))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(), capture_output=True, text=True,
                          timeout=120, check=True)
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert not loaded & {"pydantic", "httpx", "httpcore", "fastapi", "uvicorn", "textual", "rich"}


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def test_httpx_still_works_once_the_store_has_refused_its_command_line():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code = ("import sys, store, httpx; assert sys.modules['httpx._main'] is None; "
                f"print(httpx.get('http://127.0.0.1:{server.server_port}/', trust_env=False).text)")
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(), capture_output=True,
                              text=True, timeout=120)
    finally:
        server.shutdown()
    assert done.returncode == 0 and done.stdout.strip() == "hello", done.stderr


def test_opening_the_workspace_here_still_works_and_is_what_loads_the_server_side(demo):
    seen = probe("--data", str(demo), "--user", "root", "list", "--json")
    assert seen["code"] == 0 and "fastapi" in seen["loaded"] and "store.hosting" in seen["loaded"]
    assert not {"store.serving", "store.peer", "uvicorn"} & set(seen["loaded"])  # only a host serves


def test_the_collector_is_off_only_while_a_command_starts(demo, capsys, monkeypatch):
    """Start-up runs without the cyclic collector (a fifth of an embedded command's time); the command itself, and
    whatever runs after main, has it back: the console and the servers run for hours."""
    import gc

    from console import cli
    from console import run_commands

    seen = []

    async def runs(client, args):
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(run_commands, "runs", runs)
    assert cli.main(["--data", str(demo), "--user", "root", "runs", "cmp-1"]) == 0
    assert seen == [True] and gc.isenabled()
    assert cli.main(["--data", str(demo), "--user", "nobody-here", "list"]) == 1  # refused while connecting
    assert gc.isenabled()
    try:
        cli.main(["--help"])
    except SystemExit:
        pass
    assert gc.isenabled()
