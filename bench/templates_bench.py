"""Personalization cost per message: an email subject + HTML body with 3 placeholders (goal ~1-2 µs),
and the cost of compiling a template, which must grow linearly with its size (DESIGN.md 4, "Bounded
input"): a 256 KB template (the content field limit) compiles in under 50 ms, and twice the expressions
take about twice the time (100k and 200k expressions, past the 10,000 limit, to make the ratio visible;
it was 3.8: 1.8 s and 6.8 s, when each string literal searched the rest of the template for a quote).

Beside ``store.templates`` (nested profile, and the flat row values the engine fetches from
SQLite), a hand-written ``str.replace`` loop (the floor for naive substitution) and Jinja2's
``SandboxedEnvironment`` compiled once (what ENGINE-NOTES.md 4 measured). Each method renders the
same profiles; the figure is the median of several runs, per message, and extrapolated to 1M.
Usage: ``python -m bench.templates_bench [N]`` (default 200,000 renders per run).
"""

from __future__ import annotations

import html
import statistics
import sys
import time

from store.templates import compile_content, compile_template, profile_view
from store.limits import CONTENT_FIELD_BYTES, TEMPLATE_EXPRESSIONS
from store.models.campaign import Content, EmailContent
from store.models.common import Channel

SUBJECT = 'Hi {{profile.person.name.firstName | default: "friend"}}, your points are waiting'
BODY = (
    "<html><body><table width=\"600\"><tr><td style=\"font-family:Arial;font-size:16px\">"
    "<h1>Your summer statement</h1><p>You have <b>{{profile.loyalty.points}}</b> points to spend in our "
    "{{profile.address.city}} store before the end of the month.</p><p>Members get early access to the sale, "
    "free delivery on every order and a birthday gift.</p><p><a href=\"https://example.com/account\">"
    "See my account</a></p><p style=\"color:#888;font-size:12px\">You receive this email because you joined "
    "our loyalty programme. <a href=\"https://example.com/unsubscribe\">Unsubscribe</a>.</p></td></tr></table>"
    "</body></html>"
)
JINJA_SUBJECT = 'Hi {{ profile.person.name.firstName | default("friend") }}, your points are waiting'
JINJA_BODY = BODY.replace("{{profile.loyalty.points}}", "{{ profile.loyalty.points }}").replace(
    "{{profile.address.city}}", "{{ profile.address.city }}")
PATHS = ("person.name.firstName", "loyalty.points", "address.city")
FIRST = ["Ada", "Grace", "Léa", "陽翔", "O'Brien", "Zoé", "Tom & Jerry", "Mia"]
CITIES = ["Paris", "München", "東京", "Washington, D.C.", "São Paulo", "<Lyon>"]


def _profiles(count: int = 1000) -> list[dict]:
    return [
        profile_view(f"p{i:07d}", {
            "person": {"name": {"firstName": FIRST[i % len(FIRST)], "lastName": "Smith"}},
            "loyalty": {"points": 100 * i, "tier": "gold"},
            "address": {"city": CITIES[i % len(CITIES)]},
            "timeZone": "Europe/Paris",
        }, {"email": f"user{i}@example.com"})
        for i in range(count)
    ]


