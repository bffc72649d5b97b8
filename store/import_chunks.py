"""Cut a profile file into chunks the CLI streams to the API, one request per chunk.

The file is read as bytes, line by line, so progress is exact and nothing but the current chunk is
in memory. A CSV chunk ends only at a line end outside any quoted field (the quote state is carried
from line to line), so a field holding a newline is never split; ``first_line`` is the file line of
the chunk's first record, for messages.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import ValidationFailed

Format = Literal["csv", "jsonl"]
EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
MAX_RECORD_LINES = 10_000
"""A CSV record spanning more lines than this is an unclosed quote, not data: refused before it eats the file."""


@dataclass(frozen=True)
class ImportChunk:
    format: Format
    header: list[str] | None
    text: str
    first_line: int
    bytes_done: int
    bytes_total: int


def iter_import_chunks(path: Path, lines_per_chunk: int = 20000) -> Iterator[ImportChunk]:
    """Chunks of about ``lines_per_chunk`` lines; a bad file raises ValidationFailed on the first ``next``."""
    path = Path(path)
    if lines_per_chunk < 1:
        raise ValidationFailed(f"lines_per_chunk must be at least 1, not {lines_per_chunk}")
    try:
        total = path.stat().st_size
        handle = path.open("rb")
    except OSError as error:
        raise ValidationFailed(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        first, line_number = _first_content_line(handle, path)
        fmt = detect_format(path, first)
        if fmt == "jsonl":
            yield from _chunks(handle, path, fmt, None, [first], line_number, lines_per_chunk, total)
            return
        header = _header(first, path, line_number)
        yield from _chunks(handle, path, fmt, header, [], line_number + 1, lines_per_chunk, total)


def detect_format(path: Path, first_line: bytes) -> Format:
    """By extension, else by content: ``{`` opens JSON lines; a comma-separated line with ``id`` is CSV."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is not None:
        return fmt
    text = first_line.lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"["):
        raise ValidationFailed(
            f"{path.name} holds a JSON array; write one JSON object per line instead (a .jsonl file)"
        )
    if b"," in text and "id" in _header(first_line, path, 1):
        return "csv"
    raise ValidationFailed(
        f"cannot tell the format of {path.name}: name it .csv (with a header line naming 'id') "
        "or .jsonl (one JSON object per line)"
    )


def _first_content_line(handle, path: Path) -> tuple[bytes, int]:
    number = 0
    for raw in handle:
        number += 1
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.strip():
            return raw, number
    raise ValidationFailed(f"{path.name} is empty: there is nothing to import")


def _header(raw: bytes, path: Path, line_number: int) -> list[str]:
    text = _decode(raw, path, line_number)
    return [name.strip() for name in next(csv.reader([text]), [])]


def _decode(data: bytes, path: Path, line_number: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        for offset, raw in enumerate(data.split(b"\n")):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                line_number += offset
                break
        raise ValidationFailed(
            f"{path.name} line {line_number} is not UTF-8 text; save the file as UTF-8 and import it again"
        ) from None


def still_quoted(line: bytes, quoted: bool) -> bool:
    """Whether a quoted field is open after this line, reading quotes as Python's csv module does.

    A quote opens a field only at its start (``a"b`` is a literal quote), and ``""`` inside a quoted
    field is an escaped quote; counting quotes alone would misread both.
    """
    at_start, i, end = not quoted, 0, len(line)
    while i < end:
        byte = line[i]
        if quoted:
            if byte == 0x22:
                if i + 1 < end and line[i + 1] == 0x22:
                    i += 1
                else:
                    quoted = False
        elif byte == 0x22 and at_start:
            quoted = True
        else:
            at_start = byte == 0x2C
        i += 1
    return quoted


def _chunks(
    handle, path: Path, fmt: Format, header: list[str] | None, first: list[bytes],
    first_line: int, lines_per_chunk: int, total: int,
) -> Iterator[ImportChunk]:
    """Group lines; a CSV chunk may grow past the limit only to finish an open quoted field."""
    pending: list[bytes] = []
    quoted, opened_at = False, 0
    line_number = first_line
    for raw in itertools.chain(first, handle):
        pending.append(raw)
        line_number += 1
        if fmt == "csv" and b'"' in raw:
            was_quoted, quoted = quoted, still_quoted(raw, quoted)
            if quoted and not was_quoted:
                opened_at = line_number - 1
        if quoted and line_number - opened_at > MAX_RECORD_LINES:
            raise ValidationFailed(
                f"{path.name} line {opened_at}: a quoted field is still open {MAX_RECORD_LINES} lines later; "
                'close it with " (a quote inside a field is written "")'
            )
        if len(pending) >= lines_per_chunk and not quoted:
            text = _decode(b"".join(pending), path, first_line)
            if text.strip():
                yield ImportChunk(fmt, header, text, first_line, handle.tell(), total)
            pending, first_line = [], line_number
    if pending:
        text = _decode(b"".join(pending), path, first_line)
        if text.strip():
            yield ImportChunk(fmt, header, text, first_line, handle.tell(), total)
