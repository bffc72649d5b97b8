"""JournalStorage: round trips, what gets journaled, crash leftovers, corruption, compaction."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinydb import Query, TinyDB
from tinydb.operations import add, delete, increment
from tinydb.storages import MemoryStorage
from tinydb.table import Document

from store.db.table import JournalDB
from store.errors import StoreCorrupted, WorkspaceLocked
from tests import journal_writer

JOURNAL, SNAPSHOT = "catalogue.journal", "catalogue.json"


def open_db(path: Path, **kwargs) -> TinyDB:
    return JournalDB(path, **kwargs)


def state(db: TinyDB) -> dict:
    """Plain copy of every table, with ids, as the storage holds it."""
    return {t: {k: dict(d) for k, d in docs.items()} for t, docs in db.storage.read().items()}


def state_on_disk(path: Path) -> dict:
    """What a fresh process would find: open a copy (the original may still be open)."""
    copy_dir = path.parent / f"{path.name}-copy{time.perf_counter_ns()}"
    shutil.copytree(path, copy_dir)
    db = open_db(copy_dir)
    try:
        return state(db)
    finally:
        db.close()


def files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def journal_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / JOURNAL).read_bytes().splitlines()]


def campaign(n: int, size: int = 300) -> dict:
    return {"name": f"campaign {n}", "tags": ["spring", f"t{n}"], "status": "draft",
            "versions": [{"n": 1, "content": "x" * size}]}


def test_round_trip_keeps_data_ids_and_tables(tmp_path):
    db = open_db(tmp_path / "s")
    camps, auds, scratch = db.table("campaigns"), db.table("audiences"), db.table("scratch")
    camps.insert_multiple([campaign(n) for n in range(10)])
    camps.insert(Document(campaign(99), doc_id=99))
    camps.update({"status": "ready"}, Query().name == "campaign 3")
    camps.update({"n": 1}, doc_ids=[5])
    camps.update(increment("n"), doc_ids=[5])
    camps.update(add("tags", ["x"]), doc_ids=[6])
    camps.update(delete("status"), doc_ids=[7])
    camps.remove(doc_ids=[2, 4])
    camps.remove(Query().name == "campaign 8")
    camps.upsert({"name": "campaign 1", "status": "sent"}, Query().name == "campaign 1")
    camps.upsert({"name": "new one"}, Query().name == "new one")
    auds.insert({"rule": {"all": [{"field": "country", "eq": "FR"}]}})
    scratch.insert({"a": 1})
    db.drop_table("scratch")
    for n in range(20):
        db.table(f"t{n}").insert({"n": n})
    db.table("t3").truncate()
    expected = state(db)
    assert expected["campaigns"]["5"]["n"] == 2 and expected["campaigns"]["6"]["tags"][-1] == "x"
    assert "99" in expected["campaigns"] and "scratch" not in expected and expected["t3"] == {}

    assert state_on_disk(tmp_path / "s") == expected  # journal replay, as after a crash
    db.close()
    db = open_db(tmp_path / "s")  # journal replayed: close() does not compact
    assert state(db) == expected
    assert db.tables() == set(expected)
    assert db.table("campaigns").get(doc_id=99)["name"] == "campaign 99"
    assert db.table("campaigns").insert({"name": "next"}) == max(map(int, expected["campaigns"])) + 1
    db.drop_tables()
    db.close()
    assert state_on_disk(tmp_path / "s") == {}


def test_only_changed_documents_are_journaled(tmp_path):
    db = open_db(tmp_path, compact_min_bytes=1 << 30)
    table = db.table("campaigns")
    table.insert_multiple([campaign(n, size=1500) for n in range(1000)])
    assert len(journal_lines(tmp_path)) == 1
    size = (tmp_path / JOURNAL).stat().st_size

    table.update({"status": "ready"}, doc_ids=[500])
    table.remove(doc_ids=[7])
    db.table("other").insert({"a": 1})
    table.update({"status": "ready"}, doc_ids=[12345])  # matches nothing: nothing appended

    lines = journal_lines(tmp_path)
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    assert lines[1] == {"seq": 2, "set": {"campaigns": {"500": {**campaign(499, 1500), "status": "ready"}}}}
    assert lines[2] == {"seq": 3, "del": {"campaigns": ["7"]}}
    assert lines[3] == {"seq": 4, "set": {"other": {"1": {"a": 1}}}}
    assert (tmp_path / JOURNAL).stat().st_size - size < 2 * 1700


def test_read_returns_live_tables_not_copies(tmp_path):
    db = open_db(tmp_path)
    db.table("t").insert_multiple([{"n": n} for n in range(100)])
    storage = db.storage
    assert storage.read()["t"] is storage.read()["t"]
    assert storage.read()["t"]["1"] is storage.read()["t"]["1"]


def test_memory_holds_what_disk_holds(tmp_path):
    """Written documents are re-decoded: no tuples, no references to the caller's lists."""
    db = open_db(tmp_path)
    table = db.table("t")
    tags = ["a"]
    table.insert({"tags": tags, "pair": (1, 2)})
    tags.append("b")
    table.update({"more": tags}, doc_ids=[1])
    tags.append("c")
    assert table.get(doc_id=1) == {"tags": ["a"], "pair": [1, 2], "more": ["a", "b"]}
    assert state(db) == state_on_disk(tmp_path)


