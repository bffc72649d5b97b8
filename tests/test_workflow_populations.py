"""Workflow populations computed in the profile store (store/profiles/workflow_sql.py), on real SQLite files."""

from __future__ import annotations

import json
import sqlite3

import pytest

from store.errors import ValidationFailed
from store.models.audience import RULE
from store.models.workflow import Workflow
from store.profiles.db import ProfileStore
from store.profiles.workflow_sql import Populations, split_bucket

# id: (email, tier, lists); p01 and p03 share an email, p05 has none.
PEOPLE = {
    "p01": ("ann@x.example", "gold", ["vip"]), "p02": ("bob@x.example", "silver", []),
    "p03": ("ann@x.example", "gold", []), "p04": ("cat@x.example", "bronze", ["vip"]),
    "p05": (None, "gold", []), "p06": ("dan@x.example", None, []),
}
GOLD = {"kind": "attribute", "attr": "tier", "op": "eq", "value": "gold"}
VIP = {"kind": "in_list", "list": "vip"}


@pytest.fixture
def profiles(tmp_path):
    store = ProfileStore(tmp_path)
    lines = []
    for pid, (email, tier, lists) in PEOPLE.items():
        record = {"id": pid, "lists": lists, "attributes": {"person": {"name": {"firstName": pid.upper()}}}}
        if email:
            record["identities"] = {"email": email}
        if tier:
            record["attributes"]["tier"] = tier
        lines.append(json.dumps(record))
    assert store.import_jsonl_chunk("\n".join(lines), 1).imported == len(PEOPLE)
    yield store
    store.close()


def _workflow(activities: list[dict], transitions: list[tuple[str, str, str]]) -> Workflow:
    return Workflow.model_validate({"activities": activities, "transitions": [
        {"from": a, "to": b, "name": name} for a, b, name in transitions]})


def _run(populations: Populations, workflow: Workflow, audiences: dict | None = None) -> dict:
    rules = {name: RULE.validate_python(rule) for name, rule in (audiences or {}).items()}
    return {a.id: populations.evaluate(workflow, a, seed=f"c1:{a.id}", audiences=rules) for a in workflow.order()}


def _members(populations: Populations, transition: str) -> list[str]:
    return populations.sample(transition, 1000)


def _everyone_then(activity: dict, outlets: list[str]) -> Workflow:
    return _workflow([{"id": "all", "kind": "build_audience", "rule": {"kind": "all"}}, activity,
                      *({"id": f"end-{n}", "kind": "end"} for n in outlets)],
                     [("all", activity["id"], "everyone"), *((activity["id"], f"end-{n}", n) for n in outlets)])


def test_sources_and_combines(profiles):
    workflow = _workflow([
        {"id": "gold", "kind": "build_audience", "rule": GOLD}, {"id": "vips", "kind": "read_audience", "audience": "vip"},
        {"id": "both", "kind": "combine", "operation": "union"},
        {"id": "each", "kind": "combine", "operation": "intersection"},
        {"id": "only-gold", "kind": "combine", "operation": "exclusion", "primary": "fork"},
        {"id": "fork", "kind": "fork"}, {"id": "f1", "kind": "fork"}, {"id": "f2", "kind": "fork"},
        {"id": "end", "kind": "end"}],
        [("gold", "fork", "gold"), ("vips", "f1", "vips"), ("fork", "both", "g1"), ("f1", "both", "v1"),
         ("fork", "each", "g2"), ("f1", "each", "v2"), ("fork", "only-gold", "g3"), ("f1", "f2", "v3"),
         ("f2", "only-gold", "v4"), ("both", "end", "union"), ("each", "end", "inter"), ("only-gold", "end", "excl")])
    populations = Populations(profiles, "run-1")
    results = _run(populations, workflow, {"vip": VIP})
    assert _members(populations, "gold") == ["p01", "p03", "p05"]
    assert _members(populations, "vips") == ["p01", "p04"]
    assert _members(populations, "union") == ["p01", "p03", "p04", "p05"]
    assert _members(populations, "inter") == ["p01"]
    assert _members(populations, "excl") == ["p03", "p05"]
    assert results["fork"].outbound == {"g1": 3, "g2": 3, "g3": 3}
    assert results["both"].inbound == 4 and results["end"].inbound == 4 and results["end"].outbound == {}
    assert results["gold"].inbound == 0


