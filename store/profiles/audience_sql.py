"""Audience rules compiled to an SQL ``WHERE`` clause over the ``profiles`` table.

Values are always bound parameters. Attribute paths are interpolated into ``json_extract``
literals (so an expression index could match them later), hence checked against a strict pattern
here again, even if the rule model already did. Every fragment evaluates to 0 or 1, never NULL, so
``not`` and ``ne`` include profiles that lack the attribute, as ``store.models.audience`` documents.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ..errors import ValidationFailed
from ..models.audience import (
    ATTRIBUTE_PATH, PROFILE_FIELDS, RULE, AllRule, AndRule, AttributeRule, ConsentRule, InListRule, NotRule, OrRule,
)
from ..models.common import Channel

EXTRACTED_COLUMNS = {"timeZone": "time_zone"}
"""Hot attributes copied by SQLite into a stored column when their value is a string (see db.py)."""

TEXT_COLUMNS = frozenset({"id", "email", "phone", "push_token", *EXTRACTED_COLUMNS.values()})
INTEGER_COLUMNS = frozenset({"suppressed", "consent_email", "consent_sms", "consent_push"})
MAX_DEPTH = 32
_ORDERING = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_FALSE, _TRUE = "0", "1"


def compile_rule(rule: Any, *, paged: bool = False) -> tuple[str, list]:
    """``(where, params)`` for ``SELECT … FROM profiles WHERE <where>``; a dict is validated first.

    ``paged`` is for keyset pages in id order: list membership is then probed per row (EXISTS), which
    keeps the scan on the primary key; a count instead lets SQLite start from the list's members.
    """
    if isinstance(rule, dict):
        try:
            rule = RULE.validate_python(rule)
        except ValidationError as error:
            errors = _field_errors(error)
            first = errors[0]
            raise ValidationFailed(
                f"the audience rule is not valid: {first['field']}: {first['message']}", errors=errors
            ) from None
    params: list = []
    return _compile(rule, params, 0, paged), params


_KINDS = frozenset({"all", "attribute", "consent", "in_list", "and", "or", "not"})


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as ``{"field": "rules.0.value", "message": …}``, without the union tags in the path."""
    out = []
    for e in error.errors():
        path = [str(p) for p in e["loc"] if p not in _KINDS]
        if e["type"].startswith("union_tag"):
            path.append("kind")
        out.append({"field": ".".join(path) or "rule", "message": str(e["msg"]).removeprefix("Value error, ")})
    return out


def _compile(rule: Any, params: list, depth: int, paged: bool) -> str:
    if depth > MAX_DEPTH:
        raise ValidationFailed(f"the audience rule nests deeper than {MAX_DEPTH} levels; flatten its and/or groups")
    if isinstance(rule, AllRule):
        return _TRUE
    if isinstance(rule, ConsentRule):
        return f"consent_{Channel(rule.channel).value} = 1"
    if isinstance(rule, InListRule):
        params.append(rule.list)
        if paged:
            return "EXISTS (SELECT 1 FROM list_members WHERE list = ? AND profile_id = profiles.id)"
        return "id IN (SELECT profile_id FROM list_members WHERE list = ?)"
    if isinstance(rule, (AndRule, OrRule)):
        joiner = " AND " if isinstance(rule, AndRule) else " OR "
        return "(" + joiner.join(_compile(r, params, depth + 1, paged) for r in rule.rules) + ")"
    if isinstance(rule, NotRule):
        return f"NOT ({_compile(rule.rule, params, depth + 1, paged)})"
    if isinstance(rule, AttributeRule):
        return _attribute(rule, params)
    raise ValidationFailed(f"unknown audience rule {type(rule).__name__}")


def _attribute(rule: AttributeRule, params: list) -> str:
    if not ATTRIBUTE_PATH.match(rule.attr):
        raise ValidationFailed(f"invalid attribute path {rule.attr!r} in the audience rule")
    column = PROFILE_FIELDS.get(rule.attr)
    if column is None and rule.attr in EXTRACTED_COLUMNS and _text_only(rule):
        column = EXTRACTED_COLUMNS[rule.attr]
    if column is not None:
        return _on_column(column, rule, params)
    return _on_json(f"'$.{rule.attr}'", rule, params)


