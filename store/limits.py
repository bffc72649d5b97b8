"""The documented limits on what people and other systems may send (DESIGN.md 4, "Bounded input").

One home for every limit, so the models, the API and the CLI refuse the same things with the same words.
Work on input is linear in its size: ``json_depth`` scans bytes once, without recursion.
"""

from __future__ import annotations

import re

NAME_CHARS = 200                 # campaign, audience and configuration names
DESCRIPTION_CHARS = 2000         # campaign and audience descriptions
MESSAGE_CHARS = 2000             # a requester's message to the approvers
TAGS = 50                        # tags per campaign
TAG_CHARS = 64
CONTENT_FIELD_BYTES = 256 * 1024  # each content field (subject, body, text, ...), UTF-8
TEMPLATE_EXPRESSIONS = 10_000     # {{...}} expressions per template
REQUEST_BODY_BYTES = 8 * 1024 * 1024  # any API request body, profile imports aside
UNBOUNDED_PATHS = frozenset({"/v1/profiles/import-chunk"})  # profile imports: chunks of whole records
CONTEXT_BYTES = 200 * 1024        # the context of a trigger, as JSON
JSON_DEPTH = 64                   # nesting of any JSON document we accept
OUTBOX_PAGE_MESSAGES = 10_000    # outbox messages per answer (`campaigns outbox --limit`)


def in_words(limit: int) -> str:
    """A byte limit as every refusal names it: ``256 KB (262,144 bytes)``, ``8 MB (8,388,608 bytes)``."""
    unit, scale = ("MB", 1024 * 1024) if limit >= 1024 * 1024 else ("KB", 1024)
    return f"{limit // scale} {unit} ({limit:,} bytes)"


_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]')


def json_depth(data: bytes | str, limit: int = JSON_DEPTH) -> int:
    """The deepest nesting of arrays and objects in a JSON text, counted up to ``limit + 1``.

    Python's ``json`` recurses once per level, so 100,000 levels raise RecursionError (or worse)
    before any validation runs: check the depth first, in one linear pass that skips strings whole.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    depth = deepest = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def too_deep(data: bytes | str, limit: int = JSON_DEPTH) -> str | None:
    """A one-line reason when ``data`` nests deeper than ``limit``, else None."""
    if json_depth(data, limit) > limit:
        return f"the JSON nests deeper than {limit} levels; flatten it"
    return None
