"""The snapshot file of a JournalStorage: written in slices, opened without decoding its documents.

Format 2, one item per line so that neither writing nor opening holds the interpreter for long::

    {"format": 2, "seq": S, "checked": true}     header: the state as of change S
    {"table": "campaigns"}                        starts a table (also written when it is empty)
    "42"\t{...}                                   a document: its id as a JSON string, a tab, its JSON
    {"end": 3, "crc32": C}                        trailer: lines before it, CRC-32 of every byte before it

Opening splits the lines and keeps each document's JSON undecoded until it is read (``Table``), so
opening 100,000 campaigns costs a split and a CRC, not a parse. A matching CRC means the documents
are those the storage wrote, all of them read or checked before (``checked``): they are not checked
again. Anything else (a hand edit, a damaged byte, the single-object format 1 written before) is
decoded and checked document by document, so a bad document is still refused with its table and id.

Writing (``SnapshotWriter``) encodes one document per ``json.dumps`` call and hands undecoded
documents through as they are, so a background thread never holds the GIL for more than one document.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from pathlib import Path
from typing import Any

FORMAT = 2
SLICE_BYTES = 1 << 18
"""Bytes gathered before each ``os.write`` (which releases the GIL)."""


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class Unreadable(Exception):
    """A snapshot that is not in format 2, or not whole: the caller falls back or reports it."""


def parse(raw: bytes) -> tuple[int, bool, dict[str, dict[str, bytes]]]:
    """(seq, trusted, {table: {id: its undecoded line}}) of a format-2 snapshot; ``Unreadable`` otherwise.

    ``trusted``: the CRC matches and the writer checked its documents."""
    end = raw.rfind(b"\n", 0, len(raw) - 1)  # the newline before the trailer
    if not raw.endswith(b"\n") or end < 0:
        raise Unreadable("no trailer line")
    try:
        header = json.loads(raw[: raw.index(b"\n")])
        trailer = json.loads(raw[end + 1:])
    except ValueError as exc:
        raise Unreadable(f"header or trailer is not JSON ({exc})") from None
    if not (isinstance(header, dict) and header.get("format") == FORMAT and type(header.get("seq")) is int
            and header["seq"] >= 0 and isinstance(trailer, dict) and type(trailer.get("end")) is int):
        raise Unreadable("header or trailer does not have the expected structure")
    lines = raw.split(b"\n")
    del lines[-2:]  # the trailer, and nothing after the last newline
    # A hand edit (lines added or changed) is no reason to refuse: its documents are all checked.
    intact = len(lines) == trailer["end"] and trailer.get("crc32") == zlib.crc32(memoryview(raw)[: end + 1])
    heads = [number for number, line in enumerate(lines) if line[:1] == b"{"]  # the header, then tables
    if heads[:1] != [0] or (len(lines) > 1 and heads[1:2] != [1]):
        raise Unreadable("line 2 does not start a table")
    heads.append(len(lines))
    # Intact, exactly what the writer wrote: each id is the text between the quotes before the tab, worked
    # out for every line at once (a table's lines at a time cost 0.3 s over 100,000 audit tables); an
    # escaped id anywhere, or a table line's slice, is never used as such.
    keys = [line[1:line.find(b"\t") - 1] for line in lines] if intact else []
    plain = intact and not any(b"\\" in key for key in keys)
    ids = [key.decode() for key in keys] if plain else []
    tables: dict[str, dict[str, bytes]] = {}
    for head, following in zip(heads[1:], heads[2:]):
        name = _table_name(lines[head], head + 1)
        block = lines[head + 1: following]
        docs = tables.setdefault(name, {})
        if plain:
            docs.update(zip(ids[head + 1: following], block))
        elif intact:
            docs.update(zip(map(_fast_key, block), block))
        else:
            for number, line in enumerate(block, start=head + 2):
                docs[_key(line, number)] = line
    return header["seq"], intact and header.get("checked") is True, tables


def _table_name(line: bytes, number: int) -> str:
    """The name on a table line: read between the quotes when it has no escapes (100,000 audit tables at
    100,000 campaigns: a JSON decode each cost 0.4 s of every open)."""
    if line.startswith(b'{"table":"') and line.endswith(b'"}') and b"\\" not in line and line.count(b'"') == 4:
        return line[10:-2].decode()
    try:
        name = json.loads(line)["table"]
    except (ValueError, KeyError, TypeError):
        name = None
    if not isinstance(name, str):
        raise Unreadable(f"line {number} is neither a table nor a document")
    return name


def _fast_key(line: bytes) -> str:
    key = line[: line.index(b"\t")]
    return key[1:-1].decode() if b"\\" not in key else json.loads(key)


def _key(line: bytes, number: int) -> str:
    raw, tab, doc = line.partition(b"\t")
    if not tab or not doc.startswith(b"{") or not raw.startswith(b'"'):
        raise Unreadable(f"line {number} is neither a table nor a document")
    if b"\\" not in raw and raw.endswith(b'"') and len(raw) > 1:  # no escapes: the text between the quotes
        return raw[1:-1].decode()
    try:
        key = json.loads(raw)
    except ValueError:
        key = None
    if not isinstance(key, str):
        raise Unreadable(f"line {number}: a document id must be a JSON string")
    return key


class SnapshotWriter:
    """Writes the live tables to ``tmp_path`` as the snapshot of change ``seq``, one document at a time.

    The tables may change while it runs: a document changed after ``seq`` may be written old or new,
    and replaying the journal lines after ``seq`` (set, del, drop: each sets the final value) makes it
    right on open. A change that is rolled back instead of journaled cannot be replayed: the storage
    ``spoil``s a writer that may have seen it.
    """

    def __init__(self, tables: dict, seq: int, checked: bool, tmp_path: Path) -> None:
        self._tables, self.seq, self._checked, self.tmp_path = tables, seq, checked, tmp_path
        self.size = 0
        self.error: BaseException | None = None
        self.spoiled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"compact {self.tmp_path.name}", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def abandon(self) -> None:
        """Stop after the current document and remove the unfinished file."""
        self._stop.set()
        self.wait()
        self.tmp_path.unlink(missing_ok=True)

    def spoil(self) -> None:
        self.spoiled = True
        self._stop.set()

    def run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # reported by the storage, which keeps its journal
            self.error = exc
            self.tmp_path.unlink(missing_ok=True)

    def _write(self) -> None:
        fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            crc, lines, size = 0, 0, 0
            pending: list[bytes] = [dumps({"format": FORMAT, "seq": self.seq, "checked": self._checked}) + b"\n"]
            pending_bytes = len(pending[0])
            for name in list(self._tables):  # one C call: a consistent list of names
                docs = self._tables.get(name)
                if docs is None:  # dropped since: the journal drops it again
                    continue
                items = _items(docs)
                pending.append(dumps({"table": name}) + b"\n")
                for key, value in items:
                    if self._stop.is_set():
                        return
                    if type(value) is bytes:  # undecoded: its line, as read
                        line = value + b"\n"
                    else:
                        line = dumps(key) + b"\t" + dumps(value) + b"\n"
                    pending.append(line)
                    pending_bytes += len(line)
                    if pending_bytes >= SLICE_BYTES:
                        crc, lines, size = self._flush(fd, pending, crc, lines, size)
                        pending, pending_bytes = [], 0
            crc, lines, size = self._flush(fd, pending, crc, lines, size)
            trailer = dumps({"end": lines, "crc32": crc}) + b"\n"
            _write_all(fd, trailer)
            os.fsync(fd)
            self.size = size + len(trailer)
        finally:
            os.close(fd)

    @staticmethod
    def _flush(fd: int, pending: list[bytes], crc: int, lines: int, size: int) -> tuple[int, int, int]:
        chunk = b"".join(pending)
        _write_all(fd, chunk)
        return zlib.crc32(chunk, crc), lines + len(pending), size + len(chunk)


def _items(docs: dict) -> list:
    """The (id, value) pairs of a live table, values as stored (undecoded ones stay bytes)."""
    while True:
        try:
            return list(dict.items(docs))
        except RuntimeError:  # changed by the owner thread mid-copy (a rare GIL switch): again
            continue


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
