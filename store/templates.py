"""Personalization: AJO-style ``{{profile.person.name.firstName | default: "friend"}}`` (DESIGN.md 5).

A template is parsed once, when saved or activated, into literal text and key paths; rendering then
only does dict lookups and a join (ENGINE-NOTES.md 4), so a million messages cost about a second.
There is no ``eval``, no attribute access and no calls: a template can only read data.

Syntax, inside ``{{ … }}`` (whitespace and newlines around tokens are free):

- a path: ``profile.<path>`` or ``context.<path>``; a path is dotted names ``[A-Za-z_][A-Za-z0-9_]*``,
  and a name may not start with ``__``;
- optionally ``| default: "text"`` (double quotes; ``\\"`` and ``\\\\`` are the only escapes), used when the
  value is missing or null; without one, a missing or null value fails the render (``RenderError``);
- or just a string literal, which renders as is: ``{{ "{{" }}`` writes ``{{``.

``}}`` outside an expression is plain text (CSS has it); ``{%`` is refused, reserved for conditions.

How ``profile.X`` reads the profile mapping (``profile_view`` builds it)::

    {"id": "p1", "attributes": {...nested...}, "identities": {"email": ..., "phone": ..., "push_token": ...}}

``profile.id`` and ``profile.identities.email|phone|push_token`` (or ``pushToken``) read those fields, as
audience rules do; every other ``profile.X`` reads ``attributes.X``. ``paths`` lists them the same way
(``"id"``, ``"identities.email"``, ``"person.name.firstName"``), which is exactly what
``ProfileStore.iter_audience_rows(attributes=...)`` takes, so the engine can fetch only those values
and render with ``bind(paths_in_order, offset=8)(row)``: no JSON parsing in Python, no mapping per message.

Values: strings as they are, ``true``/``false``, integers and integral floats without ``.0``; lists and
objects fail the render. With ``html=True`` (email body) values read from data are HTML-escaped; the
template's own text, string literals and defaults are the author's markup and are left as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from html import escape as _html_escape
from typing import Any

from .errors import ValidationFailed
from .limits import TEMPLATE_EXPRESSIONS
from .models.campaign import Content
from .models.common import Channel

__all__ = [
    "CompiledContent", "CompiledTemplate", "RenderError", "TemplateSyntaxError", "check_content",
    "compile_content", "compile_template", "profile_view",
]

_OPEN = re.compile(r"\{\{|\{%")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SPACE = re.compile(r"\s*")
_STRING_RUN = re.compile(r'[^"\\]*')
_ROOTS = ("profile", "context")
_PROFILE_FIELDS = {
    "id": ("id",),
    "identities.email": ("identities", "email"),
    "identities.phone": ("identities", "phone"),
    "identities.push_token": ("identities", "push_token"),
    "identities.pushToken": ("identities", "push_token"),
}
"""Template paths that read the profile's own fields rather than attributes (key path into the mapping)."""
_RESERVED = frozenset({"id", "identities", "consent", "suppressed", "lists"})
_CHANNEL_FIELDS: dict[Channel, tuple[tuple[str, bool], ...]] = {
    Channel.email: (("subject", False), ("preheader", False), ("body", True)),
    Channel.sms: (("text", False),),
    Channel.push: (("title", False), ("body", False)),
}
"""Each channel's content fields and whether the field is HTML."""


