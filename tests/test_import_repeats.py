"""A profile id repeated within one import file is rejected on its later line, naming the first one, instead of
being counted as updated; across chunks too (each chunk is a request of its own)."""

from __future__ import annotations

import json

from store.import_chunks import iter_import_chunks
from store.import_repeats import RepeatedIds

from .test_cli import demo, demo_template, run, run_json  # noqa: F401  (fixtures)


def test_a_repeated_id_is_rejected_with_both_lines(demo, capsys, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("id,person.name.firstName,identities.email\n"
                      "r-1,Ana,ana@example.com\n"
                      'r-2,"Bob\nBobby",bob@example.com\n'  # a record on two lines
                      "r-1,Anna,anna@example.com\n"
                      "r-3,Chen,chen@example.com\n")
    code, out, err = run(capsys, "profiles", "import", str(people))
    assert code == 3, err
    assert "imported 3, updated 0, rejected 1" in out
    assert "line 5: profile id 'r-1' repeated: first on line 2; this line is rejected, the first kept" in out
    assert run_json(capsys, "profiles", "show", "r-1")["attributes"]["person"]["name"]["firstName"] == "Ana"
    again = tmp_path / "again.jsonl"  # a second file updating r-1 is an update, not a repeat
    again.write_text('{"id": "r-1", "attributes": {"person": {"name": {"firstName": "Ana M"}}}}\n')
    summary = json.loads(run(capsys, "profiles", "import", str(again), "--json")[1])
    assert (summary["imported"], summary["updated"], summary["rejected"]) == (0, 1, 0)


def test_repeats_across_chunks_keep_their_file_lines(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"id": f"q-{n % 5}"}) + "\n" for n in range(12)))
    repeats = RepeatedIds()
    rejected = []
    sent = []
    for chunk in iter_import_chunks(path, lines_per_chunk=4):
        chunk, found = repeats.screen(chunk)
        rejected += [(r.line, r.reason.split(";")[0]) for r in found]
        sent += [(chunk.first_line + n, line) for n, line in enumerate(chunk.text.split("\n")) if line]
    assert [line for line, _ in rejected] == [6, 7, 8, 9, 10, 11, 12]
    assert rejected[0] == (6, "profile id 'q-0' repeated: first on line 1")
    assert [line for line, _ in sent] == [1, 2, 3, 4, 5]  # only the first of each id travels, on its own line
