"""The execution API in Adobe Journey Optimizer's shape, under /ajo/im/executions, beside /v1.

A client written for AJO works unchanged: its field names, its answers (202, a replay's 200, a schedule's
``scheduleId``, a deleted schedule's ``{}``), its headers (``x-api-key``, ``x-gw-ims-org-id``,
``x-sandbox-name``: accepted and ignored, the bearer token or the OS account says who calls), and problem JSON
that also carries AJO's ``report.additionalContext`` with the call's ``requestId`` and ``campaignId``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..engine.engine import Engine
from ..errors import InvalidTransition, TooLarge, ValidationFailed
from ..limits import CONTEXT_BYTES, in_words
from ..models import Campaign, CampaignType, RunStatus
from ..models.ajo import (
    RESERVED_CONTEXT_KEY, AudienceExecution, AudienceExecutionRequest, AudienceExecutionStatus, ExecutionAccepted,
    ScheduleAccepted, ScheduledExecution, UnitaryExecutionRequest,
)
from ..models.run import Run
from .identity import Actor

STATUS_OF_RUN = {RunStatus.completed: AudienceExecutionStatus.succeeded, RunStatus.failed: AudienceExecutionStatus.failed,
                 RunStatus.stopped: AudienceExecutionStatus.failed, RunStatus.missed: AudienceExecutionStatus.failed}


class AjoRoute(APIRoute):
    """Refusals as the app words them, plus ``report.additionalContext`` (AJO's place for the call's ids)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:
                answer = _app_handler(request, error)
                if answer is None:
                    raise
                response = await answer(request, error)
                problem = json.loads(bytes(response.body))
                problem["report"] = {"additionalContext": await _call_ids(request)}
                return JSONResponse(problem, status_code=response.status_code, media_type=response.media_type,
                                    headers={k: v for k, v in response.headers.items() if k.lower() not in
                                             ("content-length", "content-type")})

        return handler


def _app_handler(request: Request, error: Exception) -> Any:
    handlers = request.app.exception_handlers
    return next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)


async def _call_ids(request: Request) -> dict[str, Any]:
    """The requestId and campaignId the body named (None where it did not parse or name them)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = {}
    body = body if isinstance(body, dict) else {}
    return {"requestId": body.get("requestId"), "campaignId": body.get("campaignId")}


router = APIRouter(prefix="/ajo/im/executions", tags=["ajo"], route_class=AjoRoute)


def engine(request: Request) -> Engine:
    return request.app.state.engine


def check_context(context: dict | None, field: str) -> None:
    """A context within CONTEXT_BYTES as compact JSON (413 beyond), without the reserved ``system`` key (422)."""
    if not context:
        return
    size = len(json.dumps(context, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > CONTEXT_BYTES:
        raise TooLarge(f"{field} is {size:,} bytes as JSON, over the limit of {in_words(CONTEXT_BYTES)}; "
                       "send only what the content reads")
    if RESERVED_CONTEXT_KEY in context:
        raise ValidationFailed.of([{"field": f"{field}.{RESERVED_CONTEXT_KEY}",
                                    "message": "is reserved; put your values under another key"}])


def _api_campaign(eng: Engine, campaign_id: str) -> Campaign:
    """The campaign exists and is an api campaign (naming the field otherwise). Not a read of the campaign: a
    system's role may call campaigns without reading them; the engine checks that it may call this one."""
    campaign = eng.ws.catalogue.campaign(campaign_id)
    if campaign.type is not CampaignType.api:
        raise ValidationFailed.of([{"field": "campaignId", "message": (
            f"{campaign_id} is an {campaign.type.value} campaign; only api campaigns take execution calls")}])
    return campaign


@router.post("/unitary", status_code=202,
             responses={200: {"model": ExecutionAccepted, "description": "a replay of a requestId: the first execution"}})