def test_deduplication_keeps_the_lowest_id_per_value_and_every_profile_without_one(profiles):
    for attr, expected in (("identities.email", ["p01", "p02", "p04", "p05", "p06"]),
                           ("tier", ["p01", "p02", "p04", "p06"])):
        populations = Populations(profiles, f"dedup-{attr}")
        result = _run(populations, _everyone_then({"id": "dedup", "kind": "deduplication", "attr": attr}, ["kept"]))
        assert _members(populations, "kept") == expected
        assert result["dedup"].inbound == 6 and result["dedup"].outbound == {"kept": len(expected)}


def test_enrichment_travels_with_the_profiles_and_merges(profiles):
    workflow = _workflow([
        {"id": "all", "kind": "build_audience", "rule": {"kind": "all"}},
        {"id": "by-list", "kind": "enrichment", "audience": "vip", "attr": "flags.isVip"},
        {"id": "wait", "kind": "wait", "duration": "1h"},
        {"id": "by-csv", "kind": "enrichment", "csv": "id,offer.code,flags.source\np02,B-2,csv\np04,D-4,\nzz,none,x\n"},
        {"id": "end", "kind": "end"}],
        [("all", "by-list", "a"), ("by-list", "wait", "b"), ("wait", "by-csv", "c"), ("by-csv", "end", "d")])
    populations = Populations(profiles, "run-1")
    results = _run(populations, workflow, {"vip": VIP})
    assert [r.outbound for r in results.values()][:4] == [{"a": 6}, {"b": 6}, {"c": 6}, {"d": 6}]
    paths = ["flags.isVip", "offer.code", "flags.source", "tier", "person.name.firstName"]
    rows = [row for page in populations.rows("d", attributes=paths, chunk_size=4) for row in page]
    assert [(r[0], *r[8:]) for r in rows] == [
        ("p01", "true", None, None, "gold", "P01"), ("p02", "false", "B-2", "csv", "silver", "P02"),
        ("p03", "false", None, None, "gold", "P03"), ("p04", "true", "D-4", None, "bronze", "P04"),
        ("p05", "false", None, None, "gold", "P05"), ("p06", "false", None, None, None, "P06")]
    before = [row for page in populations.rows("a", attributes=paths, chunk_size=10) for row in page]
    assert {r[8] for r in before} == {None}  # the data grows after the enrichment, not before


def test_rows_are_iter_audience_rows_over_the_population_paged(profiles):
    populations = Populations(profiles, "run-1")
    _run(populations, _everyone_then({"id": "wait", "kind": "wait", "duration": "30m"}, ["out"]))
    paths = ["person.name.firstName", "identities.email", "tier"]
    ours = list(populations.rows("out", attributes=paths, chunk_size=4))
    assert ours == list(profiles.iter_audience_rows({"kind": "all"}, attributes=paths, chunk_size=4))
    assert [len(page) for page in ours] == [4, 2]
    window = list(populations.rows("out", attributes=["tier"], chunk_size=2, after_id="p02", until_id="p05"))
    assert [[r[0] for r in page] for page in window] == [["p03", "p04"], ["p05"]]
    assert populations.bounds("out") == (6, "p06")
    assert populations.bounds("nowhere") == (0, None)


def _ten_thousand(tmp_path) -> ProfileStore:
    store = ProfileStore(tmp_path / "many")
    lines = [json.dumps({"id": f"q{i:05d}", "attributes": {"n": i % 7}}) for i in range(10_000)]
    assert store.import_jsonl_chunk("\n".join(lines), 1).imported == 10_000
    return store


