"""Importing profiles from CSV and JSON lines into the SQLite profile store, and reading them back."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from store.errors import NotFound, StoreCorrupted, ValidationFailed
from store.models.profile import MAX_REJECTIONS, Identities, ImportSummary, Profile
from store.import_chunks import iter_import_chunks
from store.profiles.db import ProfileStore
from store.profiles.generate import HEADER, generate_profiles_csv

HEADER_ROW = [
    "id", "person.name.firstName", "person.name.lastName", "timeZone", "loyalty.points:number", "vip:boolean",
    "identities.email", "identities.phone", "identities.pushToken", "consent.email", "consent.sms", "consent.push",
    "suppressed", "lists",
]


@pytest.fixture
def store(tmp_path):
    store = ProfileStore(tmp_path / "data")
    yield store
    store.close()


def import_csv(store: ProfileStore, text: str, header=HEADER_ROW, first_line: int = 2) -> ImportSummary:
    store.validate_csv_header(header)
    return store.import_csv_chunk(header, text, first_line)


def test_csv_with_dotted_names_builds_nested_profiles(store):
    summary = import_csv(store, (
        "p1,Ana,García,Europe/Madrid,120,yes,Ana.Garcia@Example.COM,+34 612 34 56 78,,yes,no,0,false,vip;newsletter\n"
        'p2,"Li, ""Wei""",Chen,Asia/Shanghai,3.5,false,li@example.cn,0086 131 2345 6789,tok-1234567890,1,1,1,no,\n'
    ))
    assert (summary.imported, summary.updated, summary.rejected) == (2, 0, 0)
    ana = store.get("p1")
    assert ana == Profile(
        id="p1",
        attributes={"person": {"name": {"firstName": "Ana", "lastName": "García"}}, "timeZone": "Europe/Madrid",
                    "loyalty": {"points": 120}, "vip": True},
        identities=Identities(email="Ana.Garcia@example.com", phone="+34612345678"),
        consent={"email": True},
        lists=["newsletter", "vip"],
    )
    li = store.get("p2")
    assert li.attributes["person"]["name"]["firstName"] == 'Li, "Wei"'
    assert li.attributes["loyalty"]["points"] == 3.5 and li.attributes["vip"] is False
    assert li.identities.phone == "+8613123456789" and li.identities.push_token == "tok-1234567890"
    assert li.consent.model_dump() == {"email": True, "sms": True, "push": True} and not li.suppressed
    assert store.count() == 2
    assert store.list_names() == {"newsletter": 1, "vip": 1}


def test_rejections_name_the_line_and_what_to_fix(store):
    text = (
        "p1,Ana,,Europe/Paris,1,no,ana@example.com,,,yes,no,no,no,\n"     # line 2
        'p2,"Bob\nwith a newline",,,,,bob@,,,no,no,no,no,\n'              # lines 3-4: bad email
        ",Nobody,,,,,,,,,,,,\n"                                           # line 5: no id
        "p4,Cy,,,,,cy@example.com,0612,,,,,,\n"                           # line 6: phone without country code
        "p5,Di,,,lots,,,,,,,,,\n"                                         # line 7: not a number
        "p6,Ed,,,,,,,,maybe,,,,\n"                                        # line 8: consent value
        "p7,Fa,,,,,,,,,,,,\n"                                             # line 9: fine
        "p8,too,few\n"                                                    # line 10
        "p9,Gu,,,,,,,,,,,,a b\n"                                          # line 11: list name
        "with space,Hu,,,,,,,,,,,,\n"                                     # line 12: id
    )
    summary = import_csv(store, text)
    assert (summary.imported, summary.rejected) == (2, 8)
    messages = [str(r) for r in summary.rejections]
    assert messages == [
        "line 3: invalid email 'bob@' in identities.email (expected name@domain.tld)",
        "line 5: missing id",
        "line 6: invalid phone '0612' in identities.phone (use international format, e.g. +33612345678)",
        "line 7: invalid number 'lots' in loyalty.points:number (e.g. 42 or 3.5)",
        "line 8: invalid value 'maybe' in consent.email (use true/false, yes/no or 1/0)",
        "line 10: 3 fields where the header has 14 (check commas and quotes)",
        "line 11: invalid list name 'a b' in lists (use letters, digits, '-', '_' or '.', up to 64)",
        "line 12: invalid id 'with space' (use 1 to 128 characters without spaces)",
    ]
    assert store.count() == 2
    with pytest.raises(NotFound):
        store.get("p2")


