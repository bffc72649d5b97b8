"""Personalization templates: substitution, defaults, formatting, escaping, sandbox and syntax errors."""

from __future__ import annotations

import json

import pytest

from store.templates import (
    CompiledContent, RenderError, TemplateSyntaxError, check_content, compile_content, compile_template, profile_view,
)
from store.errors import ValidationFailed
from store.models.campaign import Content, EmailContent, PushContent, SmsContent
from store.models.common import Channel
from store.profiles.db import ProfileStore

FIELD = "draft.content.email.subject"
ADA = profile_view(
    "p0000001",
    {"person": {"name": {"firstName": "Ada", "lastName": "Lovelace"}}, "loyalty": {"points": 1200, "tier": "gold"},
     "address": {"city": "Paris"}, "_acme": {"segment": "b2b"}},
    {"email": "ada@example.com", "phone": "+33612345678", "push_token": "tok-12345678"},
)


def render(text: str, profile=ADA, context=None, *, html: bool = False) -> str:
    return compile_template(text, FIELD, html=html).render(profile, context)


def syntax_error(text: str, field: str = FIELD) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(text, field)
    return caught.value


# ---- substitution --------------------------------------------------------------------------------------

def test_plain_text_renders_unchanged():
    assert render("Hello, world } { }} {") == "Hello, world } { }} {"
    assert render("") == ""


def test_nested_paths_read_attributes():
    assert render("Hi {{profile.person.name.firstName}} {{profile.person.name.lastName}}!") == "Hi Ada Lovelace!"
    assert render("{{ profile._acme.segment }}") == "b2b"


def test_whitespace_and_newlines_inside_braces():
    assert render("{{   profile.address.city\n  |\n default :  \"x\"   }}") == "Paris"


def test_profile_fields_id_and_identities():
    assert render("{{profile.id}} {{profile.identities.email}} {{profile.identities.phone}}") == (
        "p0000001 ada@example.com +33612345678")
    assert render("{{profile.identities.push_token}}={{profile.identities.pushToken}}") == "tok-12345678=tok-12345678"


def test_context_paths():
    context = {"orderId": "A-17", "order": {"total": 42.5, "items": 3}}
    text = "Order {{context.orderId}}: {{context.order.items}} items, {{ context.order.total }} EUR"
    assert render(text, context=context) == "Order A-17: 3 items, 42.5 EUR"


def test_missing_context_fails_or_takes_default():
    with pytest.raises(RenderError, match=r"context\.orderId"):
        render("{{context.orderId}}")
    assert render('{{context.orderId | default: "n/a"}}', context={}) == "n/a"


def test_paths_list_what_is_used():
    template = compile_template(
        "{{profile.person.name.firstName}} {{ profile.person.name.firstName }} {{profile.id}} "
        '{{profile.identities.pushToken}} {{context.orderId | default: "-"}} {{ "{{" }}', FIELD)
    assert template.paths == {"person.name.firstName", "id", "identities.push_token"}
    assert template.context_paths == {"orderId"}
    assert compile_template("no placeholders", FIELD).paths == frozenset()


# ---- defaults, missing and null ------------------------------------------------------------------------

def test_default_used_when_missing_or_null():
    text = '{{ profile.person.name.nickname | default: "friend" }}'
    assert render(text) == "friend"
    assert render(text, profile_view("p2", {"person": {"name": {"nickname": None}}})) == "friend"
    assert render(text, profile_view("p3", {"person": {"name": {"nickname": "Ady"}}})) == "Ady"


def test_default_not_used_for_empty_string():
    assert render('[{{ profile.x | default: "friend" }}]', profile_view("p", {"x": ""})) == "[]"


def test_default_with_escaped_quotes_and_backslash():
    assert render(r'{{profile.nope | default: "say \"hi\" \\ o/"}}') == 'say "hi" \\ o/'
    assert render('{{profile.nope | default: "}} {{ |"}}') == "}} {{ |"
    assert render('{{profile.nope | default: ""}}!') == "!"


def test_missing_without_default_names_the_path():
    with pytest.raises(RenderError) as caught:
        render("Hi {{profile.person.name.nickname}}")
    assert caught.value.path == "profile.person.name.nickname"
    assert caught.value.field == FIELD
    assert str(caught.value) == f"{FIELD}: profile.person.name.nickname is missing or null and has no default"


