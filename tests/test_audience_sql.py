"""Audience rules compiled to SQL count and list exactly what a plain Python evaluation selects."""

from __future__ import annotations

import json
import sqlite3

import pytest
from pydantic import ValidationError

from store.errors import ValidationFailed
from store.models.audience import RULE, Audience, AttributeRule, InListRule
from store.profiles.audience_sql import compile_rule
from store.import_chunks import iter_import_chunks
from store.profiles.db import STRUCTURED_VALUE, ProfileStore
from store.profiles.generate import generate_profiles_csv

MISSING = object()


# ---- the reference: a direct reading of the semantics documented in store/models/audience.py ----

def value_at(profile, attr: str):
    if attr == "id":
        return profile.id
    if attr == "suppressed":
        return profile.suppressed
    root, _, rest = attr.partition(".")
    if root == "identities":
        value = getattr(profile.identities, "push_token" if rest == "pushToken" else rest)
        return MISSING if value is None else value
    if root == "consent":
        return getattr(profile.consent, rest)
    node = profile.attributes
    for part in attr.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return MISSING if node is None else node


def is_number(x) -> bool:
    return isinstance(x, (int, float))


def compare(x, op: str, v) -> bool:
    if op == "exists":
        return x is not MISSING
    if op == "ne":
        return not compare(x, "eq", v)
    if x is MISSING:
        return False
    scalar = not isinstance(x, (dict, list))
    if op == "eq":
        return scalar and x == v
    if op == "in":
        return scalar and any(x == item for item in v)
    if op in ("lt", "le", "gt", "ge"):
        if not ((is_number(x) and is_number(v)) or (isinstance(x, str) and isinstance(v, str))):
            return False
        return {"lt": x < v, "le": x <= v, "gt": x > v, "ge": x >= v}[op]
    if op == "startswith":
        return isinstance(x, str) and x.startswith(v)
    if op == "contains":
        if isinstance(x, str):
            return isinstance(v, str) and v in x
        if isinstance(x, list):
            return any(not isinstance(e, (dict, list)) and e == v for e in x)
        return False
    raise AssertionError(op)


def matches(rule: dict, profile) -> bool:
    kind = rule["kind"]
    if kind == "all":
        return True
    if kind == "and":
        return all(matches(r, profile) for r in rule["rules"])
    if kind == "or":
        return any(matches(r, profile) for r in rule["rules"])
    if kind == "not":
        return not matches(rule["rule"], profile)
    if kind == "consent":
        return getattr(profile.consent, rule["channel"])
    if kind == "in_list":
        return rule["list"] in profile.lists
    return compare(value_at(profile, rule["attr"]), rule["op"], rule.get("value"))


# ---- data: a realistic generated file plus hand-made odd values ----

ODD_PROFILES = [
    {"id": "odd-01", "attributes": {"timeZone": 5, "score": 10, "tags": ["golf", "tennis", 3, True]}},
    {"id": "odd-02", "attributes": {"timeZone": ["Europe/Paris"], "score": 10.5, "tags": "golfing"}},
    {"id": "odd-03", "attributes": {"timeZone": "Europe/Paris", "score": "10", "tags": [{"a": 1}, ["golf"]]}},
    {"id": "odd-04", "attributes": {"score": True, "flag": False, "tags": []}},
    {"id": "odd-05", "attributes": {"score": -3, "weird": '{"a":1}', "obj": {"a": 1}, "arr": [1, 2]}},
    {"id": "odd-06", "attributes": {"weird": "[1,2]", "obj": "{\"a\":1}", "person": {"name": {"firstName": "Zoë"}}}},
    {"id": "odd-07", "attributes": {"person": {"name": "not an object"}, "loyalty": {"points": 20000}}},
    {"id": "odd-08", "attributes": {"timeZone": "europe/paris", "loyalty": {"tier": "gold", "points": 0}}},
    {"id": "odd-09", "attributes": {"timeZone": "", "score": 0, "tags": ["", "x"]}},
    {"id": "odd-10", "attributes": {"timeZone": "Europe/", "score": 1e3}, "consent": {"sms": True},
     "identities": {"phone": "+33612345678"}, "lists": ["vip"]},
    {"id": "odd-11", "suppressed": True, "identities": {"email": "odd@example.org"}, "consent": {"email": True}},
]

