"""How the CLI prints: tables for people, JSON for scripts, one line on stderr for a refusal.

Names, descriptions, profile attributes and provider errors are other people's text: nothing printed
here interprets it as markup, and its control and bidirectional characters are shown escaped
(``store.text.printable``), whatever older version stored them.
"""

from __future__ import annotations

import sys
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from store.text import printable

from .json_text import dumps

if TYPE_CHECKING:
    from store.models import Campaign, CampaignSummary, Version
    from store.models.workflow import WorkflowCounts

    from .terminal import TerminalConsole

_CONSOLES: dict[str, TerminalConsole] = {}


def console(name: str) -> TerminalConsole:
    """``out`` or ``err``, made on first use: a command that only prints JSON never loads rich (console/terminal.py).
    Piped output is for scripts and pagers: never squeeze columns to a pretend 80-column terminal."""
    if not _CONSOLES:
        from .terminal import TerminalConsole

        _CONSOLES.update(out=TerminalConsole(soft_wrap=False, width=None if sys.stdout.isatty() else 400),
                         err=TerminalConsole(stderr=True))
    return _CONSOLES[name]


def __getattr__(name: str) -> Any:
    """``output.out`` and ``output.err`` as other modules write them."""
    if name in ("out", "err"):
        return console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def instant(when: datetime) -> str:
    """A date-time written as ``--json`` writes it (ISO 8601, UTC as Z), so text and JSON output agree."""
    return _instants().dump_python(when, mode="json")


@cache
def _instants() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(datetime)


def print_campaign_list(rows: list[CampaignSummary]) -> None:
    from rich.table import Table

    from .display import status_label

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "NAME", "TYPE", "CATEGORY", "CHANNEL", "STATUS", "UPDATED"):
        table.add_column(column, no_wrap=column != "NAME", overflow="fold")
    for r in rows:
        table.add_row(r.id, printable(r.name), r.type.value, r.category.value, r.channel.value,
                      status_label(r.status, r.has_draft, r.draft_approval),
                      f"{r.updated_at:%Y-%m-%d %H:%M} {printable(r.updated_by)}")
    console("out").print(table)


def _version_rows(v: Version | None) -> dict[str, str]:
    if v is None:
        return {}
    if v.workflow is not None:
        return _workflow_version_rows(v)
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
    _approval_rows(v, rows)
    return rows


def _workflow_version_rows(v: Version) -> dict[str, str]:
    """An orchestrated version: its activities carry the audiences, configurations and contents."""
    assert v.workflow is not None
    channels = ", ".join(c.value for c in v.workflow.channels()) or "none"
    rows = {"version": f"v{v.number} rev {v.revision}",
            "workflow": f"{len(v.workflow.activities)} activities, {len(v.workflow.transitions)} transitions",
            "channels": channels, "schedule": v.schedule.describe()}
    _approval_rows(v, rows)
    return rows


def _approval_rows(v: Version, rows: dict[str, str]) -> None:
    from .display import approval_step

    a = v.approval
    rows["approval"] = "—" if a is None else (
        f"{approval_step(a.state)} ({a.requested_by} → {a.decided_by or 'pending'})"
        + (f": {a.message}" if a.message else ""))
    if a is not None and a.request_message:
        rows["request message"] = a.request_message
    rows["updated"] = f"{v.updated_at:%Y-%m-%d %H:%M} {v.updated_by}"


def print_campaign(c: Campaign) -> None:
    from rich.table import Table
    from rich.text import Text

    from .display import status_label

    out = console("out")
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
    if c.live is not None and c.draft is not None and (c.live.workflow or c.draft.workflow):
        _print_workflow_changes(c)
    if c.history:
        out.print("history: " + ", ".join(f"v{v.number} (activated {v.activated_at:%Y-%m-%d} by {v.activated_by})"
                                         if v.activated_at else f"v{v.number}" for v in c.history))


def _print_workflow_changes(c: Campaign) -> None:
    """The draft's workflow against the live one, activity by activity."""
    from .diff import changes, workflow_changes

    changed = changes(workflow_changes(c.live.workflow if c.live else None, c.draft.workflow if c.draft else None))
    out = console("out")
    if not changed:
        out.print("workflow: the draft's activities and transitions are the live version's")
        return
    out.print("workflow changes in the draft:")
    for field in changed:
        out.print(f"  {printable(field.label)}", markup=False)


def print_workflow(c: Campaign, counts: WorkflowCounts | None) -> None:
    """The current version's workflow drawn left to right, with the latest run's counts when they are of it."""
    from .workflow_drawing import workflow_text

    version = c.current
    assert version.workflow is not None
    shown = counts if counts is not None and counts.version == version.number else None
    out = console("out")
    out.print(f"\nworkflow of v{version.number} ({'draft' if c.draft is not None else 'live'})"
              + (f", counts of run {shown.run_id}" if shown is not None else ""), markup=False)
    out.print(workflow_text(version.workflow, shown), markup=False, highlight=False, soft_wrap=True)
