"""CLI commands about the engine: activate (sending in the foreground), runs, report, outbox, engine."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from datetime import datetime, timedelta, timezone

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from store.client import CampaignsClient
from store.limits import OUTBOX_PAGE_MESSAGES
from store.models import Run, RunStatus, Status
from store.models.outbox import OutboxMessage
from store.text import json_escaped, printable

from . import output
from .run_pace import pace_text, progress_line

POLL_SECONDS = 0.2
FOLLOW_SECONDS = 1.0
IN_FLIGHT = (RunStatus.pending, RunStatus.running, RunStatus.paused)
FIRST_RUN_WAIT = 2.0


async def activate(client: CampaignsClient, args: argparse.Namespace) -> int:
    """Activate; when a run is due now, follow it with a progress bar until it ends (Ctrl-C pauses it)."""
    before = {r.id for r in await client.runs(args.id)}
    campaign = await client.activate(args.id)
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
    else:
        output.err.print(f"{campaign.id} ({campaign.name}) is {campaign.status.value}", markup=False)
    if campaign.status is not Status.live:
        if campaign.status is Status.scheduled and not args.json:
            report = await client.report(campaign.id)
            if report.next_runs:
                output.err.print(f"first run at {output.instant(report.next_runs[0])}", markup=False)
        return 0
    run = await _new_run(client, campaign.id, before)
    if run is None:
        return 0
    run = await _follow(client, campaign.id, run)
    if not args.json:
        output.err.print(_run_line(run), markup=False)
    return 0 if run.status is RunStatus.completed else 1


async def trigger(client: CampaignsClient, args: argparse.Namespace, context: dict) -> int:
    """Trigger an API campaign and wait for its execution's outcomes (the engine sends it within moments)."""
    from store.models.execution import ExecutionStatus, Outcome

    execution = await client.trigger(args.id, profiles=args.profiles or [], context=context, request_id=args.request_id)
    while execution.status in (ExecutionStatus.accepted, ExecutionStatus.in_progress):
        await asyncio.sleep(POLL_SECONDS)
        execution = await client.execution(execution.id)
    if args.json:
        output.print_json(execution.model_dump(mode="json"))
        return 0 if execution.status is ExecutionStatus.succeeded else 1
    output.out.print(execution.id, markup=False)
    counts = {o: sum(1 for r in execution.outcomes if r.outcome is o) for o in (Outcome.sent, Outcome.excluded, Outcome.failed)}
    output.err.print(f"{execution.status.value} (request {execution.request_id}): "
                     + ", ".join(f"{o.value} {n}" for o, n in counts.items()), markup=False)
    for r in execution.outcomes:
        if r.outcome is not Outcome.sent:
            output.err.print(f"  {r.user_id}: {r.outcome.value} {r.reason or r.error or ''}".rstrip(), markup=False)
    return 0 if execution.status is ExecutionStatus.succeeded else 1


async def _new_run(client: CampaignsClient, campaign_id: str, before: set[str]) -> Run | None:
    waited = 0.0
    while waited < FIRST_RUN_WAIT:
        fresh = [r for r in await client.runs(campaign_id) if r.id not in before and r.status is not RunStatus.missed]
        if fresh:
            return fresh[-1]
        await asyncio.sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    return None