RULES = [
    {"kind": "all"},
    {"kind": "consent", "channel": "email"},
    {"kind": "consent", "channel": "sms"},
    {"kind": "consent", "channel": "push"},
    {"kind": "in_list", "list": "vip"},
    {"kind": "in_list", "list": "beta"},
    {"kind": "in_list", "list": "no-such-list"},
    {"kind": "not", "rule": {"kind": "in_list", "list": "newsletter"}},
    {"kind": "and", "rules": [
        {"kind": "consent", "channel": "email"},
        {"kind": "not", "rule": {"kind": "attribute", "attr": "suppressed", "op": "eq", "value": True}},
        {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "Europe/"},
    ]},
    {"kind": "or", "rules": [
        {"kind": "in_list", "list": "vip"},
        {"kind": "attribute", "attr": "loyalty.tier", "op": "in", "value": ["gold", "platinum"]},
    ]},
    {"kind": "not", "rule": {"kind": "or", "rules": [
        {"kind": "consent", "channel": "sms"}, {"kind": "attribute", "attr": "address.city", "op": "exists"},
    ]}},
]
for attr in ("timeZone", "score", "tags", "loyalty.points", "person.name.firstName", "person.name", "weird", "obj",
             "flag", "address.city"):
    for op, values in {
        "eq": ["Europe/Paris", 10, 10.0, True, False, "10", '{"a":1}', "[1,2]", "Paris", "Zoë", 0],
        "ne": ["Europe/Paris", 10, "gold", '{"a":1}'],
        "lt": [10, 10.5, "Europe/", "M", 0],
        "le": [10, "Europe/Paris"],
        "gt": [10000, 0, "America/", ""],
        "ge": [10.5, "Europe/Paris", -3],
        "in": [["Europe/Paris", "Asia/Tokyo"], [10, "golfing", True], ["[1,2]", '{"a":1}'], [0, 1000]],
        "contains": ["golf", 3, True, "", "Paris", "o", 1],
        "startswith": ["Europe/", "", "Z", "Zo", "golf", "{"],
        "exists": [None],
    }.items():
        for value in values:
            rule = {"kind": "attribute", "attr": attr, "op": op}
            if op != "exists":
                rule["value"] = value
            RULES.append(rule)
for attr in ("id", "identities.email", "identities.phone", "identities.push_token", "identities.pushToken",
             "consent.email", "suppressed"):
    for op, value in [("exists", None), ("eq", True), ("eq", 1), ("eq", "odd-01"), ("startswith", "odd-"),
                      ("contains", "@example"), ("contains", True), ("lt", "p0000100"), ("ge", 1), ("in", ["odd-11", 1]),
                      ("ne", "odd@example.org"), ("startswith", "+33"), ("gt", 0)]:
        rule = {"kind": "attribute", "attr": attr, "op": op}
        if op != "exists":
            rule["value"] = value
        RULES.append(rule)


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    directory = tmp_path_factory.mktemp("audience")
    csv_path = generate_profiles_csv(directory / "profiles.csv", 3000, seed=7)
    store = ProfileStore(directory / "data")
    for chunk in iter_import_chunks(csv_path, lines_per_chunk=700):
        summary = store.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
        assert summary.rejected == 0, summary.rejections
    odd = "\n".join(json.dumps(p) for p in ODD_PROFILES)
    assert store.import_jsonl_chunk(odd, 1).imported == len(ODD_PROFILES)
    profiles = [p for chunk in store.iter_audience({"kind": "all"}, chunk_size=997) for p in chunk]
    yield store, profiles
    store.close()


def test_population_is_varied(population):
    store, profiles = population
    assert len(profiles) == 3000 + len(ODD_PROFILES) == store.count()
    zones = {p.attributes.get("timeZone") for p in profiles if isinstance(p.attributes.get("timeZone"), str)}
    assert len(zones) > 10
    assert 0 < sum(p.suppressed for p in profiles) < 200
    assert set(store.list_names()) == {"vip", "newsletter", "beta"}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: json.dumps(r, ensure_ascii=False)[:90])