async def unitary(body: UnitaryExecutionRequest, actor: Actor, request: Request, response: Response) -> ExecutionAccepted:
    """Send the campaign now to 1 to 20 recipients; durable when answered. The same requestId again answers
    200 with the first executionId and sends nothing; with a different body it is refused (409). Awaited on the
    event loop like /v1's trigger: the checks read memory only, and the group commit is awaited."""
    eng = engine(request)
    check_context(body.context, "context")
    for n, recipient in enumerate(body.recipients):
        check_context(recipient.context, f"recipients.{n}.context")
    _api_campaign(eng, body.campaign_id)
    execution, replayed = await eng.execute_async(actor, body.campaign_id, body.request_id, body.recipients,
                                                  body.context or {})
    if replayed:
        response.status_code = 200
    return ExecutionAccepted(execution_id=execution.id, request_id=execution.request_id,
                             created_at=execution.created_at, created_by=execution.created_by)


@router.post("/audience", status_code=202, response_model=ExecutionAccepted | ScheduleAccepted,
             responses={200: {"model": ExecutionAccepted, "description": "a replay of a requestId: the first execution"}})
def audience(body: AudienceExecutionRequest, actor: Actor, request: Request,
             response: Response) -> ExecutionAccepted | ScheduleAccepted:
    """Run the campaign over its audience now, or at ``schedule.executeAt`` (then the answer is the schedule)."""
    eng = engine(request)
    check_context(body.context, "context")
    campaign = _api_campaign(eng, body.campaign_id)
    if body.audience is not None and campaign.live is not None and body.audience.id != campaign.live.audience:
        raise ValidationFailed.of([{"field": "audience.id", "message": (
            f"{body.campaign_id} sends to its own audience {campaign.live.audience!r}; name it or leave audience out")}])
    if body.schedule is not None:
        if body.schedule.execute_at.tzinfo is None:
            raise ValidationFailed.of([{"field": "schedule.executeAt", "message": "give the time with its zone, e.g. 2026-12-01T09:00Z"}])
        end = campaign.live.schedule.end if campaign.live else None
        if end is not None and body.schedule.execute_at >= end:
            raise InvalidTransition(f"schedule.executeAt {body.schedule.execute_at.isoformat()} is not before "
                                    f"{body.campaign_id}'s end date {end.isoformat()}; it takes no call after it")
        scheduled = eng.schedule_execution(actor, body.campaign_id, body.schedule.execute_at, body.context or {},
                                           body.request_id)
        return ScheduleAccepted(schedule_id=scheduled.schedule_id, schedule_status=scheduled.schedule_status,
                                campaign_id=scheduled.campaign_id, execute_at=scheduled.execute_at)
    run, replayed = eng.run_audience(actor, body.campaign_id, body.context or {}, body.request_id)
    if replayed:
        response.status_code = 200
    return ExecutionAccepted(execution_id=run.id, request_id=body.request_id or run.id, created_at=eng.clock.now(),
                             created_by=actor.name)


@router.get("/audience/{execution_id}")
def audience_execution(execution_id: str, actor: Actor, request: Request) -> AudienceExecution:
    """An audience execution's status and counters, as its run journals them batch by batch."""
    eng = engine(request)
    eng.lifecycle.check_may_read_executions(actor)
    run = eng.ledger.run(execution_id)
    return _audience_execution(run)


def _audience_execution(run: Run) -> AudienceExecution:
    c = run.counters
    return AudienceExecution(
        execution_id=run.id, campaign_id=run.campaign_id,
        status=STATUS_OF_RUN.get(run.status, AudienceExecutionStatus.in_progress),
        targeted_profile_count=c.targeted, sent_count=c.sent, excluded_count=c.excluded_total, failed_count=c.failed,
        started_at=run.started_at, ended_at=run.ended_at, error=run.error)


@router.get("/schedules/{schedule_id}")
def schedule(schedule_id: str, actor: Actor, request: Request) -> ScheduledExecution:
    eng = engine(request)
    eng.lifecycle.check_may_read_executions(actor)
    return eng.scheduled.get(schedule_id)


@router.delete("/schedules/{schedule_id}")
def cancel_schedule(schedule_id: str, actor: Actor, request: Request) -> dict[str, Any]:
    """Scheduled → Cancelled (AJO answers an empty object); only someone who may trigger the campaign may."""
    eng = engine(request)
    found = eng.scheduled.get(schedule_id)
    eng.lifecycle.check_may_trigger(actor)
    eng.scheduled.cancel(found.schedule_id)
    return {}