def _run_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where a pattern that matches the empty string (a run of ``*``) ends from ``pos``."""
    match = pattern.match(text, pos)
    assert match is not None  # a starred run matches everywhere
    return match.end()


def escape(value: str) -> str:
    """HTML-escape, skipping the five replacements for the usual value that has nothing to escape."""
    if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
        return _html_escape(value)
    return value


class TemplateSyntaxError(ValidationFailed):
    """A template that cannot be compiled; ``line`` and ``column`` are 1-based, in characters."""

    def __init__(self, field: str, line: int, column: int, message: str) -> None:
        where = f"line {line}, column {column}: {message}"
        super().__init__(f"{field}: {where}", errors=[{"field": field, "message": where}])
        self.field, self.line, self.column, self.message = field, line, column, message


class RenderError(Exception):
    """One profile cannot be rendered (the engine excludes it with ``rendering_error``)."""

    def __init__(self, field: str, path: str, problem: str) -> None:
        super().__init__(f"{field}: {path} {problem}")
        self.field, self.path = field, path


def profile_view(profile_id: str, attributes: Mapping, identities: Mapping | None = None) -> dict:
    """The mapping ``render`` reads, built without copying: e.g. from a ``ROW_FIELDS`` row,
    ``profile_view(row[0], json.loads(row[8]), {"email": row[1], "phone": row[2], "push_token": row[3]})``.
    ``Profile.model_dump()`` has the same shape."""
    return {"id": profile_id, "attributes": attributes, "identities": {} if identities is None else identities}


class CompiledTemplate:
    """Literal text with holes: ``_parts`` is the text with "" at each hole, and each ``_slots`` entry is
    (index in parts, keys into the mapping, from context?, path as in ``paths``, default, path as written)."""

    __slots__ = ("field", "html", "paths", "context_paths", "_parts", "_slots")

    def __init__(self, field: str, html: bool, parts: list[str], slots: list[tuple]) -> None:
        self.field, self.html, self._parts, self._slots = field, html, parts, tuple(slots)
        self.paths = frozenset(s[3] for s in slots if not s[2])
        self.context_paths = frozenset(s[3] for s in slots if s[2])

    def render(self, profile: Mapping, context: Mapping | None = None) -> str:
        """Render from a nested profile mapping (see ``profile_view``)."""
        if not self._slots:
            return self._parts[0]
        out = self._parts.copy()
        for index, keys, from_context, _flat, default, name in self._slots:
            value: Any = context if from_context else profile
            try:
                for key in keys:
                    value = value[key]
            except (LookupError, TypeError):  # missing key, or a step into a non-mapping
                value = None
            if type(value) is str:
                out[index] = escape(value) if self.html else value
            elif type(value) is int:
                out[index] = str(value)
            else:
                out[index] = self._text(value, default, name)
        return "".join(out)

    def bind(self, paths: Sequence[str], offset: int = 0) -> Callable[[Sequence, Mapping | None], str]:
        """A renderer that reads the value of ``paths[i]`` at ``row[offset + i]``: the engine renders straight
        from SQLite rows (``ProfileStore.iter_audience_rows(attributes=paths)``), building nothing per message."""
        where = {path: offset + i for i, path in enumerate(paths)}
        if not self.paths <= where.keys():
            raise ValueError(f"{self.field}: bind needs every path it reads; missing {sorted(self.paths - where.keys())}")
        parts, html, text = self._parts, self.html, self._text
        slots = tuple((index, 0 if from_context else where[flat], keys, from_context, default, name)
                      for index, keys, from_context, flat, default, name in self._slots)
        if not slots:
            constant = parts[0]

            def literal(row: Sequence, context: Mapping | None = None) -> str:
                return constant
            return literal

        def render(row: Sequence, context: Mapping | None = None) -> str:
            out = parts.copy()
            for index, position, keys, from_context, default, name in slots:
                value: Any
                if from_context:
                    value = context
                    try:
                        for key in keys:
                            value = value[key]
                    except (LookupError, TypeError):
                        value = None
                else:
                    value = row[position]
                if type(value) is str:
                    out[index] = escape(value) if html else value
                elif type(value) is int:
                    out[index] = str(value)
                else:
                    out[index] = text(value, default, name)
            return "".join(out)

        return render

    def _text(self, value: Any, default: str | None, name: str) -> str:
        """Every value that is not a plain string: the rare path, kept out of the loop."""
        if value is None:
            if default is None:
                raise RenderError(self.field, name, "is missing or null and has no default")
            return default
        if value is True or value is False:
            return "true" if value else "false"
        if type(value) is float and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        if isinstance(value, bytes):  # STRUCTURED_VALUE from ProfileStore.iter_audience_rows
            raise RenderError(self.field, name, "is a list or an object, not a value")
        if isinstance(value, (list, tuple, set, frozenset)):
            raise RenderError(self.field, name, "is a list, not a value")
        if isinstance(value, Mapping):
            raise RenderError(self.field, name, "is an object, not a value")
        text = str(value)
        return escape(text) if self.html else text


class CompiledContent:
    """Every field of one channel's content, compiled; ``paths`` is the union of their paths."""

    __slots__ = ("channel", "templates", "paths", "context_paths", "fields", "_items")

    def __init__(self, channel: Channel, templates: dict[str, CompiledTemplate]) -> None:
        self.channel, self.templates, self._items = channel, templates, tuple(templates.items())
        self.fields = tuple(templates)  # the order every render returns them in
        self.paths = frozenset().union(*(t.paths for t in templates.values()))
        self.context_paths = frozenset().union(*(t.context_paths for t in templates.values()))

    def render(self, profile: Mapping, context: Mapping | None = None) -> dict[str, str]:
        return {name: t.render(profile, context) for name, t in self._items}

    def bind(self, paths: Sequence[str], offset: int = 0) -> Callable[[Sequence, Mapping | None], dict[str, str]]:
        """Every field's renderer bound to row positions (see ``CompiledTemplate.bind``)."""
        renderers = tuple((name, t.bind(paths, offset)) for name, t in self._items)

        def render(row: Sequence, context: Mapping | None = None) -> dict[str, str]:
            return {name: r(row, context) for name, r in renderers}

        return render