def test_count_and_members_match_python_evaluation(population, rule):
    store, profiles = population
    expected = sorted(p.id for p in profiles if matches(rule, p))
    assert store.count_audience(rule) == len(expected)
    got = [p.id for chunk in store.iter_audience(rule, chunk_size=250) for p in chunk]
    assert got == expected
    negated = {"kind": "not", "rule": rule}
    assert store.count_audience(negated) == len(profiles) - len(expected) == sum(matches(negated, p) for p in profiles)


def test_realistic_rules_select_a_real_share(population):
    store, profiles = population
    marketing = RULES[8]
    count = store.count_audience(marketing)
    assert 0.05 * len(profiles) < count < 0.6 * len(profiles)
    assert 0 < store.count_audience({"kind": "in_list", "list": "vip"}) < len(profiles) / 5


def test_iter_audience_yields_each_member_once_in_chunks_and_resumes(population):
    store, profiles = population
    rule = {"kind": "consent", "channel": "email"}
    chunks = list(store.iter_audience(rule, chunk_size=100))
    ids = [p.id for chunk in chunks for p in chunk]
    assert len(ids) == len(set(ids)) == store.count_audience(rule)
    assert ids == sorted(ids)
    assert all(len(chunk) == 100 for chunk in chunks[:-1]) and 0 < len(chunks[-1]) <= 100
    resumed = [p.id for chunk in store.iter_audience(rule, chunk_size=100, after_id=ids[449]) for p in chunk]
    assert resumed == ids[450:]


def test_iter_audience_rows_is_the_same_audience_without_models(population):
    store, _ = population
    rule = RULES[8]
    profiles = [p for chunk in store.iter_audience(rule, chunk_size=300) for p in chunk]
    rows = [r for chunk in store.iter_audience_rows(rule, chunk_size=300) for r in chunk]
    assert [r[0] for r in rows] == [p.id for p in profiles]
    first, row = profiles[0], rows[0]
    assert row[1:8] == (first.identities.email, first.identities.phone, first.identities.push_token,
                        1, int(first.consent.sms), int(first.consent.push), 0)
    assert json.loads(row[8]) == first.attributes
    paths = ["person.name.firstName", "timeZone", "nothing.here", "identities.email", "person.name"]
    picked = next(store.iter_audience_rows(rule, attributes=paths))
    assert picked[0][8:] == (first.attributes["person"]["name"]["firstName"], first.attributes["timeZone"], None,
                             first.identities.email, STRUCTURED_VALUE)  # an object is not a printable value
    with pytest.raises(ValidationFailed):
        next(store.iter_audience_rows(rule, attributes=["x') --"]))


def test_marketing_count_scans_once_and_pages_follow_the_primary_key(population):
    store, _ = population
    for rule in RULES[:12]:
        plan = " | ".join(store.explain(rule))
        assert "TEMP B-TREE" not in plan, plan
        paged = " | ".join(store.explain(rule, paged=True))
        assert "SEARCH profiles USING PRIMARY KEY (id>?)" in paged, paged
        assert "TEMP B-TREE" not in paged, paged
    in_list = " | ".join(store.explain({"kind": "in_list", "list": "vip"}))
    assert "list_members USING PRIMARY KEY" in in_list


def test_compile_binds_every_value():
    where, params = compile_rule({"kind": "and", "rules": [
        {"kind": "attribute", "attr": "timeZone", "op": "eq", "value": "x' OR 1=1 --"},
        {"kind": "attribute", "attr": "person.name.firstName", "op": "startswith", "value": "Ana"},
        {"kind": "in_list", "list": "vip"},
    ]})
    assert "x'" not in where and "Ana" not in where and "vip" not in where
    assert params == ["x' OR 1=1 --", 3, "Ana", "vip"]
    assert "json_extract(attributes, '$.person.name.firstName')" in where
    assert "time_zone IS ?" in where