def _run(render, items: list, n: int, repeat: int) -> float:
    """Median seconds per render over ``repeat`` runs of ``n`` renders."""
    times = []
    cycles, rest = divmod(n, len(items))
    batch = items * cycles + items[:rest]
    for _ in range(repeat):
        start = time.perf_counter()
        for item in batch:
            render(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / n


def bench_templates(n: int = 200_000, repeat: int = 5) -> dict[str, float]:
    """Seconds per message for each method (plus compile time of our templates)."""
    profiles = _profiles()
    flat_rows = [tuple(_dig(profile["attributes"], p) for p in PATHS) for profile in profiles]

    start = time.perf_counter()
    content = Content(email=EmailContent(subject=SUBJECT, body=BODY))
    compiled = compile_content(content, Channel.email)
    figures = {"compile_s": time.perf_counter() - start}
    assert compiled.paths == set(PATHS)

    def naive(profile):
        attributes = profile["attributes"]
        first = attributes.get("person", {}).get("name", {}).get("firstName") or "friend"
        points = str(attributes["loyalty"]["points"])
        city = html.escape(attributes["address"]["city"])
        return {
            "subject": SUBJECT.replace('{{profile.person.name.firstName | default: "friend"}}', first),
            "body": BODY.replace("{{profile.loyalty.points}}", points).replace("{{profile.address.city}}", city),
        }

    from jinja2.sandbox import SandboxedEnvironment

    jinja_subject = SandboxedEnvironment(autoescape=False).from_string(JINJA_SUBJECT)
    jinja_body = SandboxedEnvironment(autoescape=True).from_string(JINJA_BODY)

    def jinja(profile):
        attributes = profile["attributes"]
        return {"subject": jinja_subject.render(profile=attributes), "body": jinja_body.render(profile=attributes)}

    # Same output everywhere, so the figures compare like with like.
    expected = compiled.render(profiles[6])
    bound = compiled.bind(PATHS)
    assert bound(flat_rows[6]) == expected
    assert naive(profiles[6]) == {"subject": expected["subject"], "body": expected["body"]}
    assert jinja(profiles[6])["body"].replace("&#39;", "&#x27;") == expected["body"]

    figures["templates_nested"] = _run(compiled.render, profiles, n, repeat)
    figures["templates_flat"] = _run(bound, flat_rows, n, repeat)
    figures["str_replace"] = _run(naive, profiles, n, repeat)
    figures["jinja_sandboxed"] = _run(jinja, profiles, n, repeat)
    return figures


EXPRESSION = '<p>Hi {{profile.person.name.firstName | default: "friend"}}, order {{context.orderId}}.</p>\n'


def _template(expressions: int) -> str:
    """HTML with ``expressions`` placeholders, each with a default (a string literal to scan)."""
    return EXPRESSION * (expressions // 2)


def _compile_seconds(text: str, repeat: int = 5) -> float:
    """Median seconds to compile ``text`` as an email body, the limit on expressions lifted."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        compile_template(text, "body", html=True, max_expressions=len(text))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_compile() -> dict[str, float]:
    """Compile time of a full 256 KB field, of the most expressions allowed, and of 100k vs 200k expressions."""
    field = EXPRESSION * (CONTENT_FIELD_BYTES // len(EXPRESSION.encode()))
    return {
        "field_bytes": len(field.encode()), "field_expressions": field.count("{{"), "field_s": _compile_seconds(field),
        "limit_s": _compile_seconds(_template(TEMPLATE_EXPRESSIONS)),
        "100k_s": _compile_seconds(_template(100_000), 3), "200k_s": _compile_seconds(_template(200_000), 3),
    }


def _dig(mapping: dict, path: str):
    for key in path.split("."):
        mapping = mapping[key]
    return mapping


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    figures = bench_templates(n)
    base = figures["templates_nested"]
    rows = [
        ("templates.render (nested profile)", "templates_nested"),
        ("templates bound to row positions (SQLite rows)", "templates_flat"),
        ("naive str.replace loop", "str_replace"),
        ("jinja2 SandboxedEnvironment, precompiled", "jinja_sandboxed"),
    ]
    print(f"email subject + HTML body, 3 placeholders, {n:,} renders per run, median of 5 runs")
    print(f"compile once: {figures['compile_s'] * 1e6:.0f} µs")
    print(f"| {'method':<42} | {'per message':>11} | {'1M messages':>11} | {'vs render':>9} |")
    print(f"| {'-' * 42} | {'-' * 11} | {'-' * 11} | {'-' * 9} |")
    for label, key in rows:
        per = figures[key]
        print(f"| {label:<42} | {per * 1e6:>8.2f} µs | {per * 1e6:>9.2f} s | {per / base:>8.2f}x |")
    c = bench_compile()
    print()
    print("compiling, median of runs (linear: twice the expressions, twice the time)")
    print(f"  a full content field, {c['field_bytes']:,} bytes, {c['field_expressions']:,} expressions: "
          f"{c['field_s'] * 1e3:.1f} ms (goal < 50 ms)")
    print(f"  {TEMPLATE_EXPRESSIONS:,} expressions (the limit): {c['limit_s'] * 1e3:.1f} ms")
    print(f"  100,000 expressions: {c['100k_s']:.3f} s; 200,000: {c['200k_s']:.3f} s; "
          f"ratio {c['200k_s'] / c['100k_s']:.2f} (was 1.8 s and 6.8 s, ratio 3.8)")


if __name__ == "__main__":
    main()