def compile_template(text: str, field: str, *, html: bool = False,
                     max_expressions: int = TEMPLATE_EXPRESSIONS) -> CompiledTemplate:
    """Parse ``text`` once, in time linear in its length; raises ``TemplateSyntaxError`` naming ``field``,
    line and column (``max_expressions`` is the documented limit; the benchmark lifts it to show the scaling)."""
    return _Parser(text, field, max_expressions).parse(html)


def compile_content(content: Content, channel: Channel, field_prefix: str = "draft.content") -> CompiledContent:
    """Compile the content a version sends on ``channel``; every bad field is reported at once."""
    fields = content.for_channel(channel)
    if fields is None:
        field = f"{field_prefix}.{channel.value}"
        message = f"this version sends {channel.value} but has no {channel.value} content"
        raise ValidationFailed(f"{field}: {message}", errors=[{"field": field, "message": message}])
    return CompiledContent(channel, _compile_fields(content, [channel], field_prefix))


def check_content(content: Content, field_prefix: str = "draft.content") -> None:
    """Check every channel's content when a version is saved, so errors reach the editor, not the run."""
    _compile_fields(content, [c for c in Channel if content.for_channel(c) is not None], field_prefix)


def _compile_fields(content: Content, channels: list[Channel], prefix: str) -> dict[str, CompiledTemplate]:
    compiled, errors = {}, []
    for channel in channels:
        fields = content.for_channel(channel)
        for name, html in _CHANNEL_FIELDS[channel]:
            try:
                compiled[name] = compile_template(getattr(fields, name), f"{prefix}.{channel.value}.{name}", html=html)
            except TemplateSyntaxError as error:
                errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationFailed(
            f"{len(errors)} templates have errors: " + "; ".join(e.detail for e in errors),
            errors=[e.errors[0] for e in errors],
        )
    return compiled


