"""A crash-safe TinyDB storage: data in memory, changes appended to an fsynced journal.

Stock ``JSONStorage`` re-reads and rewrites the whole file on every operation, in place,
so one update costs ~100 ms at 10,000 documents and a crash mid-write can destroy the
store. ``JournalStorage`` keeps every table in memory and makes each ``write`` durable
by appending ONE line (only the documents that changed) to a journal and fsyncing it.

Files in the directory (``name`` defaults to ``catalogue``):

* ``catalogue.json``    snapshot ``{"format": 1, "seq": S, "tables": {...}}``: the full
  state as of change S. Only ever replaced whole (temp file, fsync, rename, dir fsync).
* ``catalogue.journal`` one JSON line per change: ``{"seq": n, "drop": [table, ...],
  "del": {table: [id, ...]}, "set": {table: {id: document}}}`` applied in that order.
  Lines with ``seq <= S`` are already in the snapshot and are skipped, so a crash
  between the snapshot rename and the journal reset replays nothing twice.
* ``catalogue.json.tmp`` a compaction that did not finish; removed on open.

``with storage.batch():`` turns several TinyDB operations into one journal line, so a
change and its audit event are saved together or not at all.

A torn last journal line (bytes after the last newline, e.g. a half-written line or the zeros
of a block allocated before a power loss) is what a crash leaves behind: it is ignored and cut
off. A complete line (ending in a newline) that is not a valid entry is corruption, never a torn
write. Anything unreadable, and any document the ``check`` callable refuses, raises
``StoreCorrupted`` naming the file (and line) and no file is touched. The directory is
``flock``-ed while open so two storages never append to the same journal.

Change detection: TinyDB's ``Table._update_table`` takes ``read()``, rebuilds the table
dict with the SAME document objects, mutates updated documents in place (top-level keys
only, including ``tinydb.operations``), adds new plain dicts and drops removed ids. The
documents handed out are ``_Doc`` dicts that mark themselves dirty when mutated, so a
write journals dirty documents, foreign (new) ones and vanished ids/tables. Callers
must NOT mutate nested values in place (``doc["tags"].append(...)``): that is invisible
here. Written documents are re-decoded from their JSON, so memory always equals disk
and holds no references to the caller's objects. Not thread-safe (neither is TinyDB).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import compress
from operator import is_not
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from store.errors import StoreCorrupted, WorkspaceLocked

log = logging.getLogger(__name__)

FORMAT = 1
_LINE_KEYS = frozenset({"seq", "drop", "del", "set"})


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class _Doc(dict):
    """A stored document that records itself as dirty in its storage when mutated."""

    __slots__ = ("_store", "_table", "_key", "_before")

    def __init__(self, data: dict, store: JournalStorage, table: str, key: str) -> None:
        dict.__init__(self, data)
        self._store, self._table, self._key, self._before = store, table, key, None

    def _touch(self) -> None:
        if self._before is None:  # first change since the last write: keep a rollback copy
            self._before = dict(self)
            self._store._dirty.append(self)

    def __setitem__(self, key, value):
        self._touch()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self._touch()
        dict.__delitem__(self, key)

    def update(self, *args, **kwargs):
        self._touch()
        dict.update(self, *args, **kwargs)

    def __ior__(self, other):
        self._touch()
        dict.update(self, other)
        return self

    def pop(self, *args):
        self._touch()
        return dict.pop(self, *args)

    def popitem(self):
        self._touch()
        return dict.popitem(self)

    def setdefault(self, key, default=None):
        self._touch()
        return dict.setdefault(self, key, default)

    def clear(self):
        self._touch()
        dict.clear(self)

    def __reduce__(self):  # copies and pickles are plain dicts, never tied to the storage
        return (dict, (dict(self),))

    def _reset(self, data: dict) -> None:
        dict.clear(self)
        dict.update(self, data)
        self._before = None


class JournalStorage(Storage):
    """TinyDB storage with in-memory data, an fsynced append-only journal and compaction.

    ``TinyDB(directory, storage=JournalStorage, compact_ratio=...)``. The journal is
    compacted into the snapshot when it exceeds ``compact_ratio`` x the snapshot size
    (and at least ``compact_min_bytes``), and on ``close()``. ``check(table, id, document)``
    returns why a loaded document is unusable (or None): the store then refuses to open, before
    any repair touches its files, instead of failing later on the first read of that document.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        name: str = "catalogue",
        compact_ratio: float = 1.0,
        compact_min_bytes: int = 1 << 20,
        check: Callable[[str, str, dict], str | None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.snapshot_path = self.directory / f"{name}.json"
        self.journal_path = self.directory / f"{name}.journal"
        self._tmp_path = self.directory / f"{name}.json.tmp"
        self._ratio, self._min_bytes = compact_ratio, compact_min_bytes
        self._check = check
        self._dirty: list[_Doc] = []
        self._failed: str | None = None
        self._journal_fd: int | None = None
        self._batch_depth = 0
        self._batch_base: dict | None = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._dir_fd: int | None = os.open(self.directory, os.O_RDONLY)
        try:
            try:
                fcntl.flock(self._dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceLocked(
                    f"{name} store in {self.directory} is already open (in this or another "
                    "process); close the other one first: only one may write it at a time"
                ) from None
            self._load()
        except BaseException:
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            os.close(self._dir_fd)
            self._dir_fd = None
            raise

    # -- TinyDB interface ---------------------------------------------------------------

    def read(self) -> dict[str, dict[str, dict]]:
        """The live tables. Only the top level is copied (TinyDB edits it before ``write``)."""
        self._check_open()
        return dict(self._tables)

    def write(self, data: dict[str, dict[str, dict]]) -> None:
        """Journal what differs from memory, fsync, then adopt ``data`` (takes ownership).

        If anything fails, memory is rolled back to the last durable state and the error
        is raised. A write that changes nothing appends nothing.
        """
        self._check_open()
        if self._batch_depth:  # journaled as one line when the batch ends
            self._tables = data
            return
        try:
            ops = self._diff(data)
            if not ops:
                self._rollback()  # no-op "mutations" (e.g. pop of a missing key)
                return
            ops = {"seq": self._seq + 1, **ops}
            line = _dumps(ops) + b"\n"
            decoded = json.loads(line)
        except BaseException:
            self._rollback()
            raise
        self._append(line)
        self._seq += 1
        self._adopt(data, decoded.get("set", {}))
        if self._journal_size > self._compact_after:
            self._compact_quietly()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside the block ONE journal line: all of them or none.

        Reads inside see the pending changes. An exception leaving the outermost block
        rolls memory back to before it (TinyDB's per-table query caches may still hold
        results from inside: clear them if you ``search`` after a failed batch).
        Batches nest; only the outermost one writes.
        """
        self._check_open()
        outermost = self._batch_depth == 0
        if outermost:
            self._batch_base = self._tables
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            if outermost:
                self._tables = self._batch_base
                self._rollback()
            raise
        finally:
            self._batch_depth -= 1
            if outermost:
                pending, self._tables, self._batch_base = self._tables, self._batch_base, None
        if outermost:
            self.write(pending)

    def close(self) -> None:
        """Compact (if the journal holds anything) and release the files and the lock."""
        if self._dir_fd is None:
            return
        try:
            if self._journal_size and self._failed is None:
                self.compact()
        finally:
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            os.close(self._dir_fd)  # releases the flock
            self._dir_fd = None

    # -- extras -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Number of the last durable change."""
        return self._seq

    def compact(self) -> None:
        """Write the whole state as the snapshot, then start an empty journal."""
        self._check_open()
        if self._batch_depth:
            raise RuntimeError("cannot compact or close the store inside a batch")
        payload = _dumps({"format": FORMAT, "seq": self._seq, "tables": self._tables})
        fd = os.open(self._tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self._tmp_path, self.snapshot_path)
        os.fsync(self._dir_fd)  # the directory entry, too
        self._snapshot_size = len(payload)
        # A crash from here on leaves journal lines with seq <= snapshot seq: skipped on load.
        os.ftruncate(self._journal_fd, 0)
        os.fsync(self._journal_fd)
        self._journal_size = 0
        self._compact_after = max(self._min_bytes, self._ratio * self._snapshot_size)

    # -- internals ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._dir_fd is None:
            raise RuntimeError(f"{self.name} store in {self.directory} is closed")

    def _diff(self, data: dict) -> dict:
        """The journal operations that turn memory into ``data``."""
        drop = [t for t in self._tables if t not in data]
        dels: dict[str, list[str]] = {}
        sets: dict[str, dict[str, Any]] = {}
        for table, new in data.items():
            old = self._tables.get(table)
            if new is old:
                continue
            if not isinstance(table, str) or not isinstance(new, dict):
                raise TypeError(f"table {table!r} must be a str mapping to a dict")
            if old is None:
                old, changed = {}, {}
                sets[table] = changed
            else:
                gone = old.keys() - new.keys()
                if old and len(gone) == len(old):  # truncated: drop + set, not 10,000 ids
                    drop.append(table)
                    old, changed = {}, {}
                    sets[table] = changed
                else:
                    if gone:
                        dels[table] = sorted(gone, key=_id_order)
                    changed = {}
            # Keys whose value is not our document at that key (new, replaced or moved),
            # found with C-level iterators: this scan runs on every write.
            for key in compress(new, map(is_not, map(old.get, new), new.values())):
                doc = new[key]
                if not isinstance(key, str) or not isinstance(doc, dict):
                    raise TypeError(f"document {key!r} in {table!r} must be a dict under a str id")
                changed[key] = doc
            if changed:
                sets[table] = changed
        for doc in self._dirty:  # mutated in place, still where it was
            where = data.get(doc._table)
            if where is not None and where.get(doc._key) is doc:
                sets.setdefault(doc._table, {})[doc._key] = doc
        ops: dict[str, Any] = {}
        if drop:
            ops["drop"] = drop
        if dels:
            ops["del"] = dels
        if sets:
            ops["set"] = sets
        return ops

    def _append(self, line: bytes) -> None:
        if self._failed:
            self._rollback()
            raise OSError(self._failed)
        try:
            _write_all(self._journal_fd, line)
            os.fsync(self._journal_fd)
        except BaseException as exc:
            self._rollback()
            try:  # cut the partial line so later lines are not glued to it
                os.ftruncate(self._journal_fd, self._journal_size)
            except OSError:
                pass
            # After a failed fsync the page cache can no longer be trusted (fsyncgate).
            self._failed = (
                f"writing the {self.name} journal {self.journal_path} failed ({exc!r}); "
                "the last change was not saved: fix the disk problem and reopen the store"
            )
            raise
        self._journal_size += len(line)

    def _adopt(self, data: dict, written: dict) -> None:
        tables = {}
        for table, new in data.items():
            fresh = written.get(table, {})
            for key, doc in fresh.items():
                current = new[key]
                if type(current) is _Doc and current._store is self and current._before is not None \
                        and current._table == table and current._key == key:
                    current._reset(doc)
                else:
                    new[key] = _Doc(doc, self, table, key)
            tables[table] = new
        for doc in self._dirty:  # removed or dropped while dirty: no longer tracked
            doc._before = None
        self._dirty = []
        self._tables = tables

    def _rollback(self) -> None:
        for doc in self._dirty:
            doc._reset(doc._before)
        self._dirty = []

    def _compact_quietly(self) -> None:
        """Compaction after a durable write: a failure must not look like a failed write."""
        try:
            self.compact()
        except OSError as exc:
            log.warning("compacting %s failed (%s); will retry later", self.journal_path, exc)
            self._compact_after = self._journal_size + max(self._min_bytes, self._ratio * self._snapshot_size)

    # -- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        seq, tables, self._snapshot_size = self._read_snapshot()
        raw = _read_bytes(self.journal_path)
        lines, good_len = self._parse_journal(raw)
        stale, prev = 0, None
        for number, entry in lines:
            current = entry["seq"]
            if prev is not None and current != prev + 1:
                self._corrupt_journal(number, f"change {current} follows change {prev}")
            prev = current
            if current <= seq:
                stale += 1
                continue
            if current != seq + 1:
                self._corrupt_journal(
                    number,
                    f"it continues at change {current} but the snapshot ends at change {seq}",
                    "changes are missing (was the snapshot replaced by an older copy?): "
                    "restore both files from the same backup",
                )
            _apply(tables, entry)
            seq = current
        if self._check is not None:
            self._check_documents(tables, lines[stale:])  # the stale lines come first (seqs follow on)
        self._seq = seq
        self._tables = {
            t: {k: _Doc(d, self, t, k) for k, d in docs.items()} for t, docs in tables.items()
        }
        # Valid: from here on the files may be repaired.
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        created = raw is None
        self._journal_fd = os.open(self.journal_path, flags, 0o644)
        if stale == len(lines) and good_len:  # only lines the snapshot already holds
            good_len = 0
        if raw is not None and good_len != len(raw):
            os.ftruncate(self._journal_fd, good_len)  # drop the torn tail (and stale lines)
            os.fsync(self._journal_fd)
        if created:
            os.fsync(self._dir_fd)  # the directory entry, too
        if self._tmp_path.exists():
            self._tmp_path.unlink()
        self._journal_size = good_len
        self._compact_after = max(self._min_bytes, self._ratio * self._snapshot_size)

    def _check_documents(self, tables: dict, applied: list[tuple[int, dict]]) -> None:
        """Refuse to open a store holding a document its owner cannot read, naming where it is: the
        last applied journal line that set it, else the snapshot."""
        for table, docs in tables.items():
            for key, doc in docs.items():
                reason = self._check(table, key, doc)
                if reason is None:
                    continue
                line = next((number for number, entry in reversed(applied)
                             if key in entry.get("set", {}).get(table, ())), None)
                where = self.snapshot_path if line is None else f"{self.journal_path} line {line}"
                self._corrupt(
                    f"{self.name} document {key} of table {table!r} in {where} is invalid: {reason}",
                    "restore the files from a backup, or correct that document by hand (copy both files first)",
                )

    def _read_snapshot(self) -> tuple[int, dict, int]:
        raw = _read_bytes(self.snapshot_path)
        if raw is None:
            return 0, {}, 0
        advice = (f"restore it from a backup, or move {self.snapshot_path.name} and "
                  f"{self.journal_path.name} away to start empty")
        try:
            snap = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self._corrupt(f"{self.name} snapshot {self.snapshot_path} is not valid JSON ({exc})", advice)
        if not (isinstance(snap, dict) and snap.get("format") == FORMAT
                and _is_seq(snap.get("seq")) and _valid_tables(snap.get("tables"))):
            self._corrupt(
                f"{self.name} snapshot {self.snapshot_path} does not have the expected structure "
                f'({{"format": {FORMAT}, "seq": n, "tables": {{table: {{id: document}}}}}})', advice)
        return snap["seq"], snap["tables"], len(raw)

    def _parse_journal(self, raw: bytes | None) -> tuple[list[tuple[int, dict]], int]:
        """Valid lines (number, entry) and the length of the journal without a torn tail."""
        if not raw:
            return [], 0
        parts = raw.split(b"\n")
        torn = parts.pop()  # b"" when the file ends with a newline
        good_len = len(raw) - len(torn)
        entries = []
        for index, part in enumerate(parts):
            # A line with its newline was written whole (one write() per line): if it does not
            # parse, the file was damaged afterwards. Only the unterminated tail can be a torn write.
            try:
                entry = json.loads(part)
            except (ValueError, RecursionError):
                self._corrupt_journal(index + 1, "invalid JSON on a complete line: not a torn write")
            if not _valid_line(entry):
                self._corrupt_journal(index + 1, "not a journal entry")
            entries.append((index + 1, entry))
        return entries, good_len

    def _corrupt_journal(self, number: int, reason: str, advice: str | None = None) -> None:
        self._corrupt(
            f"{self.name} journal {self.journal_path} is corrupted at line {number} ({reason})",
            advice or (f"restore it from a backup, or move {self.journal_path.name} away to fall "
                       "back to the last snapshot (losing the changes made since)"),
        )

    @staticmethod
    def _corrupt(what: str, advice: str) -> None:
        raise StoreCorrupted(f"{what}; the files were left untouched — {advice}")


def _apply(tables: dict, entry: dict) -> None:
    for table in entry.get("drop", ()):
        tables.pop(table, None)
    for table, ids in entry.get("del", {}).items():
        docs = tables.get(table)
        if docs is not None:
            for key in ids:
                docs.pop(key, None)
    for table, docs in entry.get("set", {}).items():
        tables.setdefault(table, {}).update(docs)


def _id_order(key: str):
    return (len(key), key)


def _is_seq(value: Any) -> bool:
    return type(value) is int and value >= 0


def _valid_tables(tables: Any) -> bool:
    return isinstance(tables, dict) and all(
        isinstance(docs, dict) and all(isinstance(d, dict) for d in docs.values())
        for docs in tables.values()
    )


def _valid_line(entry: Any) -> bool:
    if not (isinstance(entry, dict) and _is_seq(entry.get("seq")) and entry.keys() <= _LINE_KEYS):
        return False
    drop, dels = entry.get("drop", []), entry.get("del", {})
    return (
        isinstance(drop, list) and all(isinstance(t, str) for t in drop)
        and isinstance(dels, dict)
        and all(isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in dels.values())
        and _valid_tables(entry.get("set", {}))
    )


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