def test_injection_in_values_is_harmless(population):
    store, _ = population
    before = store.count()
    for value in ["' OR '1'='1", "x'); DROP TABLE profiles; --", '" OR 1=1 --', "%", "_"]:
        for op in ("eq", "contains", "startswith", "lt"):
            rule = {"kind": "attribute", "attr": "person.name.firstName", "op": op, "value": value}
            expected = sum(matches(rule, p) for p in population[1])
            assert store.count_audience(rule) == expected
    assert store.count() == before


def test_injection_in_paths_and_list_names_is_refused(population):
    store, _ = population
    bad_paths = ["a') OR 1=1 --", "a.b'", "a..b", "1abc", "a b", "$.a", "a[0]", ""]
    for path in bad_paths:
        with pytest.raises(ValidationFailed) as caught:
            store.count_audience({"kind": "attribute", "attr": path, "op": "exists"})
        assert caught.value.errors and caught.value.errors[0]["field"] == "attr"
        # a rule built without validation is checked again by the compiler
        forged = AttributeRule.model_construct(kind="attribute", attr=path, op="exists", value=None)
        with pytest.raises(ValidationFailed):
            compile_rule(forged)
    with pytest.raises(ValidationFailed):
        store.count_audience({"kind": "in_list", "list": "vip' OR '1'='1"})
    forged_list = InListRule.model_construct(kind="in_list", list="vip' OR '1'='1")
    assert store.count_audience(forged_list) == 0
    with sqlite3.connect(store.path) as check:
        assert check.execute("SELECT count(*) FROM profiles").fetchone()[0] == store.count()


@pytest.mark.parametrize("rule, field", [
    ({"kind": "attribute", "attr": "a", "op": "startswith", "value": 3}, "value"),
    ({"kind": "attribute", "attr": "a", "op": "in", "value": []}, "value"),
    ({"kind": "attribute", "attr": "a", "op": "eq"}, "value"),
    ({"kind": "attribute", "attr": "a", "op": "exists", "value": 1}, "value"),
    ({"kind": "attribute", "attr": "a", "op": "lt", "value": True}, "value"),
    ({"kind": "attribute", "attr": "a", "op": "like", "value": "x"}, "op"),
    ({"kind": "attribute", "attr": "identities.fax", "op": "exists"}, "attr"),
    ({"kind": "attribute", "attr": "lists", "op": "exists"}, "attr"),
    ({"kind": "consent", "channel": "fax"}, "channel"),
    ({"kind": "and", "rules": []}, "rules"),
    ({"kind": "or", "rules": [{"kind": "in_list", "list": "a b"}]}, "rules.0.list"),
    ({"kind": "not", "rule": {"kind": "all", "extra": 1}}, "rule.extra"),
    ({"kind": "maybe"}, "kind"),
    ({"kind": "and", "rules": [{"kind": "not", "rule": {"op": "eq"}}]}, "rules.0.rule.kind"),
])
def test_invalid_rules_give_field_errors(rule, field):
    with pytest.raises(ValidationFailed) as caught:
        compile_rule(rule)
    assert field in [e["field"] for e in caught.value.errors], caught.value.errors


def test_deep_nesting_is_refused_with_a_message():
    rule: dict = {"kind": "all"}
    for _ in range(40):
        rule = {"kind": "not", "rule": rule}
    with pytest.raises(ValidationFailed, match="nests deeper"):
        compile_rule(rule)


def test_audience_model_round_trips_as_json():
    audience = Audience(
        id="eu-marketing", name="EU marketing", description="email consent, Europe",
        rule={"kind": "and", "rules": [{"kind": "consent", "channel": "email"},
                                       {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "Europe/"}]},
    )
    again = Audience.model_validate_json(audience.model_dump_json())
    assert again == audience
    assert RULE.validate_python(json.loads(audience.model_dump_json())["rule"]) == audience.rule
    for bad_id in ("EU", "eu_marketing", "-eu", "eu-", ""):
        with pytest.raises(ValidationError):
            Audience(id=bad_id, name="x", rule={"kind": "all"})