@pytest.mark.parametrize("header, message", [
    (["name", "identities.email"], "no 'id' column"),
    (["id", "consent.fax"], "unknown channel 'fax' in consent.fax (use email, sms or push)"),
    (["id", "identities.fax"], "unknown channel 'fax' in identities.fax (use email, phone or push_token)"),
    (["id", "timeZone", "timeZone"], "appears twice"),
    (["id", "person.name", "person.name.firstName"], "goes inside 'person.name'"),
    (["id", "timeZone", "attributes.timeZone"], "goes inside"),
    (["id", "points:date"], "unknown type 'date'"),
    (["id", "first name"], "invalid column name 'first name'"),
    (["id", ""], "has no name"),
    (["id", "lists.extra"], "is a profile field"),
    (["id", ".".join(["a"] * 5000)], "column 2 ('a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.…') has 5,000 dotted parts"),
])
def test_a_header_that_cannot_import_is_refused_before_any_write(store, header, message):
    with pytest.raises(ValidationFailed) as caught:
        store.validate_csv_header(header)
    assert message in caught.value.detail
    assert caught.value.errors
    with pytest.raises(ValidationFailed):
        store.import_csv_chunk(header, "p1,x\n", 2)
    assert store.count() == 0


def test_updates_merge_into_existing_profiles(store):
    first = import_csv(store, (
        "p1,Ana,García,Europe/Madrid,120,yes,ana@example.com,+34612345678,,yes,yes,no,no,vip;beta\n"
        "p2,Bob,,America/New_York,5,no,bob@example.com,,,yes,no,no,no,newsletter\n"
    ))
    assert (first.imported, first.updated) == (2, 0)
    # a narrower file: only the columns it has change; an empty cell removes that attribute
    header = ["id", "person.name.lastName", "loyalty.points:number", "consent.sms", "lists"]
    second = store.import_csv_chunk(header, "p1,Silva,,no,newsletter\np3,New,7,yes,\np3,Newer,8,yes,beta\n", 2)
    assert (second.imported, second.updated, second.rejected) == (1, 2, 0)
    ana = store.get("p1")
    assert ana.attributes["person"]["name"] == {"firstName": "Ana", "lastName": "Silva"}
    assert "points" not in ana.attributes["loyalty"]
    assert ana.attributes["timeZone"] == "Europe/Madrid" and ana.identities.email == "ana@example.com"
    assert ana.consent.model_dump() == {"email": True, "sms": False, "push": False}
    assert ana.lists == ["newsletter"]
    assert store.get("p3").attributes == {"person": {"name": {"lastName": "Newer"}}, "loyalty": {"points": 8}}
    assert store.get("p3").lists == ["beta"]
    assert store.get("p2").lists == ["newsletter"]
    assert store.list_names() == {"beta": 1, "newsletter": 2}
    assert store.count_audience({"kind": "attribute", "attr": "timeZone", "op": "eq", "value": "Europe/Madrid"}) == 1


def test_jsonl_in_the_profile_shape_and_with_dotted_keys(store):
    lines = [
        {"id": "j1", "attributes": {"person": {"name": {"firstName": "Zoë"}}, "timeZone": "Europe/Paris",
                                    "interests": ["golf", "jazz"], "score": 4.5},
         "identities": {"email": "zoe@example.fr", "pushToken": "abcdef123456"},
         "consent": {"email": True, "push": "yes"}, "suppressed": False, "lists": ["vip"]},
        {"id": "j2", "person.name.firstName": "Kenji", "identities.phone": "+81 90 1234 5678", "consent.sms": True,
         "lists": "beta;vip", "attributes.loyalty.tier": "gold"},
        {"id": 3, "timeZone": "Asia/Tokyo"},
    ]
    summary = store.import_jsonl_chunk("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", 1)
    assert (summary.imported, summary.rejected) == (3, 0), summary.rejections
    zoe = store.get("j1")
    assert zoe.attributes["interests"] == ["golf", "jazz"] and zoe.attributes["score"] == 4.5
    assert zoe.identities.push_token == "abcdef123456"
    assert zoe.consent.model_dump() == {"email": True, "sms": False, "push": True}
    kenji = store.get("j2")
    assert kenji.attributes == {"person": {"name": {"firstName": "Kenji"}}, "loyalty": {"tier": "gold"}}
    assert kenji.identities.phone == "+819012345678" and kenji.consent.sms and kenji.lists == ["beta", "vip"]
    assert store.get("3").attributes == {"timeZone": "Asia/Tokyo"}
    # an update sets what the line has, merges attributes, and a null removes one
    update = store.import_jsonl_chunk(json.dumps(
        {"id": "j1", "attributes": {"score": None, "city": "Lyon"}, "consent": {"email": False}}), 10)
    assert (update.imported, update.updated) == (0, 1)
    zoe = store.get("j1")
    assert zoe.attributes == {"person": {"name": {"firstName": "Zoë"}}, "timeZone": "Europe/Paris",
                              "interests": ["golf", "jazz"], "city": "Lyon"}
    assert not zoe.consent.email and zoe.consent.push and zoe.lists == ["vip"]


