"""A profile id repeated within one import file: the later record is rejected, naming the line of the first.

Chunks travel to the API one by one and each is imported on its own, so only the sender sees the whole file:
it screens each chunk before sending it, remembering every id with its line (a dict of the file's ids: about
100 bytes each). A rejected record's lines are blanked, not removed, so the lines the server reports still
match the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from .import_chunks import ImportChunk
from .limits import too_deep
from .models.profile import Rejection, normalize_profile_id


class RepeatedIds:
    def __init__(self) -> None:
        self.first_lines: dict[str, int] = {}

    def screen(self, chunk: ImportChunk) -> tuple[ImportChunk, list[Rejection]]:
        """The chunk without the records whose id an earlier line of the file has, and their rejections."""
        rejections: list[Rejection] = []
        blanked: set[int] = set()
        for value, offset, lines in _records(chunk):
            pid = _profile_id(value)
            if pid is None:
                continue  # no valid id: the server rejects the record and says why
            line = chunk.first_line + offset
            first = self.first_lines.setdefault(pid, line)
            if first != line:
                rejections.append(Rejection(line=line, reason=(
                    f"profile id {pid!r} repeated: first on line {first}; this line is rejected, the first kept")))
                blanked.update(range(offset, offset + lines))
        if not blanked:
            return chunk, rejections
        text = "\n".join("" if n in blanked else line for n, line in enumerate(chunk.text.split("\n")))
        return replace(chunk, text=text), rejections


def _records(chunk: ImportChunk) -> Iterator[tuple[Any, int, int]]:
    """``(id value, line offset in the chunk, lines it spans)`` of each record that has one."""
    if chunk.format == "jsonl":
        for offset, raw in enumerate(chunk.text.split("\n")):  # as the server splits (JSON may hold U+2028)
            if '"id"' in raw and not too_deep(raw):  # too deep for json: the server rejects that line, saying so
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict) and "id" in record:
                    yield record["id"], offset, 1
        return
    header = chunk.header or []
    if "id" not in header:
        return
    column = header.index("id")
    reader = csv.reader(io.StringIO(chunk.text), strict=True)
    start = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            record = []
        if len(record) == len(header):
            yield record[column], start, reader.line_num - start
        start = reader.line_num


def _profile_id(value: Any) -> str | None:
    """The id as the server reads it (an integer is its digits), or None when it is not a valid one."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    try:
        return normalize_profile_id(value.strip())
    except ValueError:
        return None
