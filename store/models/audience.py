"""Audiences: who a campaign targets, as a small JSON rule language over profiles.

A rule is one of (``kind`` picks it)::

    {"kind": "all"}
    {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "Europe/"}
    {"kind": "consent", "channel": "email"}
    {"kind": "in_list", "list": "vip"}
    {"kind": "and", "rules": [...]}   {"kind": "or", "rules": [...]}   {"kind": "not", "rule": {...}}

``attr`` is a dotted path into the profile's attributes; the roots ``id``, ``identities.<channel>``,
``consent.<channel>`` and ``suppressed`` name the profile's own fields instead.

Meaning, identical in SQL (``store.profiles.audience_sql``) and in any Python evaluation: a missing
attribute is never equal, less or greater than anything, so ``ne`` and ``not`` include it;
``lt``/``le``/``gt``/``ge`` compare numbers with numbers and strings with strings (code point order),
never across; ``contains`` is a substring test on a string and a membership test on an array;
``startswith`` needs a string; ``exists`` is true when the value is present and not null.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, TypeAdapter, field_validator

from ..limits import DESCRIPTION_CHARS, NAME_CHARS
from ..text import multi_line, single_line
from .common import Channel, Model
from .profile import LIST_NAME

ATTRIBUTE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
AUDIENCE_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
MAX_IN_VALUES = 10_000

Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "startswith", "exists"]
Scalar = Union[StrictBool, StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False)], StrictStr]
PROFILE_FIELDS = {
    "id": "id", "suppressed": "suppressed",
    "identities.email": "email", "identities.phone": "phone",
    "identities.push_token": "push_token", "identities.pushToken": "push_token",
    "consent.email": "consent_email", "consent.sms": "consent_sms", "consent.push": "consent_push",
}
"""Rule paths that name a profile's own fields (and the SQL column holding each), not attributes."""
RESERVED_ROOTS = ("id", "identities", "consent", "suppressed", "lists")


class AllRule(Model):
    kind: Literal["all"] = "all"


class AttributeRule(Model):
    kind: Literal["attribute"] = "attribute"
    attr: str = Field(max_length=200)
    op: Operator
    value: Scalar | list[Scalar] | None = Field(None, validate_default=True)

    @field_validator("attr")
    @classmethod
    def _path(cls, attr: str) -> str:
        if not ATTRIBUTE_PATH.match(attr):
            raise ValueError(
                f"invalid attribute path {attr!r} (dotted names of letters, digits and _, e.g. person.name.firstName)"
            )
        root = attr.split(".", 1)[0]
        if root in RESERVED_ROOTS and attr not in PROFILE_FIELDS:
            if root == "lists":
                raise ValueError("list membership is its own rule: {\"kind\": \"in_list\", \"list\": \"vip\"}")
            choices = ", ".join(p for p in PROFILE_FIELDS if p.split(".", 1)[0] == root)
            raise ValueError(f"unknown profile field {attr!r} (use {choices})")
        return attr

    @field_validator("value")
    @classmethod
    def _value_fits_operator(cls, value: Any, info) -> Any:
        op = info.data.get("op")
        if op is None:
            return value
        if op == "exists":
            if value is not None:
                raise ValueError("'exists' takes no value (wrap it in 'not' for 'does not exist')")
        elif op == "in":
            if not isinstance(value, list) or not value:
                raise ValueError("'in' needs a non-empty list of values, e.g. [\"FR\", \"DE\"]")
            if len(value) > MAX_IN_VALUES:
                raise ValueError(f"'in' takes at most {MAX_IN_VALUES} values; use a list (in_list) instead")
        elif value is None or isinstance(value, list):
            raise ValueError(f"'{op}' needs one value (a string, number or boolean)")
        elif op == "startswith" and not isinstance(value, str):
            raise ValueError("'startswith' needs a string value")
        elif op in ("lt", "le", "gt", "ge") and isinstance(value, bool):
            raise ValueError(f"'{op}' needs a number or a string, not a boolean")
        return value


class ConsentRule(Model):
    kind: Literal["consent"] = "consent"
    channel: Channel


class InListRule(Model):
    kind: Literal["in_list"] = "in_list"
    list: str = Field(pattern=LIST_NAME.pattern)


class AndRule(Model):
    kind: Literal["and"] = "and"
    rules: list[Rule] = Field(min_length=1, max_length=1000)


class OrRule(Model):
    kind: Literal["or"] = "or"
    rules: list[Rule] = Field(min_length=1, max_length=1000)


class NotRule(Model):
    kind: Literal["not"] = "not"
    rule: Rule


Rule = Annotated[
    Union[AllRule, AttributeRule, ConsentRule, InListRule, AndRule, OrRule, NotRule],
    Field(discriminator="kind"),
]
RULE = TypeAdapter(Rule)
"""Validates a rule given as plain JSON data: ``RULE.validate_python({...})``."""

for _model in (AndRule, OrRule, NotRule):
    _model.model_rebuild()


class Audience(Model):
    id: str = Field(pattern=AUDIENCE_ID, max_length=64)
    name: str = Field(min_length=1, max_length=NAME_CHARS)
    description: str = Field("", max_length=DESCRIPTION_CHARS)
    rule: Rule

    _name_text = field_validator("name")(single_line)
    _description_text = field_validator("description")(multi_line)
