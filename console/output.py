"""How the CLI prints: tables for people, JSON for scripts, one line on stderr for a refusal.

Names, descriptions, profile attributes and provider errors are other people's text: nothing printed
here interprets it as markup, and its control and bidirectional characters are shown escaped
(``store.text.printable``), whatever older version stored them.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text

from store.models import Campaign, CampaignSummary, Version
from store.text import json_escaped, printable

from .display import approval_step, status_label


class TerminalConsole(Console):
    """A rich console for text that is not ours: markup off, and every string (table cells too) and
    JSON it prints made printable (newlines kept: text that must stay on one line, a name in a cell,
    is passed through ``printable`` first); our own styling goes through ``Text`` objects."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text, multiline=True), **kwargs)

    def print_json(self, json: str | None = None, *, data: Any = None, indent: int | str | None = 2,
                   **_: Any) -> None:  # rich's signature (its text parameter is named ``json``)
        value = _loads(json) if json is not None else data
        self.print(JSONHighlighter()(Text(_dumps(value, indent))), soft_wrap=True)


def _loads(text: str) -> Any:
    return json.loads(text)


def _dumps(value: Any, indent: int | str | None = 2) -> str:
    return json_escaped(json.dumps(value, indent=indent, ensure_ascii=False, default=str))


# Piped output is for scripts and pagers: never squeeze columns to a pretend 80-column terminal.
out = TerminalConsole(soft_wrap=False, width=None if sys.stdout.isatty() else 400)
err = TerminalConsole(stderr=True)


def print_json(value: Any) -> None:
    sys.stdout.write(_dumps(value) + "\n")


_INSTANT = TypeAdapter(datetime)


def instant(when: datetime) -> str:
    """A date-time written as ``--json`` writes it (ISO 8601, UTC as Z), so text and JSON output agree."""
    return _INSTANT.dump_python(when, mode="json")


def print_campaign_list(rows: list[CampaignSummary]) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "NAME", "TYPE", "CATEGORY", "CHANNEL", "STATUS", "UPDATED"):
        table.add_column(column, no_wrap=column != "NAME", overflow="fold")
    for r in rows:
        table.add_row(r.id, printable(r.name), r.type.value, r.category.value, r.channel.value,
                      status_label(r.status, r.has_draft, r.draft_approval),
                      f"{r.updated_at:%Y-%m-%d %H:%M} {printable(r.updated_by)}")
    out.print(table)


def _version_rows(v: Version | None) -> dict[str, str]:
    if v is None:
        return {}
    rows = {
        "version": f"v{v.number} rev {v.revision}",
        "audience": v.audience or "—",
        "channel": v.channel.value,
        "channel configuration": v.channel_configuration or "—",
        "schedule": v.schedule.describe(),
        "rate control": f"{v.rate_control.messages_per_second}/s" if v.rate_control else "unthrottled",
    }
    content = v.content.for_channel(v.channel)
    for name, value in (content.model_dump() if content else {}).items():
        rows[f"{v.channel.value}.{name}"] = value or "—"
    a = v.approval
    rows["approval"] = "—" if a is None else (
        f"{approval_step(a.state)} ({a.requested_by} → {a.decided_by or 'pending'})"
        + (f": {a.message}" if a.message else ""))
    if a is not None and a.request_message:
        rows["request message"] = a.request_message
    rows["updated"] = f"{v.updated_at:%Y-%m-%d %H:%M} {v.updated_by}"
    return rows


def print_campaign(c: Campaign) -> None:
    out.print(Text.assemble((printable(c.name), "bold"), f"  {c.id}  {c.type.value} · {c.category.value} · "
                            f"{status_label(c.status, c.has_draft)}"))
    if c.status_reason:
        out.print(f"reason: {printable(c.status_reason)}")
    if c.description:
        out.print(c.description)
    if c.tags:
        out.print("tags: " + printable(", ".join(c.tags)))
    live, draft = _version_rows(c.live), _version_rows(c.draft)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    if c.live:
        table.add_column("LIVE", overflow="fold")
    if c.draft:
        table.add_column("DRAFT" + (" (changed fields marked *)" if c.live else ""), overflow="fold")
    for key in dict.fromkeys([*live, *draft]):
        cells = []
        if c.live:
            cells.append(live.get(key, ""))
        if c.draft:
            changed = bool(c.live) and live.get(key) != draft.get(key) and key not in ("version", "updated")
            cells.append(("* " if changed else "") + draft.get(key, ""))
        table.add_row(key, *cells)
    out.print(table)
    if c.history:
        out.print("history: " + ", ".join(f"v{v.number} (activated {v.activated_at:%Y-%m-%d} by {v.activated_by})"
                                         if v.activated_at else f"v{v.number}" for v in c.history))