def test_null_without_default_fails():
    with pytest.raises(RenderError, match=r"profile\.person\.name\.firstName is missing or null"):
        render("{{profile.person.name.firstName}}", profile_view("p", {"person": {"name": {"firstName": None}}}))


def test_path_through_a_non_object_is_missing():
    profile = profile_view("p", {"person": "Ada", "tags": ["a"]})
    with pytest.raises(RenderError, match=r"profile\.person\.name"):
        render("{{profile.person.name}}", profile)
    assert render('{{profile.tags.first | default: "-"}}', profile) == "-"
    assert render('{{profile.identities.email | default: "none"}}', profile) == "none"


# ---- value formatting ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (1200, "1200"), (-3, "-3"), (12.0, "12"), (12.5, "12.5"), (0.1, "0.1"), (1e20, "1e+20"),
    (True, "true"), (False, "false"), (0, "0"), ("0", "0"),
])
def test_numbers_and_booleans(value, text):
    assert render("{{profile.v}}", profile_view("p", {"v": value})) == text


def test_lists_and_objects_are_not_values():
    profile = profile_view("p", {"tags": ["a", "b"], "person": {"name": {}}})
    with pytest.raises(RenderError, match=r"^draft\.content\.email\.subject: profile\.tags is a list, not a value$"):
        render("{{profile.tags}}", profile)
    with pytest.raises(RenderError, match=r"profile\.person\.name is an object, not a value"):
        render('{{profile.person.name | default: "x"}}', profile)


# ---- HTML ----------------------------------------------------------------------------------------------

def test_html_mode_escapes_values_only():
    profile = profile_view("p", {"name": "<b>Tom & \"Jerry\"</b>", "n": 3})
    text = '<p class="x">Hi {{profile.name}} ({{profile.n}}) {{profile.nope | default: "<i>you</i>"}} {{ "<{{" }}</p>'
    assert render(text, profile, html=True) == (
        '<p class="x">Hi &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; (3) <i>you</i> <{{</p>')
    assert render("{{profile.name}}", profile) == "<b>Tom & \"Jerry\"</b>"


def test_html_mode_escapes_context_values():
    assert render("{{context.q}}", context={"q": "a<b"}, html=True) == "a&lt;b"


# ---- literal braces ------------------------------------------------------------------------------------

def test_literal_braces():
    assert render('{{ "{{" }}profile.x{{"}}"}}') == "{{profile.x}}"
    assert render('a {{ "" }}b') == "a b"
    assert render('{{ "{%" }} if') == "{% if"


# ---- syntax errors: message, line, column --------------------------------------------------------------

MULTILINE = 'Hello\n  dear {{profil.name}}\n'


def test_unknown_root_with_line_and_column():
    error = syntax_error(MULTILINE)
    assert (error.field, error.line, error.column) == (FIELD, 2, 10)
    assert error.detail == f"{FIELD}: line 2, column 10: unknown root 'profil' (use profile. or context.)"
    assert error.errors == [{"field": FIELD, "message": "line 2, column 10: unknown root 'profil' (use profile. or context.)"}]
    assert isinstance(error, ValidationFailed) and error.status == 422


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("a\nb\nHi, you {{ profile.x", 3, 21, "unclosed '{{' opened at line 3, column 9"),
    ("a\n{{ profile.x | default:", 2, 24, "unclosed '{{' opened at line 2, column 1"),
    ("x {{", 1, 5, "unclosed '{{' opened at line 1, column 3"),
    ("{{ profile.x, see you", 1, 13, "unclosed '{{' opened at line 1, column 1"),
    ('a\n {{ profile.x | default: "oops }}\n', 3, 1, "unclosed string opened at line 2, column 26"),
    ("line one\n{{ profile.name | upper }}", 2, 19, "unknown filter 'upper' (only default: \"...\" is allowed)"),
    ("{{ profile.name | }}", 1, 19, "expected a filter name after '|' (only default: \"...\" is allowed)"),
    ('{{ profile.a | default: "x" | default: "y" }}', 1, 31, "default is given twice"),
    ('{{ "x" | default: "y" }}', 1, 8, "a default only applies to a path, not to a string"),
    ('{{ profile.a | default "x" }}', 1, 24, "unexpected '\"': expected ':' after default, as in default: \"friend\""),
    ("{{ profile.a | default: friend }}", 1, 25, "unexpected 'f': expected a string in double quotes after default:"),
    ('{{ profile.a | default: "a\\n" }}', 1, 27, "unknown escape '\\n' (only \\\" and \\\\)"),
    ("\n\n   {{  }}", 3, 8, "empty expression (write a path such as profile.person.name.firstName)"),
    ("{{ profile }}", 1, 4, "profile needs a path, e.g. profile.person.name.firstName"),
    ("{{ context }}", 1, 4, "context needs a path, e.g. context.orderId"),
    ("{{ profile.a. }}", 1, 14, "a name after '.' must start with a letter or _"),
    ("{{ profile.a.1b }}", 1, 14, "a name after '.' must start with a letter or _"),
    ("{{ profile.a b }}", 1, 14, "unexpected 'b': expected '}}' or | default: \"...\""),
    ("{{ 42 }}", 1, 4, "unexpected '4': expected a path such as profile.person.name.firstName or a \"string\""),
    ("x\n{% if profile.vip %}", 2, 1, "'{%' (conditions, loops) is not supported; for the text write {{ \"{%\" }}"),
    ("{{ profile.identities }}", 1, 4, "unknown profile field 'profile.identities' (templates read profile.id, "
                                       "profile.identities.email, .phone, .push_token and attributes)"),
    ("{{ profile.consent.email }}", 1, 4, "unknown profile field 'profile.consent.email' (templates read profile.id, "
                                          "profile.identities.email, .phone, .push_token and attributes)"),
])
def test_syntax_errors_point_at_the_token(text, line, column, message):
    error = syntax_error(text)
    assert (error.line, error.column, error.message) == (line, column, message)
    assert error.errors == [{"field": FIELD, "message": f"line {line}, column {column}: {message}"}]