def test_failed_write_leaves_memory_and_disk_unchanged(tmp_path):
    db = open_db(tmp_path)
    table = db.table("t")
    table.insert({"n": 1})
    before = files(tmp_path)
    with pytest.raises(TypeError):
        table.update({"n": 2, "bad": object()}, doc_ids=[1])
    with pytest.raises(TypeError):
        table.insert({"bad": {1, 2}})
    with pytest.raises(ValueError):
        table.update({"n": float("nan")}, doc_ids=[1])
    assert files(tmp_path) == before
    assert table.all() == [{"n": 1}]
    table.update(increment("n"), doc_ids=[1])
    assert state_on_disk(tmp_path) == state(db) == {"t": {"1": {"n": 2}}}


@pytest.mark.parametrize("tail", [
    b'{"seq":3,"set":{"t":{"9":{"n"',  # no newline: cut mid-line
    b'{"seq":3,"set":{"t":{"9":{"n":9}}}}',  # a whole entry but no newline: never acknowledged
    b"\0\0\0\0\0\0",  # zero-filled block after a power loss
])
def test_torn_last_line_is_ignored_and_cut_off(tmp_path, tail):
    db = open_db(tmp_path / "s")
    db.table("t").insert({"n": 1})
    db.table("t").insert({"n": 2})
    expected = state(db)
    db.close()
    db = open_db(tmp_path / "s", compact_min_bytes=1 << 30)
    db.table("t").insert({"n": 3})  # journal holds one good line after the snapshot
    expected = state(db)
    good = (tmp_path / "s" / JOURNAL).read_bytes()
    crashed = tmp_path / "crashed"
    shutil.copytree(tmp_path / "s", crashed)
    with open(crashed / JOURNAL, "ab") as f:
        f.write(tail)

    again = open_db(crashed, compact_min_bytes=1 << 30)
    assert state(again) == expected
    assert (crashed / JOURNAL).read_bytes() == good  # truncated to the last complete line
    again.table("t").insert({"n": 4})
    assert state_on_disk(crashed)["t"]["4"] == {"n": 4}


