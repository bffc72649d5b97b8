"""Hostile files through the real `campaigns` command: one line on stderr, never a traceback, nothing stored changed.

Each case runs the CLI in a subprocess, as a person would, and compares the stored files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store.db.table import JournalDB

from .processes import campaigns as run_campaigns
STORED = ("catalogue.json", "catalogue.journal", "profiles.sqlite3")


def campaigns(data: Path, *argv: str, user: str = "root", env: dict | None = None) -> subprocess.CompletedProcess:
    return run_campaigns(*argv, env={"CAMPAIGNS_DATA": str(data), "CAMPAIGNS_USER": user, **(env or {})})


def refused(result: subprocess.CompletedProcess, *words: str, code: int = 1) -> str:
    """The one line a refusal prints; fails on a traceback, a second line or missing words."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def stored(data: Path) -> dict[str, str]:
    return {name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in STORED if (data / name).exists()}


@pytest.fixture
def data(tmp_path) -> Path:
    """A workspace with one campaign (cmp-1) and one profile (p0)."""
    path = tmp_path / "ws"
    document = tmp_path / "campaign.json"
    document.write_text(json.dumps({"name": "Spring sale", "type": "action", "category": "marketing",
                                    "draft": {"channel": "email"}}))
    assert campaigns(path, "create", "--file", str(document)).stdout.strip() == "cmp-1"
    (tmp_path / "p0.csv").write_text("id,timeZone\np0,Europe/Paris\n")
    assert campaigns(path, "profiles", "import", str(tmp_path / "p0.csv")).returncode == 0
    return path


def test_create_and_edit_refuse_a_file_that_is_not_utf8_or_nests_too_deep(data, tmp_path):
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"name": "Soldes d\'été", "type": "action"}'.encode("latin-1"))
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    before = stored(data)
    refused(campaigns(data, "create", "--file", str(latin1)), "latin1.json is not UTF-8 text", "line 1",
            "save it as UTF-8")
    refused(campaigns(data, "edit", "cmp-1", "--file", str(latin1)), "is not UTF-8 text")
    refused(campaigns(data, "create", "--file", str(deep)), "deep.json", "nests deeper than 64 levels")
    refused(campaigns(data, "edit", "cmp-1", "--file", str(deep)), "nests deeper than 64 levels")
    assert stored(data) == before


def test_a_csv_column_of_5000_parts_is_refused_naming_it(data, tmp_path):
    path = tmp_path / "deep.csv"
    path.write_text("id," + ".".join(["a"] * 5000) + "\np1,x\n")
    before = stored(data)
    refused(campaigns(data, "profiles", "import", str(path)), "column 2 ('a.a.a.", "5,000 dotted parts",
            "at most 64 levels")
    assert stored(data) == before


def test_import_reports_swallowed_lines_nul_bytes_and_deep_json_lines_by_line(data, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_bytes(b'id,timeZone\np1,Europe/Paris\np2,"Europe/Lyon\np3,Europe/Nice\np4,Asia/Tokyo\n')
    result = campaigns(data, "profiles", "import", str(csv_file))
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        "imported 1, updated 0, rejected 3",
        '  line 3: unclosed quote opened on line 3 swallowed lines 3–5; close it with " (a quote inside a field '
        'is written "")',
        "  line 4: swallowed by the unclosed quote opened on line 3",
        "  line 5: swallowed by the unclosed quote opened on line 3",
    ]
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"id,timeZone\nn1,Europe/Paris\nn2,Europe\x00Paris\n")
    result = campaigns(data, "profiles", "import", str(nul))
    assert result.returncode == 3 and result.stdout.splitlines()[1:] == [
        "  line 3: a NUL byte in column 'timeZone'; remove it (it is not text)"]
    lines = tmp_path / "deep.jsonl"
    lines.write_text(json.dumps({"id": "j1"}) + "\n" + '{"id": "j2", "a": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
                     + json.dumps({"id": "j3", "timeZone": "a\0b"}) + "\n")
    result = campaigns(data, "profiles", "import", str(lines))
    assert result.returncode == 3 and result.stdout.splitlines()[1:] == [
        "  line 2: the record nests deeper than 64 levels; flatten it",
        "  line 3: a NUL character (\\u0000) in 'timeZone'; remove it (it is not text)"]
    for refused_id in ("p2", "p3", "p4", "n2", "j2", "j3"):
        refused(campaigns(data, "profiles", "show", refused_id), f"no profile with id {refused_id!r}")
    for imported in ("p1", "n1", "j1"):
        assert campaigns(data, "profiles", "show", imported, "--json").returncode == 0


