"""Bounded input (issue 8 item 5): every documented limit refused just above it and accepted at it,
through the API (the in-process ASGI app) and through the CLI where the CLI reads the input."""

from __future__ import annotations

import json

import httpx
import pytest

from store.templates import compile_template
from store.errors import ValidationFailed
from store.limits import (
    CONTENT_FIELD_BYTES, CONTEXT_BYTES, JSON_DEPTH, NAME_CHARS, REQUEST_BODY_BYTES, TAG_CHARS, TAGS,
    TEMPLATE_EXPRESSIONS,
)

from .admin_http import http  # noqa: F401  (fixture)
from .test_cli import demo, demo_template, run  # noqa: F401  (fixtures)
from .test_engine import api_campaign

MB = 1024 * 1024
CONTENT_FIELDS = {"email": ("subject", "preheader", "body"), "sms": ("text",), "push": ("title", "body")}


def campaign_body(name: str = "Spring sale", *, tags: list[str] | None = None, content: dict | None = None) -> dict:
    return {"campaign": {"name": name, "type": "action", "category": "marketing", "tags": tags or []},
            "version": {"channel": "email", "content": content or {"email": {"subject": "Hi", "body": "<p>Sale</p>"}}}}


def exactly(size: int) -> str:
    """``size`` UTF-8 bytes of two-byte characters: a byte limit is not a character limit."""
    assert size % 2 == 0
    return "é" * (size // 2)


def refused(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and all(w in problem["detail"] for w in words), problem["detail"]
    return problem


# names, tags, content fields, expressions ---------------------------------------------------------------
async def test_a_name_takes_200_characters_not_201(http):
    assert (await http.post("/v1/campaigns", json=campaign_body("n" * NAME_CHARS))).status_code == 201
    problem = refused(await http.post("/v1/campaigns", json=campaign_body("n" * (NAME_CHARS + 1))), 422, "200")
    assert [e["field"] for e in problem["errors"]] == ["campaign.name"]


async def test_fifty_tags_of_64_characters_and_no_more(http):
    tags = [f"t{i:02d}" + "x" * (TAG_CHARS - 3) for i in range(TAGS)]
    assert (await http.post("/v1/campaigns", json=campaign_body(tags=tags))).status_code == 201
    problem = refused(await http.post("/v1/campaigns", json=campaign_body(tags=[*tags, "one-more"])), 422, "50")
    assert problem["errors"][0]["field"] == "campaign.tags"
    problem = refused(await http.post("/v1/campaigns", json=campaign_body(tags=["x" * (TAG_CHARS + 1)])), 422,
                      f"at most {TAG_CHARS} characters")
    assert problem["errors"][0]["field"] == "campaign.tags"


async def test_each_content_field_takes_256_kb_of_utf8_and_no_byte_more(http):
    full = {channel: {field: exactly(CONTENT_FIELD_BYTES) for field in fields} for channel, fields in CONTENT_FIELDS.items()}
    assert (await http.post("/v1/campaigns", json=campaign_body(content=full))).status_code == 201
    for channel, fields in CONTENT_FIELDS.items():
        for field in fields:
            over = json.loads(json.dumps(full))
            over[channel][field] += "x"
            problem = refused(await http.post("/v1/campaigns", json=campaign_body(content=over)), 422,
                              f"{channel}.{field}", "256 KB")
            assert problem["errors"][0]["field"] == "version.content"
            assert f"{CONTENT_FIELD_BYTES + 1:,} bytes" in problem["detail"]


async def test_a_template_takes_10000_expressions_not_10001(http):
    at_limit = {"email": {"subject": "Hi", "body": "{{profile.x}}" * TEMPLATE_EXPRESSIONS}}
    assert (await http.post("/v1/campaigns", json=campaign_body(content=at_limit))).status_code == 201
    over = {"email": {"subject": "Hi", "body": "{{profile.x}}" * (TEMPLATE_EXPRESSIONS + 1)}}
    problem = refused(await http.post("/v1/campaigns", json=campaign_body(content=over)), 422, "10,000", "expressions")
    assert problem["errors"][0]["field"] == "draft.content.email.body"


def test_compiling_refuses_the_expression_past_the_limit_where_it_starts():
    compile_template("{{profile.x}}" * TEMPLATE_EXPRESSIONS, "body")
    with pytest.raises(ValidationFailed, match=r"line 1, column 130001: more than 10,000"):
        compile_template("{{profile.x}}" * (TEMPLATE_EXPRESSIONS + 1), "body")


async def test_content_check_a_viewer_may_call_is_bounded_the_same_way(http):
    full = {"sms": {"text": exactly(CONTENT_FIELD_BYTES)}}
    answer = await http.post("/v1/content/check", json=full)
    assert answer.status_code == 200 and answer.json() == {"errors": []}
    problem = refused(await http.post("/v1/content/check", json={"sms": {"text": full["sms"]["text"] + "x"}}),
                      422, "sms.text", "256 KB")
    assert problem["errors"][0]["field"] == "draft.content.sms.text"
    many = await http.post("/v1/content/check", json={"sms": {"text": "{{profile.x}}" * (TEMPLATE_EXPRESSIONS + 1)}})
    assert many.status_code == 200 and "more than 10,000" in many.json()["errors"][0]["message"]


async def test_audience_configuration_and_display_names_take_200_characters(http):
    audience = {"id": "all", "name": "a" * NAME_CHARS, "rule": {"kind": "all"}}
    assert (await http.put("/v1/audiences/all", json=audience)).status_code == 200
    refused(await http.put("/v1/audiences/all", json={**audience, "name": "a" * (NAME_CHARS + 1)}), 422, "name", "200")
    config = {"id": "sms", "name": "c" * NAME_CHARS, "channel": "sms", "category": "marketing", "sender": "SHOP"}
    assert (await http.put("/v1/channel-configurations/sms", json=config)).status_code == 200
    refused(await http.put("/v1/channel-configurations/sms", json={**config, "name": "c" * (NAME_CHARS + 1)}), 422,
            "name", "200")
    assert (await http.post("/v1/users", json={"name": "ann", "role": "viewer",
                                               "display_name": "d" * NAME_CHARS})).status_code == 201
    refused(await http.post("/v1/users", json={"name": "bob", "role": "viewer", "display_name": "d" * (NAME_CHARS + 1)}),
            422, "display_name", "200")


# request bodies --------------------------------------------------------------------------------------------
async def test_a_body_of_8_mb_is_read_and_one_byte_more_is_413(http):
    def padded(size: int) -> bytes:
        document = b'{"email": {"subject": "Hi"}}'
        return document + b" " * (size - len(document))  # whitespace after a JSON value is still JSON

    answer = await http.post("/v1/content/check", content=padded(REQUEST_BODY_BYTES),
                             headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"errors": []}
    refused(await http.post("/v1/content/check", content=padded(REQUEST_BODY_BYTES + 1),
                            headers={"content-type": "application/json"}), 413, "8 MB")


class Upload:
    """A streamed body that records how much of it the server asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.consumed = total, chunk, 0

    async def __aiter__(self):
        while self.consumed < self.total:
            self.consumed += self.chunk
            yield b" " * self.chunk


async def test_a_50_mb_upload_is_refused_before_it_is_read_whole(http):
    upload = Upload(50 * MB)
    refused(await http.post("/v1/campaigns", content=upload, headers={"content-type": "application/json"}), 413, "8 MB")
    assert upload.consumed <= REQUEST_BODY_BYTES + upload.chunk  # stopped at the limit, not at 50 MB

    declared = Upload(50 * MB)
    refused(await http.post("/v1/campaigns", content=declared,
                            headers={"content-type": "application/json", "content-length": str(50 * MB)}), 413, "8 MB")
    assert declared.consumed == 0  # a Content-Length over the limit is refused before reading anything


async def test_profile_import_chunks_are_not_held_to_the_request_limit(http):
    lines = [json.dumps({"id": f"p{i}", "attributes": {"note": "n" * 90_000}}) for i in range(100)]
    chunk = {"format": "jsonl", "text": "\n".join(lines) + "\n"}
    assert len(json.dumps(chunk)) > REQUEST_BODY_BYTES  # a chunk's size is its records', whatever it is
    answer = await http.post("/v1/profiles/import-chunk", json=chunk)
    assert answer.status_code == 200 and answer.json()["imported"] == 100


async def test_json_nested_100000_levels_deep_is_a_422_not_a_crash(http):
    problem = refused(await http.post("/v1/campaigns", content=b"[" * 100_000 + b"]" * 100_000,
                                      headers={"content-type": "application/json"}), 422, "64 levels")
    assert problem["errors"] == [{"field": "(body)", "message": "the JSON nests deeper than 64 levels; flatten it"}]


# trigger contexts ----------------------------------------------------------------------------------------
@pytest.fixture
async def live_api_campaign(root, engine) -> str:
    campaign = await root.create_campaign(api_campaign())
    await root.activate(campaign.id)
    engine.run_until_idle()
    return campaign.id


def context_of(size: int) -> dict:
    """A context that is exactly ``size`` bytes as compact JSON."""
    return {"code": "c" * (size - len('{"code":""}'))}


async def test_a_trigger_context_takes_200_kb(http, live_api_campaign):
    path = f"/v1/campaigns/{live_api_campaign}/trigger"
    answer = await http.post(path, json={"profiles": ["p01"], "context": context_of(CONTEXT_BYTES)})
    assert answer.status_code == 202, answer.text
    problem = refused(await http.post(path, json={"profiles": ["p01"], "context": context_of(CONTEXT_BYTES + 1)}),
                      422, "200 KB")
    assert problem["errors"][0]["field"] == "context"


async def test_a_body_nests_64_levels_deep_not_65(http, live_api_campaign):
    def body(levels: int) -> dict:  # the body is the first level, its context the second
        context: dict = {}
        for _ in range(levels - 2):
            context = {"a": context}
        return {"profiles": ["p01"], "context": context}

    path = f"/v1/campaigns/{live_api_campaign}/trigger"
    assert (await http.post(path, json=body(JSON_DEPTH))).status_code == 202
    refused(await http.post(path, json=body(JSON_DEPTH + 1)), 422, "64 levels")


# the CLI -------------------------------------------------------------------------------------------------
def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    assert all(w in lines[0] for w in words), lines[0]


def create_file(tmp_path, **fields) -> str:
    document = {"name": "Spring sale", "type": "action", "category": "marketing",
                "draft": {"channel": "email", "content": {"email": {"subject": "Hi", "body": "<p>Sale</p>"}}}}
    document.update(fields)
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_create_refuses_what_is_over_a_limit_in_one_line(demo, tmp_path, capsys):
    assert run(capsys, "create", "--file", create_file(tmp_path, name="n" * NAME_CHARS))[0] == 0
    one_line_error(*run(capsys, "create", "--file", create_file(tmp_path, name="n" * (NAME_CHARS + 1)))[::2],
                   "name", "200")
    body = {"channel": "email", "content": {"email": {"subject": "Hi", "body": "b" * 10 * MB}}}
    one_line_error(*run(capsys, "create", "--file", create_file(tmp_path, draft=body))[::2], "email.body", "256 KB")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(*run(capsys, "create", "--file", str(deep))[::2], "64 levels")


def test_trigger_reads_its_context_from_a_file(demo, tmp_path, capsys):
    reset = next(r["id"] for r in json.loads(run(capsys, "list", "--json")[1]) if r["name"] == "Password reset")
    profile = json.loads((demo / "outbox" / "email.jsonl").read_text().splitlines()[0])["profileId"]
    context = tmp_path / "context.json"
    context.write_text(json.dumps(context_of(CONTEXT_BYTES), indent=2))  # the limit is on compact JSON
    code, out, err = run(capsys, "trigger", reset, "--profile", profile, "--context", f"@{context}")
    assert code == 0 and "succeeded" in err and "sent 1," in err, err

    context.write_text(json.dumps(context_of(CONTEXT_BYTES + 1)))
    one_line_error(*run(capsys, "trigger", reset, "--profile", profile, "--context", f"@{context}")[::2],
                   "context", "200 KB")
    context.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    one_line_error(*run(capsys, "trigger", reset, "--profile", profile, "--context", f"@{context}")[::2], "64 levels")
    one_line_error(*run(capsys, "trigger", reset, "--context", f"@{tmp_path / 'missing.json'}")[::2], "missing.json")