# ---- sandbox: only data is read, nothing is executed ---------------------------------------------------

@pytest.mark.parametrize(("text", "column", "message"), [
    ("{{profile.__class__}}", 11, "names starting with '__' are not allowed ('__class__')"),
    ("{{ profile.x.__init__.__globals__ }}", 14, "names starting with '__' are not allowed ('__init__')"),
    ("{{ __import__ }}", 4, "names starting with '__' are not allowed ('__import__')"),
    ("{{ profile.x() }}", 13, "unexpected '(': calls are not allowed"),
    ("{{ ''.join }}", 4, "unexpected \"'\": strings take double quotes"),
    ('{{ "".join }}', 6, "unexpected '.': attribute access is only for paths of names"),
    ("{{ profile.x[0] }}", 13, "unexpected '[': indexing is not allowed"),
    ("{{ profile.x | safe }}", 16, "unknown filter 'safe' (only default: \"...\" is allowed)"),
    ("{{ profile.x | attr: \"__class__\" }}", 16, "unknown filter 'attr' (only default: \"...\" is allowed)"),
    ("{{ config }}", 4, "unknown root 'config' (use profile. or context.)"),
    ("{{ self._TemplateReference__context }}", 4, "unknown root 'self' (use profile. or context.)"),
])
def test_sandbox_rejects_code_at_compile_time(text, column, message):
    error = syntax_error(text)
    assert (error.line, error.column, error.message) == (1, column, message)


def test_rendering_never_touches_python_attributes():
    class Person:
        name = "attribute, not data"

        def __getitem__(self, key):
            raise KeyError(key)

    assert render('{{profile.person.name | default: "data only"}}', profile_view("p", {"person": Person()})) == "data only"
    assert render('{{profile.upper | default: "-"}}', profile_view("p", "a string, not a mapping")) == "-"


# ---- flat rows (the sending fast path) -----------------------------------------------------------------

def test_bound_renderer_reads_one_value_per_path_by_position():
    template = compile_template(
        '{{profile.id}}: {{profile.person.name.firstName}} <{{profile.identities.pushToken}}> '
        '{{profile.loyalty.points}} {{profile.nope | default: "-"}} {{context.orderId}}', FIELD, html=True)
    paths = ["id", "identities.push_token", "loyalty.points", "nope", "person.name.firstName"]
    render = template.bind(paths, offset=1)
    assert render(("ignored", "p1", "t", 7.0, None, "A&B"), {"orderId": "o<1"}) == "p1: A&amp;B <t> 7 - o&lt;1"
    with pytest.raises(RenderError, match="profile.person.name.firstName"):
        render(("ignored", "p1", "t", 7.0, None, None), {"orderId": 1})
    with pytest.raises(ValueError, match="missing"):
        template.bind(["id"])