def test_jsonl_rejections_carry_line_numbers(store):
    text = "\n".join([
        json.dumps({"id": "ok1"}),                                    # 5
        '{"id": "broken", ',                                           # 6
        "",                                                            # 7 (blank)
        json.dumps({"id": "x1", "consent": {"fax": True}}),            # 8
        json.dumps({"id": "x2", "identities": {"fax": "123"}}),        # 9
        json.dumps({"id": "x3", "identities": {"email": "x3@"}}),      # 10
        json.dumps([1, 2]),                                            # 11
        json.dumps({"name": "no id"}),                                 # 12
        json.dumps({"id": "x4", "consent": {"email": "perhaps"}}),     # 13
        json.dumps({"id": "x5", "attributes": {"bad": float("nan")}}),  # 14
        json.dumps({"id": "x6", "lists": 5}),                          # 15
        json.dumps({"id": "x7", "first name": "Ann"}),                 # 16
        json.dumps({"id": "ok2", "identities": {"email": None}}),      # 17
    ])
    summary = store.import_jsonl_chunk(text, 5)
    assert summary.imported == 2
    reasons = {r.line: r.reason for r in summary.rejections}
    assert reasons[6].startswith("malformed JSON: ")
    assert reasons[8] == "unknown channel 'fax' in consent.fax (use email, sms or push)"
    assert reasons[9] == "unknown channel 'fax' in identities.fax (use email, phone or push_token)"
    assert reasons[10] == "invalid email 'x3@' in identities.email (expected name@domain.tld)"
    assert reasons[11] == "expected one JSON object per line, found list"
    assert reasons[12] == "missing id"
    assert "consent.email" in reasons[13]
    assert reasons[14].startswith("invalid value in attributes")
    assert "lists must be" in reasons[15]
    assert "unknown field 'first name'" in reasons[16]
    assert sorted(reasons) == [6, 8, 9, 10, 11, 12, 13, 14, 15, 16]


def test_a_column_nested_up_to_the_limit_imports(store):
    deepest = ".".join(f"k{i}" for i in range(64))
    header = ["id", deepest, "k0.other"]
    summary = import_csv(store, "p1,deep,side\n", header=header)
    assert summary.imported == 1, summary.rejections
    node = store.get("p1").attributes
    assert node["k0"]["other"] == "side"
    for i in range(64 - 1):
        node = node[f"k{i}"]
    assert node["k63"] == "deep"


def test_hostile_records_are_rejected_by_line(store):
    header = ["id", "note", "city"]
    csv_text = (
        "c1,fine,Paris\n"            # 2
        'c2,"never closed,Lyon\n'    # 3: the quote runs on...
        "c3,x,Nice\n"                # 4
        'c4,"y",Metz\n'              # 5: ...to here, where "y" breaks the record
        "c5,a\0b,Caen\n"            # 6: NUL
        'c6,"two\nlines",Brest\n'   # 7-8: a real multi-line field
    )
    summary = import_csv(store, csv_text, header=header)
    assert summary.imported == 2
    assert [str(r) for r in summary.rejections] == [
        'line 3: unclosed quote opened on line 3 swallowed lines 3–5; close it with " (a quote inside a field '
        'is written "")',
        "line 4: swallowed by the unclosed quote opened on line 3",
        "line 5: swallowed by the unclosed quote opened on line 3",
        "line 6: a NUL byte in column 'note'; remove it (it is not text)",
    ]
    assert store.get("c6").attributes == {"note": "two\nlines", "city": "Brest"}

    lines = [
        json.dumps({"id": "ok"}),                                                           # 1
        '{"id": "j1", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}",              # 2
        json.dumps({"id": "j2", ".".join(["a"] * 5000): 1}),                                # 3
        json.dumps({"id": "j3", "attributes": {"bio": ["x", {"y": "a\0b"}]}}),             # 4
        json.dumps({"id": "j4", "note": "a\\u0000 is fine when the backslash is escaped"}),  # 5
    ]
    summary = store.import_jsonl_chunk("\n".join(lines), 1)
    assert summary.imported == 2
    assert {r.line: r.reason for r in summary.rejections} == {
        2: "the record nests deeper than 64 levels; flatten it",
        3: "field 'a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.…' has 5,000 dotted parts; attribute names nest "
           "at most 64 levels (e.g. person.name.firstName)",
        4: "a NUL character (\\u0000) in 'attributes'; remove it (it is not text)",
    }
    assert store.get("j4").attributes["note"].startswith("a\\u0000")