class _Parser:
    """A hand-written scanner: it knows where every token starts, so errors point at the exact column."""

    def __init__(self, text: str, field: str, max_expressions: int) -> None:
        self.text, self.field, self.pos, self.max_expressions = text, field, 0, max_expressions

    def fail(self, message: str, pos: int | None = None) -> TemplateSyntaxError:
        return TemplateSyntaxError(self.field, *self.where(self.pos if pos is None else pos), message)

    def where(self, pos: int) -> tuple[int, int]:
        return self.text.count("\n", 0, pos) + 1, pos - self.text.rfind("\n", 0, pos)

    def parse(self, html: bool) -> CompiledTemplate:
        text, parts, slots, literal = self.text, [], [], []
        expressions = 0
        while (match := _OPEN.search(text, self.pos)) is not None:
            literal.append(text[self.pos:match.start()])
            if match.group() == "{%":
                raise self.fail("'{%' (conditions, loops) is not supported; for the text write {{ \"{%\" }}",
                                match.start())
            expressions += 1
            if expressions > self.max_expressions:
                raise self.fail(f"more than {self.max_expressions:,} {{{{ }}}} expressions in one template "
                                "(the limit); split the content or write repeated text out", match.start())
            self.pos = match.end()
            kind, value = self.expression(match.start())
            if kind == "text":
                literal.append(value)
                continue
            parts.append("".join(literal))
            literal = []
            slots.append((len(parts), *value))
            parts.append("")
        literal.append(text[self.pos:])
        parts.append("".join(literal))
        return CompiledTemplate(self.field, html, parts, slots)

    def skip_space(self) -> None:
        self.pos = _run_end(_SPACE, self.text, self.pos)

    def expression(self, opened: int) -> tuple[str, Any]:
        """After ``{{``: a string literal, or a path with an optional default, then ``}}``."""
        text = self.text
        self.skip_space()
        start = self.pos
        char = text[start:start + 1]
        value: Any
        if char == '"':
            kind, value = "text", self.string()
        elif (match := _PATH.match(text, start)) is not None:
            self.pos = match.end()
            kind, value = "path", (*self.path(match.group(), start), match.group())
        elif text.startswith("}}", start):
            raise self.fail("empty expression (write a path such as profile.person.name.firstName)")
        else:
            self.unexpected(opened, "a path such as profile.person.name.firstName or a \"string\"")
        default = None
        while True:
            self.skip_space()
            if text.startswith("}}", self.pos):
                self.pos += 2
                break
            if text.startswith("|", self.pos):
                bar = self.pos
                self.pos += 1
                self.skip_space()
                name = _NAME.match(text, self.pos)
                if name is None:
                    raise self.fail("expected a filter name after '|' (only default: \"...\" is allowed)")
                if name.group() != "default":
                    raise self.fail(f"unknown filter '{name.group()}' (only default: \"...\" is allowed)")
                if kind == "text":
                    raise self.fail("a default only applies to a path, not to a string", bar)
                if default is not None:
                    raise self.fail("default is given twice")
                self.pos = name.end()
                self.skip_space()
                if not text.startswith(":", self.pos):
                    self.unexpected(opened, "':' after default, as in default: \"friend\"")
                self.pos += 1
                self.skip_space()
                if not text.startswith('"', self.pos):
                    self.unexpected(opened, "a string in double quotes after default:")
                default = self.string()
                continue
            self.unexpected(opened, "'}}' or | default: \"...\"")
        if kind == "text":
            return kind, value
        keys, from_context, flat, dotted = value
        return kind, (keys, from_context, flat, default, dotted)

    def path(self, dotted: str, start: int) -> tuple[tuple[str, ...], bool, str]:
        """Check a path's root and names; returns (keys into the mapping, is-context, path for ``paths``)."""
        names = dotted.split(".")
        offset = start
        for name in names:
            if name.startswith("__"):
                raise self.fail(f"names starting with '__' are not allowed ('{name}')", offset)
            offset += len(name) + 1
        root, rest = names[0], ".".join(names[1:])
        if root not in _ROOTS:
            raise self.fail(f"unknown root '{root}' (use profile. or context.)", start)
        if self.text.startswith(".", self.pos):
            raise self.fail("a name after '.' must start with a letter or _", self.pos + 1)
        if not rest:
            example = "person.name.firstName" if root == "profile" else "orderId"
            raise self.fail(f"{root} needs a path, e.g. {root}.{example}", start)
        if root == "context":
            return (*names[1:],), True, rest
        if names[1] in _RESERVED:
            keys = _PROFILE_FIELDS.get(rest)
            if keys is None:
                raise self.fail(
                    f"unknown profile field 'profile.{rest}' (templates read profile.id, "
                    "profile.identities.email, .phone, .push_token and attributes)", start)
            return keys, False, ".".join(keys)
        return ("attributes", *names[1:]), False, rest

    def string(self) -> str:
        """A double-quoted literal at ``pos``; only ``\\"`` and ``\\\\`` are escapes, so nothing is guessed.

        The run of plain characters is matched, never searched for: ``str.find`` of a quote or backslash
        that is not there scans to the end of the template, which made compiling quadratic."""
        text, opened = self.text, self.pos
        out, pos = [], opened + 1
        while True:
            end = _run_end(_STRING_RUN, text, pos)
            if end >= len(text):
                raise TemplateSyntaxError(self.field, *self.where(len(text)),
                                          "unclosed string opened at line {}, column {}".format(*self.where(opened)))
            out.append(text[pos:end])
            if text[end] == '"':
                self.pos = end + 1
                return "".join(out)
            escaped = text[end + 1:end + 2]
            if escaped not in ('"', "\\"):
                raise self.fail(f"unknown escape '\\{escaped}' (only \\\" and \\\\)", end)
            out.append(escaped)
            pos = end + 2

    def unexpected(self, opened: int, expected: str) -> None:
        """Raise the error for the character at ``pos``: unclosed if no ``}}`` follows, else what was wrong."""
        text, pos = self.text, self.pos
        if pos >= len(text) or text.find("}}", pos) < 0:
            line, column = self.where(opened)
            raise self.fail(f"unclosed '{{{{' opened at line {line}, column {column}", min(pos, len(text)))
        char = text[pos]
        hint = {"(": "calls are not allowed", "[": "indexing is not allowed", "'": "strings take double quotes",
                ".": "attribute access is only for paths of names"}.get(char)
        raise self.fail(f"unexpected {char!r}: " + (hint or f"expected {expected}"))