def _corrupt_case(tmp_path: Path, where: str, bad: bytes) -> Path:
    path = tmp_path / "s"
    db = open_db(path)
    db.table("t").insert({"n": 1})
    db.storage.compact()
    db.close()
    db = open_db(path)
    for n in range(2, 5):
        db.table("t").insert({"n": n})
    shutil.copytree(path, tmp_path / "copy")  # as left by a crash: journal not compacted
    db.close()
    path = tmp_path / "copy"
    target = path / (JOURNAL if where != "snapshot" else SNAPSHOT)
    if where == "snapshot":
        target.write_bytes(bad)
    else:
        lines = target.read_bytes().splitlines(keepends=True)
        lines[1] = bad
        target.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("where, bad, message", [
    ("journal", b'{"seq": 3, "set": {"t": \n', "corrupted at line 2 (invalid JSON on a complete line"),
    ("journal", b"[" * 100_000 + b"\n", "corrupted at line 2 (invalid JSON on a complete line"),
    ("journal", b"[1, 2]\n", "corrupted at line 2 (not a journal entry)"),
    ("journal", b'{"seq": 3, "set": {"t": {"2": 5}}}\n', "corrupted at line 2 (not a journal entry)"),
    ("journal", b'{"seq": 7}\n', "change 7 follows change 2"),
    ("snapshot", b'{"format": 1, "seq": 1, "tables": {"t": {"1": {"n": 1}', "is not valid JSON"),
    ("snapshot", b'{"format": 1, "seq": 1, "tables": []}', "does not have the expected structure"),
    ("snapshot", b"", "is not valid JSON"),
])
def test_corruption_raises_and_touches_nothing(tmp_path, where, bad, message):
    path = _corrupt_case(tmp_path, where, bad)
    before = files(path)
    for _ in range(2):  # the failed open released its lock; it fails the same way again
        with pytest.raises(StoreCorrupted) as caught:
            open_db(path)
        assert message in caught.value.detail
        assert "left untouched" in caught.value.detail and str(path) in caught.value.detail
    assert files(path) == before


def test_an_invalid_complete_last_line_is_corruption_not_a_torn_write(tmp_path):
    """One write() puts a line and its newline: a complete line that does not parse was damaged later."""
    path = _crashed_with_journal(tmp_path, {"t": [{"n": 1}]}, {"t": [{"n": 2}]})
    with open(path / JOURNAL, "ab") as f:
        f.write(b'{"seq":3,"set":{"t":{"9":{"n"\n')
    before = files(path)
    with pytest.raises(StoreCorrupted, match=r"corrupted at line 2 \(invalid JSON on a complete line: not a torn write"):
        open_db(path)
    assert files(path) == before


def _crashed_with_journal(tmp_path: Path, snapshot: dict, journal: dict) -> Path:
    """A copy taken while open, as a crash leaves it: ``snapshot`` compacted, ``journal`` one line per table."""
    db = open_db(tmp_path / "s", compact_min_bytes=1 << 30)
    for table, docs in snapshot.items():
        db.table(table).insert_multiple(docs)
    db.storage.compact()
    db.close()
    db = open_db(tmp_path / "s", compact_min_bytes=1 << 30)
    for table, docs in journal.items():
        db.table(table).insert_multiple(docs)
    shutil.copytree(tmp_path / "s", tmp_path / "crashed")
    db.close()
    return tmp_path / "crashed"


def _refuse_odd(table: str, key: str, document: dict) -> str | None:
    return "n must be even" if document.get("n", 0) % 2 else None


def test_a_document_the_check_refuses_names_its_file_and_line_and_touches_nothing(tmp_path):
    path = _crashed_with_journal(tmp_path, {"t": [{"n": 2}]}, {"t": [{"n": 4}], "u": [{"n": 5}]})
    with open(path / JOURNAL, "ab") as f:
        f.write(b'{"seq":4,"set"')  # and a torn tail, which a successful open would cut
    before = files(path)
    for _ in range(2):
        with pytest.raises(StoreCorrupted) as caught:
            open_db(path, check=_refuse_odd)
        assert f"document 1 of table 'u' in {path / JOURNAL} line 2 is invalid: n must be even" in caught.value.detail
        assert "left untouched" in caught.value.detail
    assert files(path) == before

    # A hand edit of the snapshot: its CRC no longer matches, so each of its documents is checked.
    edited = (path / SNAPSHOT).read_bytes().replace(b'"1"\t{"n":2}', b'"1"\t{"n":7}')
    assert edited != (path / SNAPSHOT).read_bytes()
    (path / SNAPSHOT).write_bytes(edited)
    (path / JOURNAL).write_bytes(b"")
    with pytest.raises(StoreCorrupted, match=f"document 1 of table 't' in {path / SNAPSHOT} is invalid"):
        open_db(path, check=_refuse_odd)


