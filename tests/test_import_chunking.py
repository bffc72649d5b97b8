"""The client-side splitter: chunks keep CSV records whole and know their file line numbers."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest

from store.errors import ValidationFailed
from store import import_chunks
from store.import_chunks import iter_import_chunks
from store.profiles.db import ProfileStore

TRICKY_CSV = (
    'id,note,city\n'                                    # 1
    'p1,"first\nsecond\nthird",Paris\n'                 # 2-4
    'p2,plain,Lyon\n'                                   # 5
    '\n'                                                # 6
    'p3,"he said ""hi""",Nice\n'                        # 7
    'p4,"""quoted"" start\nand ""more""\n",Metz\n'      # 8-10
    'p5,"a,b",Caen\n'                                   # 11
    'p6,"x\n\n\ny",Brest\n'                             # 12-15
    'p7,last,Dijon'                                     # 16, no final newline
)
TRICKY_RECORDS = {"p1": 2, "p2": 5, "p3": 7, "p4": 8, "p5": 11, "p6": 12, "p7": 16}


def records_with_lines(chunk) -> dict[str, tuple[int, list[str]]]:
    """Each record of a chunk with the file line it starts on, as the importer counts them."""
    reader = csv.reader(io.StringIO(chunk.text))
    out, start = {}, 0
    for record in reader:
        if record:
            out[record[0]] = (chunk.first_line + start, record)
        start = reader.line_num
    return out


@pytest.mark.parametrize("lines_per_chunk", [1, 2, 3, 4, 5, 7, 100])
def test_quoted_newlines_stay_together_and_lines_are_right(tmp_path, lines_per_chunk):
    path = tmp_path / "tricky.csv"
    path.write_text(TRICKY_CSV, encoding="utf-8")
    chunks = list(iter_import_chunks(path, lines_per_chunk=lines_per_chunk))
    assert all(c.format == "csv" and c.header == ["id", "note", "city"] for c in chunks)
    seen: dict[str, tuple[int, list[str]]] = {}
    for chunk in chunks:
        assert chunk.text.count('"') % 2 == 0
        for key, value in records_with_lines(chunk).items():
            assert key not in seen
            seen[key] = value
    assert {k: line for k, (line, _) in seen.items()} == TRICKY_RECORDS
    assert all(len(record) == 3 for _, record in seen.values())
    assert seen["p1"][1][1] == "first\nsecond\nthird"
    assert seen["p4"][1][1] == '"quoted" start\nand "more"\n'
    assert seen["p6"][1][1] == "x\n\n\ny"
    done = [c.bytes_done for c in chunks]
    assert done == sorted(done) and done[-1] == chunks[-1].bytes_total == path.stat().st_size


def test_line_numbers_reach_rejections_through_the_store(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "id,note,identities.email\n"
        'a1,"two\nlines",a1@example.com\n'   # 2-3
        "a2,ok,a2@example.com\n"             # 4
        'a3,"x\ny\nz",a3@\n'                  # 5-7: bad email
        "a4,ok,not-an-email\n",              # 8
        encoding="utf-8",
    )
    store = ProfileStore(tmp_path / "data")
    try:
        reasons = []
        for chunk in iter_import_chunks(path, lines_per_chunk=2):
            summary = store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
            reasons += [str(r) for r in summary.rejections]
        assert reasons == [
            "line 5: invalid email 'a3@' in identities.email (expected name@domain.tld)",
            "line 8: invalid email 'not-an-email' in identities.email (expected name@domain.tld)",
        ]
        assert store.get("a1").attributes["note"] == "two\nlines"
    finally:
        store.close()


def test_jsonl_by_extension_and_line_numbers(tmp_path):
    lines = [json.dumps({"id": f"j{i}"}) for i in range(10)]
    for name in ("people.jsonl", "people.ndjson", "people.JSONL"):
        path = tmp_path / name
        path.write_text("\n".join(lines[:4]) + "\n\n" + "\n".join(lines[4:]) + "\n", encoding="utf-8")
        chunks = list(iter_import_chunks(path, lines_per_chunk=3))
        assert {c.format for c in chunks} == {"jsonl"} and all(c.header is None for c in chunks)
        numbered = {}
        for chunk in chunks:
            for offset, line in enumerate(chunk.text.split("\n")):
                if line.strip():
                    numbered[json.loads(line)["id"]] = chunk.first_line + offset
        assert numbered == {f"j{i}": i + 1 if i < 4 else i + 2 for i in range(10)}


