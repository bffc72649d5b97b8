"""The outbox provider: one JSON line per message in ``outbox/<channel>.jsonl`` in the data directory.

Lines are appended a batch at a time (one write, flush and fsync) before the batch is marked
done in the ledger, so after a crash the file says exactly which messages of a claimed batch
already left: a resume scans from the offset saved with the claim and skips them.

Several sending processes append to one file. A sender killed in the middle of a write leaves a
torn line; the next writer (under the file's ``flock``) starts its lines on a new line, so the
fragment is a line of its own that readers skip: a kill never corrupts another sender's line.
The engine also cuts a torn last line when it starts.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ..models import Channel

DIRECTORY = "outbox"


class Outbox:
    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / DIRECTORY
        self._locks = {channel: threading.Lock() for channel in Channel}

    def path(self, channel: Channel) -> Path:
        return self.directory / f"{channel.value}.jsonl"

    def repair(self) -> None:
        """Cut a torn last line left by a kill mid-write; whole lines are never touched."""
        for channel in Channel:
            path = self.path(channel)
            if not path.exists() or path.stat().st_size == 0:
                continue
            with self._locks[channel], open(path, "rb+") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # never while another process appends
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - 65536))
                tail = f.read()
                if tail.endswith(b"\n"):
                    continue
                cut = tail.rfind(b"\n")
                keep = size - len(tail) + cut + 1 if cut >= 0 else self._last_newline(f, size - len(tail))
                f.truncate(keep)
                os.fsync(f.fileno())

    @staticmethod
    def _last_newline(f, before: int) -> int:
        """The end of the last complete line before ``before`` (a torn line longer than 64 KiB)."""
        position = before
        while position > 0:
            start = max(0, position - 65536)
            f.seek(start)
            chunk = f.read(position - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                return start + cut + 1
            position = start
        return 0

    def offset(self, channel: Channel) -> int:
        path = self.path(channel)
        return path.stat().st_size if path.exists() else 0

    def append(self, channel: Channel, lines: list[bytes]) -> None:
        """Write whole lines, flush and fsync: when this returns they survive a crash.

        Under the file's ``flock`` (other sending processes append too), starting on a fresh line when
        a killed writer left a torn one."""
        if not lines:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locks[channel]:
            fd = os.open(self.path(channel), os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                data = b"".join(lines if not torn else [b"\n", *lines])
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)

    def sent_in(self, channel: Channel, run_id: str, offset: int | None) -> set[str]:
        """Profile ids of ``run_id`` written at or after ``offset``: the part of a claimed batch that left."""
        found: set[str] = set()
        path = self.path(channel)
        if not path.exists():
            return found
        for message in self._run_lines(path, run_id, offset):
            found.add(message["profileId"])
        return found

    def sent_times(self, channel: Channel, run_id: str, offset: int | None) -> list[str]:
        """When ``run_id``'s messages written at or after ``offset`` were sent (ISO times): a resumed
        throttled run counts them against its rate window."""
        path = self.path(channel)
        return [m["sentAt"] for m in self._run_lines(path, run_id, offset)] if path.exists() else []

    @staticmethod
    def _run_lines(path: Path, run_id: str, offset: int | None):
        marker = f'"runId":"{run_id}"'.encode()
        with open(path, "rb") as f:
            f.seek(offset or 0)
            for line in f:
                if marker in line and line.endswith(b"\n"):
                    message = _message(line)
                    if message is not None:
                        yield message

    def read(self, positions: dict[Channel, int], *, channel: Channel | None = None, campaign_id: str | None = None,
             limit: int = 1000) -> tuple[list[dict], dict[Channel, int]]:
        """Messages after ``positions`` (byte offsets per channel file), and the positions to ask from next.

        Only whole lines are read, so a line being written is picked up complete on the next call;
        polling with the returned positions follows the outbox like ``tail -f``.
        """
        positions = dict(positions)
        found: list[dict] = []
        for c in [channel] if channel else list(Channel):
            path = self.path(c)
            if not path.exists():
                continue
            with open(path, "rb") as f:
                f.seek(positions.get(c, 0))
                for line in f:
                    if not line.endswith(b"\n") or len(found) >= limit:
                        break
                    positions[c] = positions.get(c, 0) + len(line)
                    message = _message(line)
                    if message is not None and (campaign_id is None or message["campaignId"] == campaign_id):
                        found.append(message)
        return found, positions

    def newest(self, *, limit: int, channel: Channel | None = None, campaign_id: str | None = None,
               since: datetime | None = None) -> tuple[list[dict], int, dict[Channel, int]]:
        """The newest ``limit`` messages (oldest of them first), how many match in all, and the positions at
        the end of the files (to follow from): what an operator asks of a log, read from its end.

        Only whole lines count; the campaign is matched on the bytes its writer puts in every line, so only
        the lines kept and those checked against ``since`` are parsed.
        """
        kept: list[tuple[str, dict]] = []
        total = 0
        positions: dict[Channel, int] = {}
        marker = f'"campaignId":{_string(campaign_id)}'.encode() if campaign_id is not None else None
        for c in [channel] if channel else list(Channel):
            path = self.path(c)
            positions[c] = 0
            if not path.exists():
                continue
            newest_here: list[tuple[str, dict]] = []  # a channel's newest are enough for the newest of all
            with open(path, "rb") as f:
                for end, line in _lines_backwards(f):
                    positions[c] = max(positions[c], end)
                    if marker is not None and marker not in line:
                        continue
                    if since is None and len(newest_here) >= limit:
                        total += 1  # counted, not parsed
                        continue
                    message = _message(line)
                    if message is None or (since is not None and _sent_at(message) < since):
                        continue
                    total += 1
                    if len(newest_here) < limit:
                        newest_here.append((str(message.get("sentAt", "")), message))
            kept += reversed(newest_here)  # oldest first, so a batch's equal times keep their order
        kept.sort(key=lambda pair: pair[0])
        return [m for _, m in kept[-limit:]], total, positions


_CHUNK = 1 << 20


def _lines_backwards(f):
    """``(end offset, line)`` for each whole line of a file, the last first; a torn last line is left out."""
    position = f.seek(0, os.SEEK_END)
    pending = b""  # the bytes from ``position`` to ``end``: the start of a line cut by the chunk, with its newline
    end = -1  # just past the last newline read; -1 until one is found
    while position > 0:
        start = max(0, position - _CHUNK)
        f.seek(start)
        data = f.read(position - start)
        position = start
        if end < 0:
            cut = data.rfind(b"\n")
            if cut < 0:
                continue
            end, data = start + cut + 1, data[:cut + 1]
        parts = (data + pending).split(b"\n")
        whole = parts[1:-1] if start > 0 else parts[:-1]
        for line in reversed(whole):
            yield end, line + b"\n"
            end -= len(line) + 1
        pending = parts[0] + b"\n" if start > 0 else b""


def _sent_at(message: dict) -> datetime:
    try:
        return datetime.fromisoformat(message["sentAt"])
    except (KeyError, TypeError, ValueError):
        return datetime.min.replace(tzinfo=timezone.utc)


def _message(line: bytes) -> dict | None:
    """A whole line's message, or None for the fragment a killed sender left (readers resync after it)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


