"""The activation confirmation: audience and its size, expected exclusions by reason, the schedule."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from store.models.report import ActivationPreview
from store.text import printable

from ..display import when as local_when
from ..run_pace import duration_text, rate_text
from .confirm import ConfirmDialog


def activation_body(name: str, preview: ActivationPreview) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("Campaign", Text(printable(f"{name} (version {preview.version})")))
    table.add_row("Audience", f"{preview.audience or '—'}: {preview.audience_size:,} profiles")
    for reason, count in sorted(preview.expected_exclusions.items()):
        table.add_row(f"  excluded, {reason}", f"{count:,}")
    table.add_row("Expected sends", f"{preview.expected_sends:,}")
    table.add_row("Rate", rate_text(preview.rate) if preview.rate else "unthrottled (as fast as the channel sends)")
    if preview.expected_seconds is not None:
        table.add_row("Expected duration", duration_text(preview.expected_seconds))
    if preview.beyond_time_limit:
        table.add_row(Text("Over 12 hours", style="bold reverse"), Text(
            f"a run stops at 12 hours: {preview.beyond_time_limit:,} profiles would be excluded (throttle_timeout); "
            "raise the rate or narrow the audience"))
    table.add_row("Schedule", preview.schedule)
    for when in preview.next_runs[:3]:
        table.add_row("  runs at", local_when(when))
    if preview.needs_approval:
        table.add_row("Approval", f"policy {preview.needs_approval}: {preview.approval_state or 'not requested'}")
    for problem in preview.problems:
        table.add_row(Text("Cannot activate", style="bold reverse"), Text(printable(f"{problem['field']}: {problem['message']}")))
    return table


def activate_dialog(name: str, preview: ActivationPreview) -> ConfirmDialog:
    blocked = bool(preview.problems)
    return ConfirmDialog(f"Activate {name}?" if not blocked else f"{name} cannot be activated yet",
                         activation_body(name, preview), "Activate", allowed=not blocked)
