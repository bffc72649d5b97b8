"""JournalTable over JournalStorage: the TinyDB seam it relies on, writes that journal only what they
change, the format-2 snapshot (trusted documents not re-checked, hand edits still refused), and
compaction by size in the background, never at close, surviving a kill mid-way."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import tinydb
from tinydb import Query, TinyDB
from tinydb.operations import add, delete, increment
from tinydb.storages import MemoryStorage
from tinydb.table import Document, Table

from store.db.table import JournalDB, JournalTable
from store.errors import StoreCorrupted
from tests import compaction_writer
from tests.processes import ROOT, environment, wait_until

JOURNAL, SNAPSHOT = "catalogue.journal", "catalogue.json"


def journal_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / JOURNAL).read_bytes().splitlines()]


def contents(db: TinyDB) -> dict:
    return {name: {doc.doc_id: dict(doc) for doc in db.table(name).all()} for name in sorted(db.tables())}


def test_the_tinydb_internals_journal_table_overrides_are_there():
    """Fails loudly when a tinydb release changes what JournalTable relies on (then re-check table.py)."""
    major, minor = map(int, tinydb.__version__.split(".")[:2])
    assert (major, minor) == (4, 9), f"tinydb {tinydb.__version__}: not the tested minor version (see pyproject.toml)"
    assert list(inspect.signature(Table._update_table).parameters) == ["self", "updater"]
    assert list(inspect.signature(Table._read_table).parameters) == ["self"]
    assert list(inspect.signature(Table.__init__).parameters)[:3] == ["self", "storage", "name"]
    assert callable(Table.clear_cache) and Table.document_id_class is int
    # Every write method reaches the storage through _update_table only, which JournalTable replaces.
    for method in ("insert", "insert_multiple", "update", "update_multiple", "upsert", "remove", "truncate"):
        source = inspect.getsource(getattr(Table, method))
        assert "_update_table(" in source or "self.update(" in source, method
        assert "_storage.write" not in source and "_storage.read" not in source, method
    assert TinyDB.table_class is Table and "table_class" in inspect.getsource(TinyDB.table)


def _exercise(db: TinyDB) -> None:
    """Every TinyDB write method, with ids, queries, operations and an error."""
    camps = db.table("campaigns")
    camps.insert_multiple([{"name": f"c{n}", "n": n, "tags": []} for n in range(8)])
    camps.insert(Document({"name": "c99", "n": 99}, doc_id=99))
    camps.insert({"name": "after 99"})
    with pytest.raises(ValueError):
        camps.insert(Document({"name": "twice"}, doc_id=99))
    camps.update({"status": "ready"}, Query().n == 3)
    camps.update(increment("n"), doc_ids=[5, 12345])
    camps.update(add("tags", ["x"]), doc_ids=[6])
    camps.update(delete("tags"), doc_ids=[7])
    camps.update({"seen": True})
    camps.update_multiple([({"big": True}, Query().n > 5), ({"small": True}, Query().n < 2)])
    camps.upsert({"name": "c1", "status": "sent"}, Query().name == "c1")
    camps.upsert({"name": "new"}, Query().name == "new")
    camps.upsert(Document({"name": "by id"}, doc_id=2))
    camps.upsert(Document({"name": "id 500"}, doc_id=500))
    camps.remove(doc_ids=[3, 777])
    camps.remove(Query().name == "c8")
    db.table("scratch").insert({"a": 1})
    db.table("emptied").insert({"a": 1})
    db.table("emptied").truncate()
    db.table("emptied").insert({"a": 2})
    db.drop_table("scratch")


def test_journal_tables_agree_with_stock_tinydb_and_their_query_caches_stay_right(tmp_path):
    reference = TinyDB(storage=MemoryStorage)
    db = JournalDB(tmp_path)
    assert isinstance(db.table("campaigns"), JournalTable)
    ready = Query().status == "ready"
    assert db.table("campaigns").search(ready) == []  # cached, then invalidated by the writes below
    _exercise(reference)
    _exercise(db)
    assert contents(db) == contents(reference)
    camps, ref = db.table("campaigns"), reference.table("campaigns")
    assert len(camps) == len(ref) and [d.doc_id for d in camps] == [d.doc_id for d in ref]
    assert camps.search(ready) == ref.search(ready) != []
    assert camps.get(doc_id=2) == ref.get(doc_id=2) and camps.get(doc_id=2).doc_id == 2
    assert camps.count(Query().big == True) == ref.count(Query().big == True)  # noqa: E712
    assert camps.insert({"name": "next"}) == ref.insert({"name": "next"})

    with pytest.raises(KeyError):  # a rolled-back batch leaves no stale cached result behind
        with db.storage.batch():
            camps.update({"status": "ready"}, doc_ids=[2])
            assert len(camps.search(ready)) == 2
            raise KeyError("refused")
    assert camps.search(ready) == ref.search(ready)
    db.close()
    again = JournalDB(tmp_path)
    assert contents(again) == contents(reference)
    again.close()


def test_a_write_to_a_large_table_journals_only_its_document(tmp_path):
    db = JournalDB(tmp_path, compact_min_bytes=1 << 30)
    table = db.table("campaigns")
    table.insert_multiple({"n": n, "body": "x" * 500} for n in range(5000))
    db.table("meta").insert({"next": 1})
    before = (tmp_path / JOURNAL).stat().st_size
    table.update({"status": "ready"}, doc_ids=[4321])
    db.table("meta").update(increment("next"), doc_ids=[1])
    table.upsert(Document({"n": -1}, doc_id=6000))
    table.remove(doc_ids=[17])
    assert journal_lines(tmp_path)[-4:] == [
        {"seq": 3, "set": {"campaigns": {"4321": {"n": 4320, "body": "x" * 500, "status": "ready"}}}},
        {"seq": 4, "set": {"meta": {"1": {"next": 2}}}},
        {"seq": 5, "set": {"campaigns": {"6000": {"n": -1}}}},
        {"seq": 6, "del": {"campaigns": ["17"]}},
    ]
    assert (tmp_path / JOURNAL).stat().st_size - before < 1000
    db.close()


def test_close_does_not_compact_and_the_next_open_replays_the_journal(tmp_path):
    db = JournalDB(tmp_path)
    db.table("t").insert_multiple({"n": n} for n in range(100))
    db.storage.compact()
    db.table("t").update({"n": -1}, doc_ids=[50])
    db.table("t").remove(doc_ids=[7])
    expected, snapshot, journal = contents(db), (tmp_path / SNAPSHOT).read_bytes(), (tmp_path / JOURNAL).read_bytes()
    db.close()
    assert (tmp_path / SNAPSHOT).read_bytes() == snapshot and (tmp_path / JOURNAL).read_bytes() == journal
    assert len(journal.splitlines()) == 2
    db = JournalDB(tmp_path)
    assert contents(db) == expected and db.storage.seq == 3
    db.close()
    for name in (SNAPSHOT, JOURNAL):  # private to the owner, whatever the umask
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_snapshot_documents_are_checked_once_and_a_hand_edit_is_still_refused(tmp_path):
    checked: list[tuple[str, str]] = []

    def check(table: str, key: str, document: dict) -> str | None:
        checked.append((table, key))
        return "n must not be negative" if document.get("n", 0) < 0 else None

    db = JournalDB(tmp_path, check=check)
    db.table("t").insert_multiple({"n": n} for n in range(50))
    db.storage.compact()
    db.table("t").update({"n": 1000}, doc_ids=[3])
    db.close()
    checked.clear()
    JournalDB(tmp_path, check=check).close()
    assert checked == [("t", "3")]  # the journal's document; the snapshot's were checked before

    snapshot = (tmp_path / SNAPSHOT).read_bytes()
    (tmp_path / SNAPSHOT).write_bytes(snapshot.replace(b'"40"\t{"n":39}', b'"40"\t{"n":-39}'))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(StoreCorrupted) as caught:
        JournalDB(tmp_path, check=check)
    assert f"document 40 of table 't' in {tmp_path / SNAPSHOT} is invalid: n must not be negative" \
        in caught.value.detail
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    (tmp_path / SNAPSHOT).write_bytes(snapshot.replace(b'"40"\t{"n":39}', b'"40"\t{"n":39'))
    with pytest.raises(StoreCorrupted, match="document 40 of table 't' .* is invalid: not valid JSON"):
        JournalDB(tmp_path, check=check)
    (tmp_path / SNAPSHOT).write_bytes(snapshot[: len(snapshot) // 2])
    with pytest.raises(StoreCorrupted, match="snapshot .* is not whole or not valid"):
        JournalDB(tmp_path, check=check)


def test_a_snapshot_that_saw_a_rolled_back_change_is_not_installed(tmp_path):
    db = JournalDB(tmp_path, compact_min_bytes=1 << 30)
    table = db.table("t")
    table.insert({"n": 1})
    db.storage.compact()
    snapshot = (tmp_path / SNAPSHOT).read_bytes()
    writer = db.storage._start_writer()  # as if a background compaction were under way...
    with pytest.raises(KeyError):
        with db.storage.batch():
            table.update({"n": 2}, doc_ids=[1])
            writer.run()  # ...and copied the pending change before the batch failed
            raise KeyError("refused")
    table.insert({"n": 3})  # the next write installs finished compactions: not this one
    assert (tmp_path / SNAPSHOT).read_bytes() == snapshot
    assert not writer.tmp_path.exists()
    db.close()
    db = JournalDB(tmp_path)
    assert contents(db) == {"t": {1: {"n": 1}, 2: {"n": 3}}}
    db.close()


@pytest.mark.slow
def test_a_kill_during_a_background_compaction_loses_no_durable_change(tmp_path):
    path = tmp_path / "store"
    last = 0  # the last update reported durable, by this run or (when killed before it printed one) an earlier one
    for kill in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "tests.compaction_writer", str(path)], cwd=ROOT,
                                env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "0", proc.stderr.read()
        tmp = path / "catalogue.json.tmp"
        # The first kill lands in the first compaction, later ones in a compaction after an installed one.
        wait_until(lambda: (kill == 0 or (path / SNAPSHOT).exists()) and tmp.exists() and tmp.stat().st_size,
                   "a compaction writing its snapshot", every=0.001)
        proc.send_signal(signal.SIGKILL)
        reported = [int(n) for n in proc.stdout.read().split()]  # read(), not communicate(): lines read ahead
        proc.wait()
        proc.stderr.close()
        last = reported[-1] if reported else last
        copy = tmp_path / f"copy{kill}"
        shutil.copytree(path, copy)
        db = JournalDB(copy)
        revs = {str(doc.doc_id): doc["rev"] for doc in db.table("campaigns").all()}
        db.close()
        assert revs in (compaction_writer.expected_revs(last), compaction_writer.expected_revs(last + 1)), kill
        assert not (copy / "catalogue.json.tmp").exists()  # the unfinished snapshot was removed
    assert os.path.exists(path / SNAPSHOT)


def test_a_snapshot_from_before_format_2_is_checked_whole_once_then_written_back_checked(tmp_path):
    checked: list[tuple[str, str]] = []

    def check(table: str, key: str, document: dict) -> str | None:
        checked.append((table, key))
        return None

    (tmp_path / SNAPSHOT).write_bytes(json.dumps(
        {"format": 1, "seq": 1, "tables": {"t": {str(n): {"n": n} for n in range(1, 21)}}}).encode())
    db = JournalDB(tmp_path, check=check)
    assert len(checked) == 20  # an old snapshot: every document checked
    db.close()  # waits for the rewrite
    assert not (tmp_path / SNAPSHOT).read_bytes().startswith(b'{"format": 1')
    checked.clear()
    db = JournalDB(tmp_path, check=check)
    assert checked == [] and contents(db) == {"t": {n: {"n": n} for n in range(1, 21)}}
    db.close()


def test_table_names_that_need_escaping_survive_a_snapshot(tmp_path):
    db = JournalDB(tmp_path)
    for name in ('quote"d', "back\\slash", "naïve · ünïcode", "audit/cmp-1"):
        db.table(name).insert_multiple({"n": n, "name": name} for n in range(3))
    before = contents(db)
    db.storage.compact()
    db.close()
    db = JournalDB(tmp_path)
    assert contents(db) == before
    db.close()


def test_a_closed_store_refuses_reads_instead_of_answering_empty(tmp_path):
    db = JournalDB(tmp_path)
    table = db.table("t")
    table.insert({"n": 1})
    db.close()
    with pytest.raises(RuntimeError, match="is closed"):
        table.all()
