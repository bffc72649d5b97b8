"""Engine endpoints: activation, stop, archive (they change what runs), runs, reports, the outbox."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, field_validator

from ..engine.engine import Engine
from ..errors import ValidationFailed
from ..limits import CONTEXT_BYTES, OUTBOX_PAGE_MESSAGES, in_words
from ..models import ActiveRun, Campaign, Channel, ExclusionReason, Run, RunCounters, Status
from ..models.common import Model
from ..models.execution import MAX_RECIPIENTS, Execution, Namespace, Recipient
from ..models.outbox import OutboxPage
from ..models.report import ActivationPreview, Report
from .identity import Actor, Space

router = APIRouter(prefix="/v1", tags=["engine"])


def engine(request: Request) -> Engine:
    return request.app.state.engine


class TriggerRequest(Model):
    """One call of an API-triggered campaign: its profiles become profileId recipients of an execution."""

    profiles: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS, description=(
        "profile ids (to send to an audience, use the audience execution)"))
    request_id: str | None = Field(None, min_length=1, max_length=200, description=(
        "the same id again (same body) answers the first execution and sends nothing; default: a new one"))
    context: dict = Field(default_factory=dict, description=(
        f"read by {{{{context.*}}}} in the content; at most {CONTEXT_BYTES // 1024} KB as compact JSON"))

    @field_validator("context")
    @classmethod
    def _context_within_limit(cls, context: dict) -> dict:
        size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
        if size > CONTEXT_BYTES:
            raise ValueError(f"{size:,} bytes as JSON is over the limit of {in_words(CONTEXT_BYTES)}; "
                             "send only what the content reads")
        return context


@router.post("/campaigns/{campaign_id}/activate")
def activate(campaign_id: str, actor: Actor, request: Request) -> Campaign:
    """Checks the version (every problem at once), then Activating → Scheduled or Live."""
    return engine(request).activate(actor, campaign_id)


@router.get("/campaigns/{campaign_id}/activation-preview")
def activation_preview(campaign_id: str, actor: Actor, ws: Space, request: Request) -> ActivationPreview:
    """The figures the activate confirmation shows, and every problem activation would refuse."""
    from ..engine.activation import activation_problems, expected_exclusions
    from ..engine.occurrences import next_occurrences
    from ..engine.runner import beyond_time_limit

    eng = engine(request)
    campaign = eng.lifecycle.campaign(actor, campaign_id)
    version = campaign.current
    now = eng.clock.now()
    workflow = version.workflow is not None  # its activities carry the audiences: no audience of its own
    audience = ws.catalogue.audiences.find(version.audience) if version.audience and not workflow else None
    size = ws.profiles.count_audience(audience.rule) if audience else 0
    exclusions = expected_exclusions(ws, campaign, version, audience.rule) if audience else {}
    problems = activation_problems(ws, campaign, version, now)
    sends = max(0, size - sum(exclusions.values()))
    if workflow and not problems:
        size, sends = _workflow_sizes(ws, campaign.id, version)
    policies = [p.id for p in eng.lifecycle.approval_policies(campaign, version)]
    refusal = eng.lifecycle.activation_refusal(actor, campaign)
    if refusal is not None:
        problems.append({"field": "activation", "message": refusal})
    rate = version.rate_control.messages_per_second if version.rate_control else None
    return ActivationPreview(
        version=version.number, audience=None if workflow else version.audience, audience_size=size, expected_exclusions=exclusions,
        expected_sends=sends, schedule=version.schedule.describe(), rate=rate,
        expected_seconds=sends / rate if rate else None, beyond_time_limit=beyond_time_limit(sends, rate),
        next_runs=next_occurrences(version.schedule, activated_at=now, after=now - timedelta(seconds=1), count=3),
        needs_approval=", ".join(policies) or None,
        approval_state=version.approval.state.value if version.approval else None,
        problems=problems)


def _workflow_sizes(ws, campaign_id: str, version) -> tuple[int, int]:
    """A workflow's (profiles entering it, messages its channel activities would target), from test mode."""
    from ..models.workflow import CHANNELS, SOURCES, ActivityKind
    from .workflows import tested

    counts = tested(ws, campaign_id, version)
    starts = {a.id for a in counts.activities if ActivityKind(a.kind) in SOURCES}
    entering = sum(t.count or 0 for t in counts.transitions if t.source in starts)
    targeted = sum(a.inbound or 0 for a in counts.activities if ActivityKind(a.kind) in CHANNELS)
    return entering, targeted


@router.post("/campaigns/{campaign_id}/trigger", status_code=202)
async def trigger(campaign_id: str, body: TriggerRequest, actor: Actor, request: Request,
                  response: Response) -> Execution:
    """Send an API campaign now to the named profiles, personalized with ``context``: its execution, durable
    when answered (202), or the first one for a request id already used (200, nothing sent again). Awaited on
    the event loop: the checks read memory only, and the group commit is awaited, not waited for in a thread."""
    recipients = [Recipient(user_id=p, namespace=Namespace.profile_id) for p in dict.fromkeys(body.profiles)]
    execution, replayed = await engine(request).execute_async(actor, campaign_id, body.request_id or uuid.uuid4().hex,
                                                              recipients, body.context)
    if replayed:
        response.status_code = 200
    return execution


