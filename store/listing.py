"""The campaign list: filters of the console and the CLI, applied to raw documents for speed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

import msgspec
from pydantic import Field

from .campaign_rules import CampaignFacts
from .models import HIDDEN_BY_DEFAULT, CampaignAction, CampaignSummary, CampaignType, Channel, Status
from .models.common import Model


def searched_text(name: str, tags: Iterable[str]) -> str:
    """What a search looks in: the name and the tags, casefolded, one a line (a search is one line)."""
    return "\n".join((name, *tags)).casefold()


class CampaignFilter(Model):
    """Default: Stopped, Completed and Archived are hidden; naming statuses or ``all`` shows them."""

    all: bool = False
    statuses: list[Status] = Field(default_factory=list)
    types: list[CampaignType] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    search: str = ""

    def describe(self) -> str:
        parts = []
        if self.statuses:
            parts.append("status " + ", ".join(s.value for s in self.statuses))
        elif not self.all:
            parts.append("hiding " + ", ".join(s.value for s in sorted(HIDDEN_BY_DEFAULT, key=list(Status).index)))
        for label, values in (("type", self.types), ("channel", self.channels)):
            if values:
                parts.append(f"{label} " + ", ".join(v.value for v in values))
        if self.tags:
            parts.append("tag " + ", ".join(self.tags))
        if self.search:
            parts.append(f"matching {self.search!r}")
        return "; ".join(parts) or "all statuses"

    def predicate(self) -> Callable[[str, str, str, list[str], str], bool]:
        """A test of (status, type, channel, tags, name) with the filter's sets built once: the API and the
        console's as-you-type search run it on every one of 10,000 rows."""
        statuses = ({s.value for s in self.statuses} if self.statuses else
                    None if self.all else {s.value for s in Status} - {s.value for s in HIDDEN_BY_DEFAULT})
        types, channels = {t.value for t in self.types}, {c.value for c in self.channels}
        tags, needle = set(self.tags), self.needle()

        def accepts(status: str, type: str, channel: str, row_tags: list[str], name: str) -> bool:
            if statuses is not None and status not in statuses:
                return False
            if types and type not in types or channels and channel not in channels:
                return False
            if tags and not tags.intersection(row_tags):
                return False
            return not needle or needle in searched_text(name, row_tags)

        return accepts

    def needle(self) -> str:
        return self.search.casefold().strip()

    def found(self, texts: list[str]) -> list[bool]:
        """For each ``searched_text``, whether the search finds it: one substring test a row, so the
        console's as-you-type search at 100,000 campaigns costs milliseconds."""
        needle = self.needle()
        return [needle in text for text in texts] if needle else [True] * len(texts)


class ListRow:
    """A list row as a dict (for filtering), as its JSON bytes (so a list response is a join), and as the
    facts the campaign rules read (so each caller's actions are worked out per distinct key, not per row)."""

    __slots__ = ("row", "json", "facts", "rule_key")

    def __init__(self, row: dict, facts: CampaignFacts) -> None:
        self.row, self.json, self.facts = row, _ENCODE(row), facts
        self.rule_key = facts.key()

    @classmethod
    def of(cls, doc: dict) -> "ListRow":
        return cls(summarize(doc), CampaignFacts.of_document(doc))

    @classmethod
    def of_json(cls, text: bytes) -> "ListRow":
        """From a stored campaign's JSON text, decoding only the fields a row reads (content is skipped, not
        built): 0.17 s for 100,000 campaigns where decoding them whole takes 1.0 s. ValueError if it does not
        fit, so the caller reads it whole and learns what is wrong."""
        try:
            head = _HEAD.decode(text)
        except msgspec.MsgspecError as error:
            raise ValueError(str(error)) from None
        return cls.of(msgspec.to_builtins(head))


class _Approval(msgspec.Struct):
    state: str
    policy: str | None = None
    policies: list[str] = msgspec.field(default_factory=list)
    approved_by: dict[str, str] = msgspec.field(default_factory=dict)
    requested_by: str | None = None


class _VersionHead(msgspec.Struct):
    channel: str
    updated_by: str
    approval: _Approval | None = None


class _CampaignHead(msgspec.Struct):
    """The fields of a stored campaign that ``summarize`` and ``CampaignFacts.of_document`` read."""

    id: str
    name: str
    type: str
    category: str
    status: str
    updated_by: str
    updated_at: str
    tags: list[str] = msgspec.field(default_factory=list)
    draft: _VersionHead | None = None
    live: _VersionHead | None = None


_HEAD = msgspec.json.Decoder(_CampaignHead)
_ENCODE = msgspec.json.Encoder().encode  # 2.4x json.dumps on list rows



def summarize(doc: dict) -> dict:
    """A list row from a stored campaign document, without building the full model."""
    draft, live = doc.get("draft"), doc.get("live")
    current: dict = draft or live or {}  # a stored campaign always has one
    approval = (draft or {}).get("approval")
    return {
        "id": doc["id"], "name": doc["name"], "type": doc["type"], "category": doc["category"],
        "status": doc["status"], "channel": current["channel"], "has_draft": bool(draft and live),
        "draft_approval": approval["state"] if approval else None, "tags": doc.get("tags", []),
        "updated_by": doc["updated_by"], "updated_at": doc["updated_at"],
    }


def filter_rows(rows: list[ListRow], f: CampaignFilter) -> list[ListRow]:
    accepts = f.predicate()
    out = [item for item in rows if accepts(item.row["status"], item.row["type"], item.row["channel"],
                                            item.row["tags"], item.row["name"])]
    out.sort(key=lambda r: r.row["updated_at"], reverse=True)
    return out


def rows_json(rows: list[ListRow], latest_runs: dict[str, dict] | None = None,
              next_fire: Callable[[str], datetime | None] | None = None,
              actions: Callable[[CampaignFacts], tuple[CampaignAction, ...]] | None = None) -> bytes:
    """The rows as a JSON array, with each campaign's last run, next run and the caller's ``actions`` spliced
    into its cached bytes: the actions are worked out and encoded once per distinct row key, so 100,000 rows
    cost a dictionary lookup each."""
    latest_runs = latest_runs or {}
    encoded: dict[str, bytes] = {}
    parts = []
    for r in rows:
        campaign_id = r.row["id"]
        head = r.json[:-1]
        if actions is not None:
            spliced = encoded.get(r.rule_key)
            if spliced is None:
                spliced = encoded[r.rule_key] = b',"actions":' + json.dumps([a.value for a in actions(r.facts)]).encode()
            head += spliced
        extra: dict[str, object] = {}
        if campaign_id in latest_runs:
            extra["last_run"] = latest_runs[campaign_id]
        upcoming = next_fire(campaign_id) if next_fire else None
        if upcoming is not None:
            extra["next_run"] = upcoming.isoformat()
        parts.append(head + (b"," + json.dumps(extra)[1:].encode() if extra else b"}"))
    return b"[" + b",".join(parts) + b"]"


__all__ = ["CampaignFilter", "CampaignSummary", "ListRow", "filter_rows", "rows_json", "summarize"]