def test_rejections_are_capped_but_counted(store):
    rows = "".join(f"bad{i},x,,,,,nope@,,,,,,,\n" for i in range(MAX_REJECTIONS + 250))
    summary = import_csv(store, rows)
    assert summary.rejected == MAX_REJECTIONS + 250
    assert len(summary.rejections) == MAX_REJECTIONS and summary.rejections_truncated
    assert summary.rejections[-1].line == MAX_REJECTIONS + 1
    total = ImportSummary().add(summary).add(summary)
    assert total.rejected == 2 * (MAX_REJECTIONS + 250) and len(total.rejections) == MAX_REJECTIONS
    assert ImportSummary.model_validate_json(total.model_dump_json()) == total


def test_get_unknown_profile_says_what_to_do(store):
    with pytest.raises(NotFound) as caught:
        store.get("nobody")
    assert "'nobody'" in caught.value.detail and "import" in caught.value.detail


def test_generated_file_imports_through_the_chunker(tmp_path, store):
    path = generate_profiles_csv(tmp_path / "profiles.csv", 2500, seed=3)
    assert path.read_text(encoding="utf-8") == generate_profiles_csv(tmp_path / "again.csv", 2500, seed=3).read_text(
        encoding="utf-8")
    assert path.read_text(encoding="utf-8") != generate_profiles_csv(tmp_path / "other.csv", 2500, seed=4).read_text(
        encoding="utf-8")
    total = ImportSummary()
    chunks = list(iter_import_chunks(path, lines_per_chunk=600))
    assert len(chunks) == 5 and chunks[0].header == HEADER
    for chunk in chunks:
        total.add(store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line))
    assert (total.imported, total.updated, total.rejected) == (2500, 0, 0)
    again = ImportSummary()
    for chunk in iter_import_chunks(path, lines_per_chunk=1000):
        again.add(store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line))
    assert (again.imported, again.updated) == (0, 2500) and store.count() == 2500
    profile = store.get("p0000042")
    assert profile.attributes["person"]["name"]["firstName"] and isinstance(profile.attributes["loyalty"]["points"], int)
    lists = store.list_names()
    assert set(lists) == {"vip", "newsletter", "beta"} and lists["newsletter"] > lists["vip"] > lists["beta"] > 0


def test_data_persists_and_a_damaged_file_is_reported(tmp_path):
    store = ProfileStore(tmp_path)
    import_csv(store, "p1,Ana,,Europe/Paris,,,,,,,,,,vip\n")
    store.close()
    again = ProfileStore(tmp_path)
    assert again.get("p1").lists == ["vip"]
    with sqlite3.connect(again.path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "profiles.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreCorrupted) as caught:
        ProfileStore(broken)
    assert "profiles.sqlite3" in caught.value.detail and "move it aside" in caught.value.detail


def test_reads_in_other_threads_while_importing(tmp_path, store):
    path = generate_profiles_csv(tmp_path / "p.csv", 3000, seed=1)
    counts: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(30):
                counts.append(store.count_audience({"kind": "consent", "channel": "email"}))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    for chunk in iter_import_chunks(path, lines_per_chunk=300):
        store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
    reader.join()
    assert not errors
    assert counts == sorted(counts)
    assert store.count_audience({"kind": "consent", "channel": "email"}) >= counts[-1]


def test_profile_model_checks_identities():
    assert Identities(email=" a@B.Example.com ").email == "a@b.example.com"
    assert Identities(phone="+1 (415) 555-0100").phone == "+14155550100"
    assert Identities.model_validate({"pushToken": "token-12345"}).push_token == "token-12345"
    for bad in ({"email": "bob@"}, {"email": "a b@example.com"}, {"phone": "12345"}, {"push_token": "short"},
                {"fax": "1"}):
        with pytest.raises(ValueError):
            Identities.model_validate(bad)
    with pytest.raises(ValueError):
        Profile(id="has space")
    assert Profile(id="x", lists=["vip", "beta", "vip"]).lists == ["beta", "vip"]


def test_file_path_data_dir_is_created(tmp_path):
    store = ProfileStore(Path(tmp_path / "deep" / "data"))
    assert store.path.exists() and store.count() == 0
    store.close()