async def _follow(client: CampaignsClient, campaign_id: str, run: Run) -> Run:
    with Progress(TextColumn(f"{run.id}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
                  TimeElapsedColumn(), console=output.err, transient=True) as progress:
        task = progress.add_task("send", total=None, detail="")
        while run.status in (RunStatus.pending, RunStatus.running):
            await asyncio.sleep(POLL_SECONDS)
            run = next(r for r in await client.runs(campaign_id) if r.id == run.id)
            c = run.counters
            done = c.sent + c.failed + c.excluded_total
            pace = pace_text(run)
            progress.update(task, total=c.targeted or None, completed=done,
                            detail=f"sent {c.sent:,} · failed {c.failed:,} · excluded {c.excluded_total:,}"
                                   + (f" · {pace}" if pace else ""))
    return run


def _run_line(run: Run) -> str:
    c = run.counters
    reasons = ", ".join(f"{getattr(k, 'value', k)} {v:,}" for k, v in sorted(c.excluded.items(), key=lambda kv: str(kv[0])))
    line = (f"{run.id} {run.status.value}: targeted {c.targeted:,}, sent {c.sent:,}, failed {c.failed:,}, "
            f"excluded {c.excluded_total:,}" + (f" ({reasons})" if reasons else ""))
    return line + (f" — {run.error}" if run.error else "")


async def runs(client: CampaignsClient, args: argparse.Namespace) -> int:
    all_runs = await client.runs(args.id)
    if args.follow and all_runs and all_runs[-1].status in IN_FLIGHT:
        return await _follow_lines(client, args, all_runs[-1])
    if args.json:
        output.print_json([r.model_dump(mode="json") for r in all_runs])
        return 0
    for run in all_runs:
        when = run.occurrence or run.started_at
        output.out.print(f"{when:%Y-%m-%d %H:%M} " if when else "", _run_line(run), sep="", markup=False)
    if not all_runs:
        output.err.print(f"{args.id} has no runs yet")
    return 0


async def _follow_lines(client: CampaignsClient, args: argparse.Namespace, run: Run) -> int:
    """``runs --follow``: the run in flight, a line a second (counters, rate, time left), then its last line."""
    while run.status in IN_FLIGHT:
        _write(_run_json(run) if args.json else printable(f"{run.id} {run.status.value}: {progress_line(run)}") + "\n")
        await asyncio.sleep(FOLLOW_SECONDS)
        run = next(r for r in await client.runs(args.id) if r.id == run.id)
    _write(_run_json(run) if args.json else printable(_run_line(run)) + "\n")
    return 0


def _run_json(run: Run) -> str:
    """One JSON object a line, so a script reads each second's state as it comes."""
    return json_escaped(json.dumps(run.model_dump(mode="json"), ensure_ascii=False)) + "\n"


async def report(client: CampaignsClient, args: argparse.Namespace) -> int:
    report = await client.report(args.id)
    if args.json:
        output.print_json(report.model_dump(mode="json"))
        return 0
    t = report.totals
    output.out.print(f"{report.name}  {report.campaign_id}  {report.status.value}", markup=False)
    if report.status_reason:
        output.out.print(f"reason: {report.status_reason}", markup=False)
    output.out.print(f"targeted {t.targeted:,}  sent {t.sent:,}  failed {t.failed:,}  "
                     f"excluded {t.excluded_total:,}", markup=False)
    reasons = [(reason.value, count) for reason, count in sorted(t.excluded.items())]
    reasons += [(f"failed: {reason}", count) for reason, count in sorted(report.failures.items())]
    for label, count in reasons:
        output.out.print(f"  {label:<28} {count:>9,}", markup=False)
    for run in report.runs:
        output.out.print("  " + _run_line(run), markup=False)
    for when in report.next_runs:
        output.out.print(f"next run {output.instant(when)}", markup=False)
    return 0


async def outbox(client: CampaignsClient, args: argparse.Namespace) -> int:
    """Print the newest messages (``--limit``, sent ``--since``), saying on stderr when more matched; with
    --follow keep printing new ones. Output is written from a thread: a reader that stops reading must not
    stall the engine this process may be hosting."""
    channel = args.channel.value if args.channel else None
    page = await client.outbox(channel=channel, campaign_id=args.campaign, limit=args.limit, newest=True,
                               since=args.since)
    while True:
        if page.messages:
            await asyncio.to_thread(_write, "".join(_outbox_line(m, args.json) for m in page.messages))
        if page.total is not None and page.total > len(page.messages):
            output.err.print(f"showing the newest {len(page.messages):,} of {page.total:,}; --limit N for more",
                             markup=False)
        if not args.follow:
            return 0
        if not page.messages:
            await asyncio.sleep(POLL_SECONDS)
        page = await client.outbox(channel=channel, campaign_id=args.campaign, cursor=page.cursor)


def outbox_limit(text: str) -> int:
    """``--limit``: how many messages, within what one answer may carry."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= OUTBOX_PAGE_MESSAGES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of messages from 1 to {OUTBOX_PAGE_MESSAGES:,}")
    return int(text)


def since_time(text: str) -> datetime:
    """``--since``: a duration back from now (``90s``, ``10m``, ``2h``, ``1d``) or a time (ISO 8601; without a
    zone, the operator's local one)."""
    duration = re.fullmatch(r"(\d{1,9})([smhd])", text.strip())
    if duration:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[duration[2]]
        return datetime.now(timezone.utc) - timedelta(**{unit: int(duration[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a duration (10m, 2h, 1d) nor a time "
                                         "(2025-03-01 09:00, 2025-03-01T09:00+01:00)") from None
    return when if when.tzinfo else when.astimezone()


def _outbox_line(m: OutboxMessage, as_json: bool) -> str:
    """Written straight to stdout (not through rich), so escaped here: addresses and content are data."""
    if as_json:
        return json_escaped(json.dumps(m.model_dump(mode="json", by_alias=True), ensure_ascii=False)) + "\n"
    first = next(iter(m.content.values()), "")
    return printable(f"{m.sent_at[:19]}  {m.channel.value:<5} {m.campaign_id:<8} {m.to:<28} {first[:60]!r}") + "\n"


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def stop_on_signals() -> asyncio.Event:
    """An event SIGTERM and Ctrl-C set instead of killing the process; installed before a host starts listening,
    so a signal that comes as soon as it serves still ends it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def engine(client: CampaignsClient, args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM or Ctrl-C; leaving the block journals the batch in flight and exits 0."""
    if client.remote:
        output.err.print(f"the workspace is already hosted by {client.remote}", markup=False)
        return 1
    me = await client.me()
    stop = stop or stop_on_signals()
    output.err.print(f"engine running for {me.data_dir} (Ctrl-C or SIGTERM to stop)", markup=False)
    await stop.wait()
    output.err.print("engine stopping: runs in flight are journaled and resume at the next start", markup=False)
    return 0