def test_format_is_sniffed_when_the_extension_says_nothing(tmp_path):
    jsonl = tmp_path / "export.txt"
    jsonl.write_text('\n  {"id": "x"}\n{"id": "y"}\n', encoding="utf-8")
    chunks = list(iter_import_chunks(jsonl))
    assert chunks[0].format == "jsonl" and chunks[0].first_line == 2
    data = tmp_path / "export.dat"
    data.write_text("id,timeZone\nx,Europe/Paris\n", encoding="utf-8")
    assert [c.format for c in iter_import_chunks(data)] == ["csv"]


@pytest.mark.parametrize("name, content, message", [
    ("empty.csv", b"", "is empty"),
    ("blank.jsonl", b"\n \n\t\n", "is empty"),
    ("notes.txt", b"hello world\nsecond line\n", "cannot tell the format"),
    ("array.json", b'[{"id": "x"}]\n', "JSON array"),
    ("latin1.csv", "id,city\np1,Zürich\np2,Köln\n".encode("latin-1"), "line 2 is not UTF-8"),
])
def test_unusable_files_are_refused_with_a_reason(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as caught:
        list(iter_import_chunks(path))
    assert message in caught.value.detail


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationFailed, match="cannot read"):
        list(iter_import_chunks(tmp_path / "nope.csv"))


def test_bom_and_crlf_line_endings(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,name\r\np1,\"Ana\r\nMaria\"\r\np2,Bob\r\n".encode("utf-8"))
    chunks = list(iter_import_chunks(path, lines_per_chunk=1))
    assert chunks[0].header == ["id", "name"]
    records = {}
    for chunk in chunks:
        records.update(records_with_lines(chunk))
    assert records == {"p1": (2, ["p1", "Ana\r\nMaria"]), "p2": (4, ["p2", "Bob"])}


def test_header_only_file_has_no_chunks(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("id,timeZone\n", encoding="utf-8")
    assert list(iter_import_chunks(path)) == []


def test_chunks_read_like_the_whole_file_for_random_content(tmp_path):
    """Fields with quotes, commas, newlines and stray mid-field quotes: chunking changes nothing."""
    rng = random.Random(11)
    pieces = ["a", "b,c", '"', '""', "\n", "\r\n", " ", "é", "x\"y", "", ","]
    rows = [[f"r{i}", *("".join(rng.choices(pieces, k=rng.randint(0, 6))) for _ in range(3))] for i in range(400)]
    buffer = io.StringIO()
    buffer.write('id,a,b,c\nr-1,plain,wo"rd,"ends ""here"""\n')  # a stray quote, as people write them
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    path = tmp_path / "random.csv"
    path.write_text(text, encoding="utf-8")
    expected = list(csv.reader(io.StringIO(text)))[1:]
    for lines_per_chunk in (1, 3, 17, 250):
        got = []
        for chunk in iter_import_chunks(path, lines_per_chunk=lines_per_chunk):
            got += [r for r in csv.reader(io.StringIO(chunk.text), strict=True) if r]
        assert got == expected


def test_an_unclosed_quote_is_reported_not_swallowed(tmp_path, monkeypatch):
    path = tmp_path / "open.csv"
    path.write_text('id,name\np1,ok\np2,"never closed\np3,x\np4,y\n', encoding="utf-8")
    store = ProfileStore(tmp_path / "data")
    try:
        chunks = list(iter_import_chunks(path, lines_per_chunk=2))
        summary = store.import_csv_chunk(chunks[0].header, chunks[0].text, chunks[0].first_line)
        assert summary.imported == 1 and summary.rejected == 3
        assert [str(r) for r in summary.rejections] == [
            'line 3: unclosed quote opened on line 3 swallowed lines 3–5; close it with " (a quote inside a field '
            'is written "")',
            "line 4: swallowed by the unclosed quote opened on line 3",
            "line 5: swallowed by the unclosed quote opened on line 3"]
    finally:
        store.close()
    monkeypatch.setattr(import_chunks, "MAX_RECORD_LINES", 2)
    with pytest.raises(ValidationFailed, match="open.csv line 3: a quoted field is still open 2 lines later"):
        list(iter_import_chunks(path, lines_per_chunk=1))