@pytest.mark.parametrize("table, documents, words", [
    ("campaigns", lambda tables: {"2": {"foo": 1}},
     ["document 2 of table 'campaigns'", "catalogue.json", "name: Field required"]),
    ("users", lambda tables: {"7": {"name": 5, "role": "admin"}},
     ["document 7 of table 'users'", "name: Input should be a valid string"]),
    ("campaigns", lambda tables: {"3": tables["campaigns"]["1"]},
     ["document 3 of table 'campaigns'", "holds campaign 'cmp-1' under the id of cmp-3"]),
], ids=["not-a-campaign", "numeric-user-name", "campaign-under-another-id"])
def test_a_document_that_breaks_the_schema_is_named_and_nothing_is_touched(data, table, documents, words):
    db = JournalDB(data)  # compacted, then hand-edited: the snapshot's CRC no longer matches
    db.storage.compact()
    tables = {name: {key: dict(doc) for key, doc in docs.items()} for name, docs in db.storage.read().items()}
    db.close()
    lines = (data / "catalogue.json").read_bytes().split(b"\n")
    at = lines.index(json.dumps({"table": table}, separators=(",", ":")).encode()) + 1
    lines[at:at] = [json.dumps(key).encode() + b"\t" + json.dumps(doc).encode()
                    for key, doc in documents(tables).items()]
    (data / "catalogue.json").write_bytes(b"\n".join(lines))
    with open(data / "catalogue.journal", "ab") as journal:
        journal.write(b'{"seq": 99, "set"')  # a torn tail, which a successful open would cut off
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    for argv in (("list",), ("users",), ("show", "cmp-1")):
        refused(campaigns(data, *argv), *words, "left untouched")
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before


def test_a_complete_journal_line_that_is_not_json_is_corruption(data):
    line = len((data / "catalogue.journal").read_bytes().splitlines()) + 1  # after the fixture's changes
    with open(data / "catalogue.journal", "ab") as journal:
        journal.write(b'{"seq": 1, "set": {"users": \n')
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}
    refused(campaigns(data, "list"), f"catalogue.journal is corrupted at line {line}", "not a torn write",
            "left untouched")
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before


EDITOR = textwrap.dedent("""
    import json, os, subprocess, sys
    change, path = sys.argv[1:]  # EDITOR="python editor.py CHANGE": the file comes last
    # While the draft is open here, another command must be able to open the workspace itself.
    listed = subprocess.run([sys.executable, "-m", "console.cli", "list", "--json"], capture_output=True, text=True)
    if listed.returncode != 0:
        sys.exit("campaigns list failed while editing: " + listed.stderr)
    if change == "meanwhile":  # someone else saves the draft while this person edits
        meanwhile = path + ".other.json"
        doc = json.load(open(path))
        doc["description"] = "changed meanwhile"
        json.dump(doc, open(meanwhile, "w"))
        other = subprocess.run([sys.executable, "-m", "console.cli", "--user", "alice", "edit", "cmp-1",
                                "--file", meanwhile], capture_output=True, text=True)
        if other.returncode != 0:
            sys.exit("the other edit failed: " + other.stderr)
    doc = json.load(open(path))
    doc["description"] = "edited in the editor"
    json.dump(doc, open(path, "w"))
""")


@pytest.fixture
def editor(tmp_path) -> dict:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    return {"VISUAL": "", "EDITOR": f"{sys.executable} {script}", "TMPDIR": str(tmp_path)}


def test_edit_releases_the_workspace_while_the_editor_is_open(data, editor):
    result = campaigns(data, "edit", "cmp-1", env={**editor, "EDITOR": editor["EDITOR"] + " quietly"})
    assert result.returncode == 0, result.stderr
    assert "cmp-1: draft v1 saved (revision 2)" in result.stderr
    shown = json.loads(campaigns(data, "show", "cmp-1", "--json").stdout)
    assert shown["description"] == "edited in the editor"
    assert not list(Path(editor["TMPDIR"]).glob("campaigns-cmp-1-*.json"))  # saved: the temporary file is gone


def test_edit_saved_against_a_revision_changed_meanwhile_is_refused_and_kept(data, editor):
    assert campaigns(data, "users", "add", "alice", "--role", "manager").returncode == 0
    result = campaigns(data, "edit", "cmp-1", env={**editor, "EDITOR": editor["EDITOR"] + " meanwhile"})
    line = refused(result, "cmp-1 was changed by alice", "your edit started from revision 1", "your edit is kept at")
    [kept] = [p for p in Path(editor["TMPDIR"]).glob("campaigns-cmp-1-*.json") if not p.name.endswith(".other.json")]
    assert str(kept) in line and json.loads(kept.read_text())["description"] == "edited in the editor"
    assert json.loads(campaigns(data, "show", "cmp-1", "--json").stdout)["description"] == "changed meanwhile"