@pytest.mark.parametrize("segments, remainder", [
    ([{"transition": "low", "rule": {"kind": "attribute", "attr": "n", "op": "lt", "value": 3}},
      {"transition": "two", "rule": {"kind": "attribute", "attr": "n", "op": "le", "value": 4}}], "rest"),
    ([{"transition": "low", "rule": {"kind": "attribute", "attr": "n", "op": "lt", "value": 3}},
      {"transition": "two", "rule": {"kind": "attribute", "attr": "n", "op": "le", "value": 4}}], None),
    ([{"transition": "low", "percent": 30}, {"transition": "two", "percent": 45}], None),
    ([{"transition": "low", "percent": 30}, {"transition": "two", "percent": 70}], "rest"),
    ([{"transition": "low", "rule": {"kind": "attribute", "attr": "n", "op": "eq", "value": 0}},
      {"transition": "two", "percent": 50}], None),
    ([{"transition": "low", "percent": 20},
      {"transition": "two", "rule": {"kind": "attribute", "attr": "n", "op": "ge", "value": 5}}], "rest"),
])
def test_split_outputs_and_unrouted_add_up_to_its_input(tmp_path, segments, remainder):
    store = _ten_thousand(tmp_path)
    try:
        split = {"id": "split", "kind": "split", "segments": segments, "remainder": remainder}
        outlets = [s["transition"] for s in segments] + ([remainder] if remainder else [])
        populations = Populations(store, "run-1")
        result = _run(populations, _everyone_then(split, outlets))["split"]
        assert result.inbound == 10_000
        assert sum(result.outbound.values()) + result.unrouted == 10_000
        assert (result.unrouted == 0) == (remainder is not None or sum(s.get("percent", 0) for s in segments) == 100)
        members = [set(_members_all(populations, name)) for name in outlets]
        assert sum(len(m) for m in members) == len(set().union(*members))  # each profile on one outlet at most
    finally:
        store.close()


def _members_all(populations: Populations, transition: str) -> list[str]:
    return [row[0] for page in populations.rows(transition, attributes=[], chunk_size=5000) for row in page]


def test_a_rule_split_sends_each_profile_to_its_first_matching_segment(profiles):
    split = {"id": "split", "kind": "split", "remainder": "rest", "segments": [
        {"transition": "vip", "rule": VIP}, {"transition": "gold", "rule": GOLD}]}
    populations = Populations(profiles, "run-1")
    result = _run(populations, _everyone_then(split, ["vip", "gold", "rest"]))["split"]
    assert _members(populations, "vip") == ["p01", "p04"]
    assert _members(populations, "gold") == ["p03", "p05"]
    assert _members(populations, "rest") == ["p02", "p06"]
    assert result.unrouted == 0


def test_percentage_splits_are_deterministic_per_seed(tmp_path):
    store = _ten_thousand(tmp_path)
    try:
        split = {"id": "split", "kind": "split", "segments": [{"transition": "thirty", "percent": 30}]}
        workflow = _everyone_then(split, ["thirty"])
        picked = []
        for key, seed, test in (("a", "c1:split", False), ("b", "c1:split", True), ("c", "c2:split", False)):
            populations = Populations(store, key, test=test)
            for activity in workflow.order():
                populations.evaluate(workflow, activity, seed=seed, audiences={})
            picked.append(_members_all(populations, "thirty"))
            populations.close()
        assert picked[0] == picked[1]  # a test counts what the run will
        assert picked[0] != picked[2]
        assert 2_700 < len(picked[0]) < 3_300 and 2_700 < len(picked[2]) < 3_300
        assert all(split_bucket("c1:split", pid) < 30 for pid in picked[0])
    finally:
        store.close()


def test_evaluate_is_idempotent(profiles):
    workflow = _everyone_then({"id": "split", "kind": "split", "segments": [{"transition": "half", "percent": 50}],
                               "remainder": "rest"}, ["half", "rest"])
    populations = Populations(profiles, "run-1")
    first = _run(populations, workflow)
    second = _run(populations, workflow)
    assert first == second
    with sqlite3.connect(profiles.path) as db:
        assert db.execute("SELECT count(*) FROM workflow_members WHERE run = 'run-1'").fetchone()[0] == 6 + 6