def test_missing_changes_are_reported(tmp_path):
    db = open_db(tmp_path)
    db.table("t").insert({"n": 1})
    db.storage.compact()  # snapshot at change 1, empty journal
    db.close()
    (tmp_path / JOURNAL).write_bytes(b'{"seq":3,"set":{"t":{"2":{"n":2}}}}\n')
    before = files(tmp_path)
    with pytest.raises(StoreCorrupted, match="continues at change 3 but the snapshot ends at change 1"):
        open_db(tmp_path)
    assert files(tmp_path) == before


def test_journal_is_compacted_by_size_and_close_leaves_it_to_replay(tmp_path):
    """Compaction runs in the background once the journal passes its limit and is installed at a
    later write; close() neither compacts nor loses the journal."""
    db = open_db(tmp_path, compact_ratio=0.5, compact_min_bytes=20_000)
    table = db.table("campaigns")
    table.insert_multiple([campaign(n) for n in range(50)])
    sizes = [(tmp_path / JOURNAL).stat().st_size]
    for n in range(20_000):  # a generous bound: each compaction takes a few writes to finish
        table.update({"status": f"s{n}", "rev": n}, doc_ids=[n % 50 + 1])
        sizes.append((tmp_path / JOURNAL).stat().st_size)
        if sum(1 for a, b in zip(sizes, sizes[1:]) if b < a) >= 3:
            break
    assert sum(1 for a, b in zip(sizes, sizes[1:]) if b < a) >= 3, "never compacted three times"
    assert (tmp_path / SNAPSHOT).exists()
    expected = state(db)
    assert state_on_disk(tmp_path) == expected
    table.update({"status": "last"}, doc_ids=[1])
    expected = state(db)
    snapshot, journal = (tmp_path / SNAPSHOT).read_bytes(), (tmp_path / JOURNAL).read_bytes()
    db.close()
    after = (tmp_path / JOURNAL).read_bytes()
    assert journal.endswith(after)  # left to be replayed, or its tail after a finished compaction
    assert after == journal or (tmp_path / SNAPSHOT).read_bytes() != snapshot
    assert state_on_disk(tmp_path) == expected
    db = open_db(tmp_path)
    assert state(db) == expected
    db.close()


def test_crash_between_snapshot_rename_and_journal_reset(tmp_path):
    db = open_db(tmp_path)
    table = db.table("t")
    table.insert({"n": 1})
    table.update({"n": 2}, doc_ids=[1])
    table.insert({"n": 3})
    table.remove(doc_ids=[2])
    old_journal = (tmp_path / JOURNAL).read_bytes()
    expected = state(db)
    db.storage.compact()  # snapshot now holds changes 1..4
    db.close()
    (tmp_path / JOURNAL).write_bytes(old_journal)  # as if the reset never happened
    (tmp_path / "catalogue.json.tmp").write_bytes(b"half a compaction")  # and a leftover

    db = open_db(tmp_path)
    assert state(db) == expected and db.storage.seq == 4
    assert (tmp_path / JOURNAL).read_bytes() == b""  # stale lines dropped
    assert not (tmp_path / "catalogue.json.tmp").exists()
    db.table("t").insert({"n": 5})  # change 5 must not be mistaken for an old one
    assert journal_lines(tmp_path)[0]["seq"] == 5
    assert state_on_disk(tmp_path)["t"] == {"1": {"n": 2}, "2": {"n": 5}}


