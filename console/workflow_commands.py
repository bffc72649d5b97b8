"""CLI commands about orchestrated campaigns' workflows: `campaigns test ID` (test mode's counts)."""

from __future__ import annotations

import argparse

from store.client import CampaignsClient
from store.models.workflow import KIND_LABELS, SOURCES, ActivityKind, WorkflowCounts
from store.text import printable

from . import output


async def test(client: CampaignsClient, args: argparse.Namespace) -> int:
    """Every transition's count in test mode (nothing sent or saved); with --json, the counts as the API gives them."""
    counts = await client.test_workflow(args.id, "live" if args.live else "current")
    if args.json:
        output.print_json(counts.model_dump(mode="json"))
        return 0
    print_counts(counts)
    return 0


def print_counts(counts: WorkflowCounts) -> None:
    """The transitions with their counts, then each activity's state; a channel activity's sample rendering."""
    from rich.table import Table

    out = output.console("out")
    what = "test of" if counts.test else f"run {counts.run_id} of"
    out.print(f"{what} {counts.campaign_id} v{counts.version} at {output.instant(counts.computed_at)}", markup=False)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("TRANSITION", "FROM", "TO"):
        table.add_column(column)
    table.add_column("PROFILES", justify="right")
    for t in counts.transitions:
        table.add_row(t.name, t.source, t.to, "—" if t.count is None else f"{t.count:,}")
    out.print(table)
    for a in counts.activities:
        line = f"{a.id} ({KIND_LABELS[ActivityKind(a.kind)]}): {a.state.value}"
        if a.inbound is not None and ActivityKind(a.kind) not in SOURCES:
            line += f", {a.inbound:,} in"
        if a.unrouted:
            line += f", {a.unrouted:,} unrouted (no remainder transition)"
        if a.counters is not None:
            c = a.counters
            line += f", sent {c.sent:,}, failed {c.failed:,}, excluded {c.excluded_total:,}"
        if a.wait_until is not None:
            line += f", waits until {output.instant(a.wait_until)}"
        if a.error:
            line += f"; {a.error}"
        out.print(printable(line), markup=False)
        if a.rendered:
            out.print(f"  rendered for {a.sample_profile}:", markup=False)
            for name, value in a.rendered.items():
                if value.strip():
                    out.print(f"    {name}: {printable(value.strip().splitlines()[0])}", markup=False)
