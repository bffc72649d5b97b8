"""A crash-safe TinyDB storage: data in memory, changes appended to an fsynced journal.

Stock ``JSONStorage`` re-reads and rewrites the whole file on every operation, in place,
so one update costs ~100 ms at 10,000 documents and a crash mid-write can destroy the
store. ``JournalStorage`` keeps every table in memory and makes each change durable by
appending ONE line (only the documents that changed) to a journal and fsyncing it.

Files in the directory (``name`` defaults to ``catalogue``):

* ``catalogue.json``    snapshot: the full state as of change S (format in ``snapshot.py``).
  Only ever replaced whole (temp file, fsync, rename, dir fsync).
* ``catalogue.journal`` one JSON line per change: ``{"seq": n, "drop": [table, ...],
  "del": {table: [id, ...]}, "set": {table: {id: document}}}`` applied in that order.
  Lines with ``seq <= S`` are already in the snapshot and are skipped, so a crash
  between the snapshot rename and the journal rewrite replays nothing twice.
* ``catalogue.json.tmp``, ``catalogue.journal.tmp``: a compaction that did not finish; removed on open.

How changes reach the journal: ``JournalTable`` (``table.py``) edits the live tables through
``put``/``delete``/``replace_table`` and ``_Doc`` documents record their own in-place edits; each
edit is logged for undo, and ``commit`` journals the documents the log names as one line (a
table replaced or dropped is journaled whole). ``write(data)``, TinyDB's own interface (used by
``drop_table``), is supported too: tables whose dict is not the live one are journaled whole.
``with storage.batch():`` makes several operations one line, so a change and its audit event
are saved together or not at all; an exception rolls memory back to before the batch.

Compaction runs when the journal passes its size limit, in a background thread that writes the
snapshot one document per ``json.dumps``, and is installed by the owner at its next write or close
(the journal lines written meanwhile are kept). ``close`` never compacts.

A torn last journal line (bytes after the last newline, e.g. a half-written line or the zeros
of a block allocated before a power loss) is what a crash leaves behind: it is ignored and cut
off. A complete line (ending in a newline) that is not a valid entry is corruption, never a torn
write. Anything unreadable, and any document the ``check`` callable refuses, raises
``StoreCorrupted`` naming the file (and line) and no file is touched. The directory is
``flock``-ed while open so two storages never append to the same journal.

Callers must NOT mutate nested values of stored documents in place (``doc["tags"].append(...)``):
that is invisible here. Written documents are re-decoded from their JSON, so memory always equals
disk and holds no references to the caller's objects. Not thread-safe (neither is TinyDB).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from tinydb.storages import Storage

from store.collector import collector_paused
from store.errors import StoreCorrupted, WorkspaceLocked

from . import snapshot
from .snapshot import SnapshotWriter, _write_all, dumps

log = logging.getLogger(__name__)

_LINE_KEYS = frozenset({"seq", "drop", "del", "set"})
_MISSING: Any = object()
_DOC, _KEY, _TABLE = range(3)  # undo log entries: (_DOC, doc, before) (_KEY, table, key, old) (_TABLE, table, old)


class _Doc(dict):
    """A stored document that logs its first in-place edit of each operation for undo and journaling."""

    __slots__ = ("_store", "_table", "_key", "_epoch")

    def __init__(self, data: dict, store: JournalStorage, table: str, key: str) -> None:
        dict.__init__(self, data)
        self._store, self._table, self._key, self._epoch = store, table, key, -1

    def _touch(self) -> None:
        store = self._store
        if self._epoch != store._epoch:
            self._epoch = store._epoch
            store._undo.append((_DOC, self, dict(self)))

    def __setitem__(self, key, value):
        self._touch()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self._touch()
        dict.__delitem__(self, key)

    def update(self, *args, **kwargs):
        self._touch()
        dict.update(self, *args, **kwargs)

    # PEP 584: ``|=`` takes whatever ``update`` takes, ``|`` only dicts; mypy wants the two alike even
    # though its own stub of dict differs the same way (python/mypy#11941, python/typeshed#6927).
    def __ior__(self, other: Any) -> Self:  # type: ignore[misc]
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


class _Table(dict):
    """A live table: documents read from the snapshot stay undecoded (their snapshot line, bytes) until read."""

    __slots__ = ("_store", "_name", "_raw")

    def __init__(self, store: JournalStorage, name: str, docs: dict | None = None, raw: int = 0) -> None:
        dict.__init__(self, docs or ())
        self._store, self._name, self._raw = store, name, raw

    def _decode(self, key: str, value: bytes) -> _Doc:
        try:
            doc = json.loads(value[value.index(b"\t") + 1:])
        except (ValueError, RecursionError) as exc:  # the snapshot's CRC matched: damaged in memory?
            raise StoreCorrupted(f"{self._store.name} document {key} of table {self._name!r} "
                                 f"cannot be decoded ({exc})") from None
        decoded = _Doc(doc, self._store, self._name, key)
        dict.__setitem__(self, key, decoded)
        self._raw -= 1
        return decoded

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        return self._decode(key, value) if type(value) is bytes else value

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        if value is _MISSING:
            return default
        return self._decode(key, value) if type(value) is bytes else value

    def decode_all(self) -> None:
        if self._raw:
            for key, value in list(dict.items(self)):
                if type(value) is bytes:
                    self._decode(key, value)

    def items(self):
        self.decode_all()
        return dict.items(self)

    def values(self):
        self.decode_all()
        return dict.values(self)


class JournalStorage(Storage):
    """TinyDB storage with in-memory data, an fsynced append-only journal and compaction.

    ``JournalDB(directory, compact_ratio=...)`` (``table.py``). The journal is compacted into the
    snapshot when it exceeds ``compact_ratio`` x the snapshot size, at least ``compact_min_bytes``
    and at most ``compact_max_bytes`` (the journal is replayed and checked on open: it must stay
    small). ``check(table, id, document)`` returns why a loaded document is unusable (or None): the
    store then refuses to open, before any repair touches its files, instead of failing later on
    the first read of that document. Documents of an intact snapshot that was written by a checking
    storage are not checked again.
    """

    _journal_size: int  # bytes of the journal file, set by ``_load``; each line is appended after them
    _tables: dict[str, _Table]  # the live tables, set by ``_load``; dropped on close

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        name: str = "catalogue",
        compact_ratio: float = 1.0,
        compact_min_bytes: int = 1 << 20,
        compact_max_bytes: int = 8 << 20,
        check: Callable[[str, str, dict], str | None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.snapshot_path = self.directory / f"{name}.json"
        self.journal_path = self.directory / f"{name}.journal"
        self._tmp_path = self.directory / f"{name}.json.tmp"
        self._journal_tmp_path = self.directory / f"{name}.journal.tmp"
        self._ratio, self._min_bytes, self._max_bytes = compact_ratio, compact_min_bytes, compact_max_bytes
        self._check = check
        self._undo: list[tuple] = []
        self._epoch = 0
        self._caches: weakref.WeakSet = weakref.WeakSet()
        self._failed: str | None = None
        self._journal_fd: int | None = None
        self._batch_depth = 0
        self._writer: SnapshotWriter | None = None
        self._upgrading = False  # rewriting a snapshot that had to be checked whole (see _load)
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
            with collector_paused():  # 300,000 containers with no cycles: nothing for it to find
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
        """Make memory equal ``data`` (taking ownership of its tables) and journal it.

        Tables missing from ``data`` are dropped; a table dict that is not the live one replaces
        it whole. If anything fails, memory is rolled back to the last durable state and the error
        is raised. A write that changes nothing appends nothing.
        """
        self._check_open()
        mark = self.savepoint()
        try:
            for table in [t for t in self._tables if t not in data]:
                self._set_table(table, _MISSING)
            for table, docs in data.items():
                if docs is not self._tables.get(table):
                    if not isinstance(table, str) or not isinstance(docs, dict):
                        raise TypeError(f"table {table!r} must be a str mapping to a dict")
                    fresh = self._set_table(table, _Table(self, table))
                    for key, doc in docs.items():
                        fresh[key] = _stored(table, key, doc)
        except BaseException:
            self.undo_to(mark)
            raise
        self.commit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside the block ONE journal line: all of them or none.

        Reads inside see the pending changes. An exception leaving the outermost block rolls
        memory back to before it (and clears the query caches of the ``JournalTable``s).
        Batches nest; only the outermost one writes.
        """
        self._check_open()
        if self._batch_depth == 0 and self._undo:
            self.commit()  # edits made outside any operation are not this batch's to roll back
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            if self._batch_depth == 1:
                self.undo_to(0)
            raise
        finally:
            self._batch_depth -= 1
        if self._batch_depth == 0:
            self.commit()

    def close(self) -> None:
        """Release the files and the lock. The journal stays, replayed on the next open.

        A finished background compaction is installed; one still running is abandoned, unless
        the journal has grown past twice its limit (then it is awaited, so that the journal of
        short-lived processes cannot grow for ever).
        """
        if self._dir_fd is None:
            return
        try:
            writer = self._writer
            if writer is not None and self._failed is None:
                if not writer.done and (self._upgrading or self._journal_size > 2 * self._compact_after):
                    writer.wait()
                if writer.done:
                    self._install()
            if self._writer is not None:
                self._writer.abandon()
                self._writer = None
        finally:
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None
            os.close(self._dir_fd)  # releases the flock
            self._dir_fd = None
            self._tables = {}  # each document points back here: dropping them now frees them without a collection

    # -- edits (JournalTable's write path) ------------------------------------------------

    def table(self, name: str) -> _Table | None:
        """The live table, or None; read it, never edit it directly."""
        self._check_open()  # a closed store holds nothing: say so rather than answer empty
        return self._tables.get(name)

    def held(self, name: str) -> Iterator[tuple[str, dict | bytes]]:
        """Each document of a table as it is held: decoded, or still the JSON text it was read as (bytes), so
        a reader that needs a few fields of every document need not build the whole of each."""
        table = self.table(name)
        for key, value in dict.items(table or {}):
            yield key, value[value.index(b"\t") + 1:] if type(value) is bytes else value

    def watch_cache(self, table: Any) -> None:
        """``table.clear_cache()`` is called whenever memory is rolled back."""
        self._caches.add(table)

    def savepoint(self) -> int:
        """Start an operation: edits from here can be undone with ``undo_to(mark)``."""
        self._check_open()
        self._epoch += 1
        return len(self._undo)

    def put(self, table: str, key: str, doc: Any) -> None:
        docs = self._tables.get(table)
        if docs is None:
            docs = self._set_table(table, _Table(self, table))
        self._undo.append((_KEY, docs, key, dict.get(docs, key, _MISSING)))
        dict.__setitem__(docs, key, _stored(table, key, doc))

    def delete(self, table: str, key: str) -> None:
        docs = self._tables.get(table)
        if docs is None or key not in docs:
            raise KeyError(key)
        self._undo.append((_KEY, docs, key, dict.pop(docs, key)))

    def replace_table(self, table: str) -> None:
        """Empty ``table`` (journaled as a drop followed by whatever is put in it)."""
        self._set_table(table, _Table(self, table))

    def undo_to(self, mark: int) -> None:
        """Restore memory as it was at ``mark`` (0: the last durable state)."""
        undo = self._undo
        while len(undo) > mark:
            entry = undo.pop()
            if entry[0] == _DOC:
                dict.clear(entry[1])
                dict.update(entry[1], entry[2])
            elif entry[0] == _KEY:
                _, docs, key, old = entry
                if old is _MISSING:
                    dict.pop(docs, key, None)
                else:
                    dict.__setitem__(docs, key, old)
            else:
                _, table, old = entry
                if old is _MISSING:
                    self._tables.pop(table, None)
                else:
                    self._tables[table] = old
        self._epoch += 1
        if self._writer is not None:
            self._writer.spoil()  # it may have copied what never reaches the journal
        for table in list(self._caches):
            table.clear_cache()

    def commit(self) -> None:
        """Journal the logged edits as one line and fsync it (inside a batch: at its end)."""
        if self._batch_depth:
            return
        self._epoch += 1
        if not self._undo:
            return
        try:
            ops = self._ops()
            if not ops:  # no-op "mutations" (e.g. pop of a missing key)
                self._undo = []
                return
            line = dumps({"seq": self._seq + 1, **ops}) + b"\n"
            decoded = json.loads(line)
        except BaseException:
            self.undo_to(0)
            raise
        self._append(line)
        self._seq += 1
        self._undo = []
        for table, docs in decoded.get("set", {}).items():  # memory = disk, no caller references
            live = self._tables[table]
            for key, doc in docs.items():
                dict.__setitem__(live, key, _Doc(doc, self, table, key))
        self._after_commit()

    # -- extras -------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Number of the last durable change."""
        return self._seq

    def compact(self) -> None:
        """Write the whole state as the snapshot now (waiting for one under way), keep the journal tail."""
        self._check_open()
        if self._batch_depth:
            raise RuntimeError("cannot compact the store inside a batch")
        if self._writer is not None:
            self._writer.wait()
            self._install()
        self._start_writer().run()
        self._install()

    # -- internals ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._dir_fd is None:
            raise RuntimeError(f"{self.name} store in {self.directory} is closed")

    def _fds(self) -> tuple[int, int]:
        """The journal's and the directory's descriptors, refusing a closed store."""
        if self._journal_fd is None or self._dir_fd is None:
            raise RuntimeError(f"{self.name} store in {self.directory} is closed")
        return self._journal_fd, self._dir_fd

    def _set_table(self, table: str, docs: Any) -> Any:
        self._undo.append((_TABLE, table, self._tables.get(table, _MISSING)))
        if docs is _MISSING:
            del self._tables[table]
        else:
            self._tables[table] = docs
        return docs

    def _ops(self) -> dict:
        """The journal operations for the logged edits: final values of what they touched."""
        whole: dict[str, bool] = {}  # replaced or dropped table -> existed before
        keys: dict[tuple[str, str], None] = {}
        for entry in self._undo:
            if entry[0] == _TABLE:
                whole.setdefault(entry[1], entry[2] is not _MISSING)
            elif entry[0] == _KEY:
                keys[(entry[1]._name, entry[2])] = None
            else:
                keys[(entry[1]._table, entry[1]._key)] = None
        drop = [t for t, existed in whole.items() if existed]
        dels: dict[str, list[str]] = {}
        sets: dict[str, dict[str, Any]] = {
            t: dict(self._tables[t].items()) for t in whole if t in self._tables}
        for table, key in keys:
            if table in whole:
                continue
            value = self._tables[table].get(key, _MISSING) if table in self._tables else _MISSING
            if value is _MISSING:
                dels.setdefault(table, []).append(key)
            else:
                sets.setdefault(table, {})[key] = value
        ops: dict[str, Any] = {}
        if drop:
            ops["drop"] = drop
        if dels:
            ops["del"] = {t: sorted(ids, key=_id_order) for t, ids in dels.items()}
        if sets:
            ops["set"] = sets
        return ops

    def _append(self, line: bytes) -> None:
        if self._failed:
            self.undo_to(0)
            raise OSError(self._failed)
        journal_fd, _ = self._fds()
        try:
            _write_all(journal_fd, line)
            os.fsync(journal_fd)
        except BaseException as exc:
            self.undo_to(0)
            try:  # cut the partial line so later lines are not glued to it
                os.ftruncate(journal_fd, self._journal_size)
            except OSError:
                pass
            # After a failed fsync the page cache can no longer be trusted (fsyncgate).
            self._failed = (
                f"writing the {self.name} journal {self.journal_path} failed ({exc!r}); "
                "the last change was not saved: fix the disk problem and reopen the store"
            )
            raise
        self._journal_size += len(line)

    def _after_commit(self) -> None:
        """Install a finished compaction, or start one when the journal has passed its limit."""
        writer = self._writer
        if writer is not None:
            if writer.done:
                self._install()
            return
        if self._journal_size > self._compact_after:
            self._start_writer().start()

    def _start_writer(self) -> SnapshotWriter:
        self._writer = SnapshotWriter(self._tables, self._seq, self._check is not None, self._tmp_path)
        self._journal_mark = self._journal_size  # every line after it is after the snapshot's seq
        return self._writer

    def _install(self) -> None:
        """Put a finished snapshot in place and keep only the journal lines after it.

        A failure (or a spoiled snapshot) is logged, not raised: the change that triggered it is
        durable already, and the journal still holds everything."""
        writer, self._writer, self._upgrading = self._writer, None, False
        if writer is None:
            return
        journal_fd, dir_fd = self._fds()
        try:
            if writer.error is not None:
                raise writer.error
            if writer.spoiled:
                writer.tmp_path.unlink(missing_ok=True)
                return
            os.replace(writer.tmp_path, self.snapshot_path)
            os.fsync(dir_fd)  # the directory entry, too
            self._snapshot_size = writer.size
            # A crash from here on leaves journal lines with seq <= snapshot seq: skipped on load.
            tail = os.pread(journal_fd, self._journal_size - self._journal_mark, self._journal_mark)
            fd = os.open(self._journal_tmp_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                         0o600)
            try:
                _write_all(fd, tail)
                os.fsync(fd)
            except BaseException:
                os.close(fd)
                raise
            os.replace(self._journal_tmp_path, self.journal_path)
            os.fsync(dir_fd)
            os.close(journal_fd)
            self._journal_fd = fd
            self._journal_size = len(tail)
        except (OSError, ValueError) as exc:
            log.warning("compacting %s failed (%s); will retry later", self.journal_path, exc)
            self._compact_after = self._journal_size + self._limit()
            return
        self._compact_after = self._limit()

    def _limit(self) -> float:
        return min(self._max_bytes, max(self._min_bytes, self._ratio * self._snapshot_size))

    # -- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        seq, tables, untrusted, self._snapshot_size = self._read_snapshot()
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
            self._apply(tables, entry)
            seq = current
        self._tables = tables
        if self._check is not None:
            self._check_documents(self._check, untrusted, lines[stale:])  # the stale lines come first (seqs follow on)
        self._seq = seq
        # Valid: from here on the files may be repaired.
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        created = raw is None
        self._journal_fd = os.open(self.journal_path, flags, 0o600)
        if stale == len(lines) and good_len:  # only lines the snapshot already holds
            good_len = 0
        if raw is not None and good_len != len(raw):
            os.ftruncate(self._journal_fd, good_len)  # drop the torn tail (and stale lines)
            os.fsync(self._journal_fd)
        if created:
            os.fsync(self._fds()[1])  # the directory entry, too
        for leftover in (self._tmp_path, self._journal_tmp_path):
            leftover.unlink(missing_ok=True)
        self._journal_size = good_len
        self._compact_after = self._limit()
        if untrusted and self._check is not None:
            # A snapshot from before format 2 (or edited by hand) had every document checked: write it back
            # as a checked one, once, so that later opens check only the journal's tail (3.5 s → 0.5 s at
            # 100,000 campaigns). The first close waits for it.
            self._upgrading = True
            self._start_writer().start()

    def _apply(self, tables: dict[str, _Table], entry: dict) -> None:
        """Replay one journal line."""
        for table in entry.get("drop", ()):
            tables.pop(table, None)
        for table, ids in entry.get("del", {}).items():
            docs = tables.get(table)
            if docs is not None:
                for key in ids:
                    docs._raw -= type(dict.pop(docs, key, None)) is bytes
        for table, docs in entry.get("set", {}).items():
            live = tables.get(table)
            if live is None:
                live = tables[table] = _Table(self, table)
            for key, doc in docs.items():
                live._raw -= type(dict.get(live, key)) is bytes
                dict.__setitem__(live, key, _Doc(doc, self, table, key))

    def _check_documents(self, check: Callable[[str, str, dict], str | None], untrusted: set[str],
                         applied: list[tuple[int, dict]]) -> None:
        """Refuse to open a store holding a document its owner cannot read, naming where it is: the
        last applied journal line that set it, else the snapshot. Checked: the documents the journal
        set, and every document of the ``untrusted`` tables of the snapshot."""
        keys = dict.fromkeys((t, k) for t in untrusted or () if t in self._tables for k in self._tables[t])
        keys.update(dict.fromkeys(
            (t, k) for _, entry in applied for t, docs in entry.get("set", {}).items() for k in docs))
        for table, key in keys:
            docs = self._tables.get(table)
            if docs is None or key not in docs:
                continue
            value = dict.__getitem__(docs, key)
            reason: str | None
            try:
                doc = docs[key]
            except StoreCorrupted:
                reason = f"not valid JSON ({value[:60]!r}...)"
            else:
                reason = check(table, key, doc)
            if reason is None:
                continue
            line = next((number for number, entry in reversed(applied)
                         if key in entry.get("set", {}).get(table, ())), None)
            where = self.snapshot_path if line is None else f"{self.journal_path} line {line}"
            self._corrupt(
                f"{self.name} document {key} of table {table!r} in {where} is invalid: {reason}",
                "restore the files from a backup, or correct that document by hand (copy both files first)",
            )

    def _read_snapshot(self) -> tuple[int, dict, set[str], int]:
        """(seq, live tables, names of the tables whose documents must be checked, size)."""
        raw = _read_bytes(self.snapshot_path)
        if raw is None:
            return 0, {}, set(), 0
        try:
            seq, trusted, tables = snapshot.parse(raw)
        except snapshot.Unreadable as why:
            if raw.startswith(b'{"format":2') or raw.startswith(b'{"format": 2'):
                self._corrupt(f"{self.name} snapshot {self.snapshot_path} is not whole or not valid ({why})",
                              self._snapshot_advice())
            seq, decoded = self._read_format_1(raw)
            live = {t: _Table(self, t, {k: _Doc(d, self, t, k) for k, d in docs.items()})
                    for t, docs in decoded.items()}
            return seq, live, set(live), len(raw)
        live = {t: _Table(self, t, docs, raw=len(docs)) for t, docs in tables.items()}
        return seq, live, set() if trusted else set(live), len(raw)

    def _read_format_1(self, raw: bytes) -> tuple[int, dict]:
        """The single JSON object written before format 2 (its documents are all checked)."""
        try:
            snap = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self._corrupt(f"{self.name} snapshot {self.snapshot_path} is not valid JSON ({exc})",
                          self._snapshot_advice())
        if not (isinstance(snap, dict) and snap.get("format") == 1
                and _is_seq(snap.get("seq")) and _valid_tables(snap.get("tables"))):
            self._corrupt(
                f"{self.name} snapshot {self.snapshot_path} does not have the expected structure "
                f'({{"format": 1, "seq": n, "tables": {{table: {{id: document}}}}}})', self._snapshot_advice())
        return snap["seq"], snap["tables"]

    def _snapshot_advice(self) -> str:
        return (f"restore it from a backup, or move {self.snapshot_path.name} and "
                f"{self.journal_path.name} away to start empty")

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


def _stored(table: str, key: Any, doc: Any) -> Any:
    if not isinstance(key, str) or not isinstance(doc, dict):
        raise TypeError(f"document {key!r} in {table!r} must be a dict under a str id")
    return doc


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