def test_crash_before_the_journal_reset_with_later_changes(tmp_path):
    """Old lines (<= snapshot) followed by new ones: skip the first, replay the rest."""
    db = open_db(tmp_path)
    db.table("t").insert({"n": 1})
    db.table("t").insert({"n": 2})
    old_journal = (tmp_path / JOURNAL).read_bytes()
    db.storage.compact()
    db.table("t").update({"n": 20}, doc_ids=[2])
    (tmp_path / "j").write_bytes(old_journal + (tmp_path / JOURNAL).read_bytes())
    expected = state(db)
    db.close()
    os.replace(tmp_path / "j", tmp_path / JOURNAL)
    (tmp_path / SNAPSHOT).write_bytes(
        json.dumps({"format": 1, "seq": 2, "tables": {"t": {"1": {"n": 1}, "2": {"n": 2}}}}).encode())
    db = open_db(tmp_path)
    assert state(db) == expected and db.storage.seq == 3


def test_batch_is_one_journal_line_or_nothing(tmp_path):
    db = open_db(tmp_path)
    camps, audit = db.table("campaigns"), db.table("audit/cmp-1")
    camps.insert_multiple([{"n": 1}, {"n": 2}])
    before = files(tmp_path)
    with db.storage.batch():
        camps.update({"status": "ready"}, doc_ids=[1])
        camps.remove(doc_ids=[2])
        with db.storage.batch():  # nested: still the same line
            audit.insert({"action": "ready"})
        assert camps.get(doc_id=1)["status"] == "ready" and len(camps) == 1  # reads see it
        assert files(tmp_path) == before  # nothing written yet
    assert len(journal_lines(tmp_path)) == 2
    expected = {"campaigns": {"1": {"n": 1, "status": "ready"}}, "audit/cmp-1": {"1": {"action": "ready"}}}
    assert state(db) == state_on_disk(tmp_path) == expected

    before = files(tmp_path)
    with pytest.raises(KeyError):
        with db.storage.batch():
            camps.update({"status": "sent"}, doc_ids=[1])
            camps.insert({"n": 3})
            audit.insert({"action": "sent"})
            db.drop_table("audit/cmp-1")
            raise KeyError("refused halfway")
    assert files(tmp_path) == before
    assert state(db) == expected
    camps.update(increment("n"), doc_ids=[1])  # and the store goes on normally
    assert state_on_disk(tmp_path)["campaigns"] == {"1": {"n": 2, "status": "ready"}}


def test_one_storage_per_directory(tmp_path):
    db = open_db(tmp_path)
    with pytest.raises(WorkspaceLocked, match="already open"):
        open_db(tmp_path)
    db.close()
    db.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        db.table("t").insert({"n": 1})
    open_db(tmp_path).close()


@pytest.mark.slow
def test_survives_sigkill_at_any_moment(tmp_path):
    """Kill the writer at random moments: the store opens at the state after k changes."""
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    path = tmp_path / "store"
    reference = TinyDB(storage=MemoryStorage)
    done = 0  # changes known to be in the store
    in_flight_landed = mid_compaction = 0
    started = time.monotonic()
    for kill in range(20):
        proc = subprocess.Popen(
            [sys.executable, journal_writer.__file__, str(path), str(done)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        time.sleep(rnd.uniform(0.15, 0.6))  # racing the kill, not waiting for time to pass
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err.decode()
        reported = [int(line) for line in out.decode().split("\n")[:-1]]
        last = reported[-1] if reported else done
        mid_compaction += (path / "catalogue.json.tmp").exists()

        for number in range(done + 1, last + 1):
            journal_writer.apply_change(reference, number)
        actual = state_on_disk(path)
        context = f"seed {seed}, kill {kill}, last reported change {last}"
        if actual != (reference.storage.read() or {}):
            journal_writer.apply_change(reference, last + 1)  # the in-flight change landed
            assert actual == reference.storage.read(), context
            last += 1
            in_flight_landed += 1
        done = last
    assert done > 200, "the writer made too little progress to mean anything"
    db = open_db(path)  # the original directory, as the writer left it
    assert state(db) == reference.storage.read()
    db.close()
    assert time.monotonic() - started < 30
    print(f"{done} changes, {in_flight_landed} in-flight changes landed, "
          f"{mid_compaction} kills inside a compaction")