def _text_only(rule: AttributeRule) -> bool:
    """Whether the extracted (string-only) column answers this rule exactly like the JSON would."""
    if rule.op == "in":
        return isinstance(rule.value, list) and all(isinstance(v, str) for v in rule.value)
    return rule.op in ("eq", "ne", "lt", "le", "gt", "ge", "startswith") and isinstance(rule.value, str)


def _fits(column: str, value: Any) -> bool:
    """Whether a value can equal a column's content (avoids SQLite's type affinity conversions)."""
    if column in TEXT_COLUMNS:
        return isinstance(value, str)
    return isinstance(value, (bool, int, float))


def _on_column(column: str, rule: AttributeRule, params: list) -> str:
    op, value = rule.op, rule.value
    if op == "exists":
        return f"{column} IS NOT NULL"
    if op == "ne":
        return f"NOT ({_on_column(column, rule.model_copy(update={'op': 'eq'}), params)})"
    if op == "in" and isinstance(value, list):  # the model holds "in" to a list
        values = [v for v in value if _fits(column, v)]
        if not values:
            return _FALSE
        params.append(json.dumps(values))
        return f"({column} IS NOT NULL AND {column} IN (SELECT value FROM json_each(?)))"
    if not _fits(column, value):
        return _FALSE
    if op == "eq":
        params.append(value)
        return f"{column} IS ?"
    if op in _ORDERING:
        params.append(value)
        return f"({column} IS NOT NULL AND {column} {_ORDERING[op]} ?)"
    if op == "startswith" and isinstance(value, str):
        params.extend((len(value), value))
        return f"({column} IS NOT NULL AND substr({column}, 1, ?) = ?)"
    if op == "contains" and column in TEXT_COLUMNS:
        params.append(value)
        return f"({column} IS NOT NULL AND instr({column}, ?) > 0)"
    return _FALSE


def _on_json(path: str, rule: AttributeRule, params: list) -> str:
    op, value = rule.op, rule.value
    x = f"json_extract(attributes, {path})"
    json_type = f"json_type(attributes, {path})"
    if op == "exists":
        return f"{x} IS NOT NULL"
    if op == "ne":
        return f"NOT ({_on_json(path, rule.model_copy(update={'op': 'eq'}), params)})"
    if op == "eq":
        params.append(value)
        return f"({x} IS ?{_scalar_guard(json_type, [value])})"
    if op == "in" and isinstance(value, list):
        params.append(json.dumps(value))
        return f"({x} IS NOT NULL AND {x} IN (SELECT value FROM json_each(?)){_scalar_guard(json_type, value)})"
    if op in _ORDERING:
        params.append(value)
        guard = f"{json_type} IS 'text'" if isinstance(value, str) else f"typeof({x}) IN ('integer', 'real')"
        return f"({guard} AND {x} {_ORDERING[op]} ?)"
    if op == "startswith" and isinstance(value, str):
        params.extend((len(value), value))
        return f"({json_type} IS 'text' AND substr({x}, 1, ?) = ?)"
    if op == "contains":
        member = (
            f"EXISTS (SELECT 1 FROM json_each(attributes, {path}) "
            "WHERE value = ? AND type NOT IN ('object', 'array'))"
        )
        if isinstance(value, str):
            params.extend((value, value))
            return f"(CASE {json_type} WHEN 'text' THEN instr({x}, ?) > 0 WHEN 'array' THEN {member} ELSE 0 END)"
        params.append(value)
        return f"({json_type} IS 'array' AND {member})"
    raise ValidationFailed(f"unknown operator {op!r} in the audience rule")


def _scalar_guard(json_type: str, values: list) -> str:
    """Objects and arrays come out of json_extract as JSON text: keep them from equalling such a string."""
    if any(isinstance(v, str) and v[:1] in ("{", "[") for v in values):
        return f" AND {json_type} NOT IN ('object', 'array')"
    return ""