def test_populations_of_a_run_are_durable_until_dropped(profiles, tmp_path):
    populations = Populations(profiles, "run-1")
    _run(populations, _everyone_then({"id": "wait", "kind": "wait", "duration": "1d"}, ["out"]))
    other = Populations(profiles, "run-2")
    _run(other, _everyone_then({"id": "wait", "kind": "wait", "duration": "1d"}, ["out"]))
    profiles.close()
    reopened = ProfileStore(tmp_path)
    try:
        again = Populations(reopened, "run-1")
        assert again.count("out") == 6
        again.drop()
        assert again.count("out") == 0 and again.count("everyone") == 0
        assert Populations(reopened, "run-2").count("out") == 6
    finally:
        reopened.close()


def test_save_audience_replaces_the_list_in_a_run_and_not_in_a_test(profiles):
    workflow = _workflow([{"id": "gold", "kind": "build_audience", "rule": GOLD},
                          {"id": "save", "kind": "save_audience", "list": "vip"}, {"id": "end", "kind": "end"}],
                         [("gold", "save", "gold"), ("save", "end", "saved")])
    test = Populations(profiles, "test-1", test=True)
    assert _run(test, workflow)["save"].outbound == {"saved": 3}
    test.close()
    assert profiles.count_audience(VIP) == 2
    assert _run(Populations(profiles, "run-1"), workflow)["save"].outbound == {"saved": 3}
    assert [r[0] for page in profiles.iter_audience_rows(VIP) for r in page] == ["p01", "p03", "p05"]


def test_a_test_writes_nothing_to_the_file_and_forgets_at_close(profiles):
    files = [profiles.path, profiles.path.with_name(profiles.path.name + "-wal")]
    before = [(f.read_bytes() if f.exists() else None, f.stat().st_mtime_ns if f.exists() else None) for f in files]
    populations = Populations(profiles, "test-1", test=True)
    _run(populations, _everyone_then({"id": "enrich", "kind": "enrichment", "csv": "id,x\np01,1\n"}, ["out"]))
    assert populations.count("out") == 6
    populations.close()
    after = [(f.read_bytes() if f.exists() else None, f.stat().st_mtime_ns if f.exists() else None) for f in files]
    assert after == before
    assert Populations(profiles, "test-1").count("out") == 0


def test_an_unknown_audience_is_one_clear_line(profiles):
    workflow = _workflow([{"id": "vips", "kind": "read_audience", "audience": "gone"}, {"id": "end", "kind": "end"}],
                         [("vips", "end", "v")])
    populations = Populations(profiles, "run-1")
    with pytest.raises(ValidationFailed, match="reads audience 'gone', which does not exist"):
        _run(populations, workflow)
    assert populations.count("v") == 0


def test_a_failed_evaluation_leaves_the_previous_populations(profiles):
    workflow = _everyone_then({"id": "flag", "kind": "enrichment", "audience": "vip", "attr": "isVip"}, ["out"])
    populations = Populations(profiles, "run-1")
    _run(populations, workflow, {"vip": VIP})
    with pytest.raises(ValidationFailed, match="reads audience 'vip', which does not exist"):
        populations.evaluate(workflow, workflow.activity("flag"), seed="c1:flag", audiences={})
    assert _members(populations, "out") == list(PEOPLE)  # the rows the attempt deleted came back with the rollback
    assert [r[8] for page in populations.rows("out", attributes=["isVip"], chunk_size=10) for r in page][:2] == [
        "true", "false"]


def test_a_csv_column_inside_another_is_refused(profiles):
    workflow = _everyone_then({"id": "csv", "kind": "enrichment", "csv": "id,offer,offer.code\np01,a,b\n"}, ["out"])
    with pytest.raises(ValidationFailed, match="column 'offer.code' goes inside 'offer', which holds a value"):
        _run(Populations(profiles, "run-1", test=True), workflow)
