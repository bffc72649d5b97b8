"""Identity over the network: bearer tokens issued by admins (printed once, stored hashed) and `campaigns serve`."""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from store.api import create_app
from store.api.identity import TokenIdentity
from store.client import CampaignsClient
from store.db.lock import read_holder

from .processes import ROOT, campaigns, environment, stop_engine, wait_until
from .serving import issued as _issued, serving, token as _token
from .test_cli import demo, demo_template, run  # noqa: F401  (fixtures)


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


@pytest.fixture
def served(demo):
    """A real `campaigns serve` on a free loopback port: (process, base URL, data directory)."""
    with serving(demo) as (process, base):
        yield process, base, demo


def _bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def test_serve_needs_a_token_and_the_token_says_who_you_are(served):
    process, base, data = served
    admin, viewer = _token(data, "root"), _token(data, "eve")
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/openapi.json").status_code == 401 and http.get("/docs").status_code == 404
        assert "/v1/campaigns" in http.get("/openapi.json", headers=_bearer(admin)).json()["paths"]
        for headers in ({}, _bearer("not-a-token"), {"Authorization": "Basic cm9vdDpyb290"}):
            refused = http.get("/v1/me", headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
            assert refused.headers["content-type"] == "application/problem+json"
        assert http.get("/v1/me", headers=_bearer(admin)).json()["user"]["name"] == "root"
        assert http.get("/v1/me", headers=_bearer(viewer)).json()["user"]["name"] == "eve"
        draft = next(c["id"] for c in http.get("/v1/campaigns", headers=_bearer(viewer)).json()
                     if c["status"] == "Draft")
        denied = http.post(f"/v1/campaigns/{draft}/activate", headers=_bearer(viewer))
        assert denied.status_code == 403 and denied.json()["status"] == 403
        claimed = http.post(f"/v1/campaigns/{draft}/activate", headers=_bearer(viewer, **{"X-Campaigns-User": "root"}))
        assert claimed.status_code == 403 and "the token says who you are" in claimed.json()["detail"]
        assert http.post("/v1/users", headers=_bearer(viewer, **{"X-Campaigns-User": "root"}),
                         json={"name": "mallory", "role": "admin"}).status_code == 403
        assert "mallory" not in {u["name"] for u in http.get("/v1/users", headers=_bearer(admin)).json()}
        assert http.get(f"/v1/campaigns/{draft}", headers=_bearer(admin)).json()["status"] == "Draft"

        revoked = campaigns("--data", str(data), "--user", "root", "users", "revoke", "eve")
        assert revoked.returncode == 0 and "1 token of eve revoked" in revoked.stderr
        gone = http.get("/v1/me", headers=_bearer(viewer))
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
        assert http.get("/v1/me", headers=_bearer(admin)).status_code == 200
    stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file() and not p.is_socket())
    assert admin.encode() not in stored and viewer.encode() not in stored
    code, err = stop_engine(process, signal.SIGTERM)
    assert code == 0, err
    assert not (read_holder(data) or {}).get("url")


def test_a_bind_off_this_machine_without_tls_is_refused_in_one_line(demo):
    done = campaigns("--data", str(demo), "--user", "root", "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "without TLS" in done.stderr and "--tls-cert" in done.stderr
    half = campaigns("--data", str(demo), "--user", "root", "serve", "--tls-cert", "cert.pem")
    assert half.returncode == 2 and "both --tls-cert and --tls-key" in half.stderr


def test_insecure_serves_off_loopback_and_says_why_it_is_unsafe(demo):
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(demo), "--user", "root", "serve",
                                "--host", "0.0.0.0", "--port", "0", "--insecure"], cwd=ROOT, env=environment(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = wait_until(lambda: (read_holder(demo) or {}).get("url") or process.poll() is not None, "serve to listen")
    assert process.poll() is None and base.startswith("http://0.0.0.0:")
    code, err = stop_engine(process)
    assert code == 0 and err.splitlines()[0].startswith("warning: serving without TLS off this machine")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_serves_https_with_the_given_certificate(demo, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "console.cli", "--data", str(demo), "--user", "root", "serve",
                                "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)], cwd=ROOT,
                               env=environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = wait_until(lambda: (read_holder(demo) or {}).get("url") or process.poll() is not None, "serve to listen")
    assert process.poll() is None and base.startswith("https://127.0.0.1:")
    token = _token(demo, "root")
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(cert)), timeout=60) as http:
        assert http.get("/v1/me", headers=_bearer(token)).json()["user"]["name"] == "root"
    code, err = stop_engine(process)
    assert code == 0, err


async def test_a_token_expires_after_its_days_and_says_when(workspace, engine, clock):
    app = create_app(workspace, engine, TokenIdentity())
    admin = CampaignsClient(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"))
    founder_token, _ = workspace.administration.issue_token(workspace.catalogue.users.get("root"), "root", days=30)
    admin.http.headers["Authorization"] = f"Bearer {founder_token}"
    issued = await admin.issue_token("root", days=1)
    assert issued.expires_at == clock.now() + timedelta(days=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                  headers={"Authorization": f"Bearer {issued.token}"}) as http:
        assert (await http.get("/v1/me")).status_code == 200
        clock.advance(timedelta(days=1, seconds=1))
        expired = await http.get("/v1/me")
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"] == "Bearer"
    assert f"this token expired on {issued.expires_at:%Y-%m-%d %H:%M} UTC" in expired.json()["detail"]
    assert (await admin.me()).user.name == "root"  # the 30-day token still works
    refused = await admin.http.post("/v1/users/root/tokens", json={"days": 5000})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "days"
    await admin.aclose()