_string = json.encoder.encode_basestring  # the C encoder when there is one


class OutboxLines:
    """Compact JSON lines of one run, from a format made once per run: the run's constant fields are
    encoded once and per message only its own strings are (``json.dumps`` a million times costs more
    than all the rest of the line).

    ``"runId":"..."`` is written exactly so, so recovery can find a run's lines without parsing them.
    """

    def __init__(self, campaign_id: str, run_id: str, channel: Channel, fields: Sequence[str]) -> None:
        def constant(text: str) -> str:
            return _string(text).replace("%", "%%")

        content = ",".join(f"{constant(name)}:%s" for name in fields)
        self._format = ('{"messageKey":%s,"campaignId":' + constant(campaign_id) + ',"runId":' + constant(run_id)
                        + ',"profileId":%s,"channel":' + constant(channel.value) + ',"to":%s,"sentAt":%s,"content":{'
                        + content + "}}\n")
        self._sent_at: tuple[str, str] = ("", '""')

    def line(self, message_key: str, profile_id: str, to: str, sent_at: str, content: dict[str, str]) -> bytes:
        """``content`` holds the run's fields, in order (as the compiled content renders them)."""
        stamp = self._sent_at
        if sent_at is not stamp[0]:  # one timestamp per batch when unthrottled: encode it once
            stamp = self._sent_at = (sent_at, _string(sent_at))
        return (self._format % (_string(message_key), _string(profile_id), _string(to), stamp[1],
                                *map(_string, content.values()))).encode()