@router.get("/executions/{execution_id}")
def execution(execution_id: str, actor: Actor, request: Request) -> Execution:
    """One execution with each recipient's outcome: sent (message id), excluded (reason) or failed (error)."""
    return engine(request).execution(actor, execution_id)


@router.get("/campaigns/{campaign_id}/executions")
def executions(campaign_id: str, actor: Actor, request: Request,
               limit: int = Query(20, ge=1, le=200)) -> list[Execution]:
    """The campaign's latest executions, newest first."""
    return engine(request).executions(actor, campaign_id, limit)


@router.post("/campaigns/{campaign_id}/stop")
def stop(campaign_id: str, actor: Actor, request: Request) -> Campaign:
    """Final: future runs are cancelled, a run in flight halts before its next message."""
    return engine(request).stop(actor, campaign_id)


@router.post("/campaigns/{campaign_id}/archive")
def archive(campaign_id: str, actor: Actor, request: Request) -> Campaign:
    return engine(request).archive(actor, campaign_id)


@router.get("/campaigns/{campaign_id}/runs")
def runs(campaign_id: str, actor: Actor, ws: Space, request: Request) -> list[Run]:
    ws.lifecycle.campaign(actor, campaign_id)
    return engine(request).runs(campaign_id)


@router.get("/runs/active")
def active_runs(actor: Actor, request: Request) -> list[ActiveRun]:
    """The runs in flight, with counters that grow batch by batch, the recent rate and the time left."""
    eng = engine(request)
    eng.lifecycle.check_may_read(actor)
    return eng.active_runs()


@router.get("/campaigns/{campaign_id}/report")
def report(campaign_id: str, actor: Actor, ws: Space, request: Request) -> Report:
    """Totals over every run, each run's counters, and the next fire times of a live schedule."""
    campaign = ws.lifecycle.campaign(actor, campaign_id)
    eng = engine(request)
    all_runs = eng.runs(campaign_id)
    totals = RunCounters()
    for run in all_runs:
        c = run.counters
        totals.targeted += c.targeted
        totals.sent += c.sent
        totals.failed += c.failed
        for reason, count in c.excluded.items():
            key = ExclusionReason(reason)
            totals.excluded[key] = totals.excluded.get(key, 0) + count
    upcoming = eng.next_fires(campaign) if campaign.status in (Status.live, Status.scheduled) else []
    return Report(campaign_id=campaign.id, name=campaign.name, status=campaign.status,
                  status_reason=campaign.status_reason, totals=totals, failures=eng.ledger.failure_reasons(campaign.id),
                  runs=all_runs, next_runs=upcoming)


@router.get("/outbox")
def outbox(actor: Actor, request: Request, channel: Channel | None = None, campaign: str | None = None,
           cursor: str = Query("", description="from a previous page: continue after it"), limit: int = 1000,
           newest: bool = Query(False, description="the newest `limit` messages (and `total`), not the oldest"),
           since: datetime | None = Query(None, description="with newest: only messages sent at or after this time"),
           ) -> OutboxPage:
    """Messages the outbox provider wrote, oldest first; pass the returned cursor to follow new ones."""
    engine(request).lifecycle.check_may_read(actor)
    if newest:
        if since is not None and since.tzinfo is None:
            raise ValidationFailed.of([{"field": "since", "message": "give the time with its zone, e.g. 2025-03-01T09:00Z"}])
        messages, total, ends = engine(request).outbox.newest(limit=min(max(limit, 1), OUTBOX_PAGE_MESSAGES),
                                                              channel=channel, campaign_id=campaign, since=since)
        return OutboxPage.model_validate({"messages": messages, "total": total, "cursor": _cursor(ends)})
    positions = _positions(cursor)
    messages, positions = engine(request).outbox.read(positions, channel=channel, campaign_id=campaign,
                                                      limit=min(max(limit, 1), OUTBOX_PAGE_MESSAGES))
    return OutboxPage.model_validate({"messages": messages, "cursor": _cursor(positions)})


def _cursor(positions: dict[Channel, int]) -> str:
    return ",".join(f"{c.value}:{n}" for c, n in positions.items())


def _positions(cursor: str) -> dict[Channel, int]:
    """A page's cursor (``email:1200,sms:0``: a byte offset per channel file) back into offsets."""
    positions = {}
    for part in filter(None, cursor.split(",")):
        channel, _, offset = part.partition(":")
        if channel not in {c.value for c in Channel} or not (offset.isascii() and offset.isdigit() and len(offset) <= 18):
            raise ValidationFailed.of([{"field": "cursor", "message": (
                "not a cursor a page returned: pass the last page's cursor (such as email:1200,sms:0), "
                "or none to start from the first message")}])
        positions[Channel(channel)] = int(offset)
    return positions