def test_rows_from_the_profile_store_render_both_ways(tmp_path):
    """The two ways the engine can feed a run: JSON attributes per row, or only the values a template uses."""
    store = ProfileStore(tmp_path / "data")
    try:
        records = [
            {"id": "p1", "attributes": {"person": {"name": {"firstName": "Ada"}}, "loyalty": {"points": 1200}},
             "identities": {"email": "ada@example.com"}},
            {"id": "p2", "attributes": {"loyalty": {"points": 2.5}}, "identities": {"phone": "+33612345678"}},
        ]
        store.import_jsonl_chunk("".join(json.dumps(r) + "\n" for r in records), 1)
        template = compile_template('{{profile.id}} {{profile.person.name.firstName | default: "friend"}} '
                                    "{{profile.loyalty.points}} {{profile.identities.email | default: \"-\"}}", FIELD)
        expected = ["p1 Ada 1200 ada@example.com", "p2 friend 2.5 -"]

        nested = [template.render(profile_view(row[0], json.loads(row[8]), {"email": row[1], "phone": row[2],
                                                                            "push_token": row[3]}))
                  for rows in store.iter_audience_rows({"kind": "all"}) for row in rows]
        assert nested == expected

        order = sorted(template.paths)
        render = template.bind(order, offset=8)
        flat = [render(row)
                for rows in store.iter_audience_rows({"kind": "all"}, attributes=order) for row in rows]
        assert flat == expected
    finally:
        store.close()


# ---- content per channel -------------------------------------------------------------------------------

def email(subject="Hi {{profile.person.name.firstName}}", preheader="", body="<p>{{profile.address.city}}</p>"):
    return Content(email=EmailContent(subject=subject, preheader=preheader, body=body))


def test_compile_content_renders_every_field():
    content = email(preheader='{{ profile.loyalty.tier | default: "member" }}', body="<b>{{context.note}}</b>")
    compiled = compile_content(content, Channel.email)
    assert isinstance(compiled, CompiledContent)
    assert compiled.paths == {"person.name.firstName", "loyalty.tier"}
    assert compiled.context_paths == {"note"}
    assert compiled.render(ADA, {"note": "<3"}) == {"subject": "Hi Ada", "preheader": "gold", "body": "<b>&lt;3</b>"}


def test_compile_content_plain_channels_do_not_escape():
    content = Content(sms=SmsContent(text="{{context.code}}"), push=PushContent(title="{{context.code}}", body="x"))
    assert compile_content(content, Channel.sms).render(ADA, {"code": "<1>"}) == {"text": "<1>"}
    assert compile_content(content, Channel.push).render(ADA, {"code": "<1>"}) == {"title": "<1>", "body": "x"}


def test_compile_content_without_the_channel():
    with pytest.raises(ValidationFailed) as caught:
        compile_content(email(), Channel.sms, "live.content")
    assert caught.value.errors == [
        {"field": "live.content.sms", "message": "this version sends sms but has no sms content"}]


def test_compile_content_names_the_field_with_the_prefix():
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_content(email(body="ok\n{{ profile.x | lower }}"), Channel.email, "live.content")
    assert caught.value.errors == [{"field": "live.content.email.body",
                                    "message": "line 2, column 16: unknown filter 'lower' (only default: \"...\" is allowed)"}]


def test_check_content_reports_every_bad_field_at_once():
    content = Content(
        email=EmailContent(subject="{{profil.x}}", preheader="fine {{profile.x}}", body="<p>\n  {{ profile.x() }}</p>"),
        sms=SmsContent(text="{{ context.code"),
        push=PushContent(title="ok", body="{{ profile.x | upper }}"),
    )
    with pytest.raises(ValidationFailed) as caught:
        check_content(content)
    assert caught.value.errors == [
        {"field": "draft.content.email.subject", "message": "line 1, column 3: unknown root 'profil' (use profile. or context.)"},
        {"field": "draft.content.email.body", "message": "line 2, column 15: unexpected '(': calls are not allowed"},
        {"field": "draft.content.sms.text", "message": "line 1, column 16: unclosed '{{' opened at line 1, column 1"},
        {"field": "draft.content.push.body",
         "message": "line 1, column 16: unknown filter 'upper' (only default: \"...\" is allowed)"},
    ]
    assert caught.value.detail.startswith("4 templates have errors: draft.content.email.subject: line 1, column 3:")


def test_check_content_accepts_good_and_empty_content():
    check_content(email())
    check_content(Content())
    check_content(Content(sms=SmsContent(text="")))
