"""Campaign endpoints: list, read, create, edit, and every lifecycle action."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import Field, field_validator
from fastapi.responses import JSONResponse

from ..limits import MESSAGE_CHARS
from ..list_changes import caller_key, changes_json
from ..listing import CampaignFilter, filter_rows, rows_json
from ..models import AuditEvent, Campaign, CampaignEdit, CampaignSummary, CampaignType, Channel, Status
from ..models.approval_inbox import AwaitingApproval
from ..models.common import Model
from ..text import multi_line
from .identity import Actor, Space

router = APIRouter(prefix="/v1", tags=["campaigns"])


class Decision(Model):
    """An approver's decision names the draft revision they reviewed: a draft changed since is refused (409)."""

    base_revision: int | None = Field(None, description="the draft revision the approver reviewed (required)")


class ChangesRequest(Decision):
    message: str


class ApprovalRequest(Model):
    """What the requester tells the approvers (optional): a line or a few, shown beside the request."""

    message: str | None = Field(None, max_length=MESSAGE_CHARS)

    _message_text = field_validator("message")(multi_line)


_ETAG = {"ETag": {"description": "names this answer: send it back as If-None-Match", "schema": {"type": "string"}}}


class ListChangesAnswer(Model):
    """The answer to ``since``: the rows changed since that revision (every row when ``full``), and the ids gone."""

    revision: str
    full: bool
    removed: list[str]
    rows: list[CampaignSummary]


@router.get("/campaigns", responses={
    200: {"model": list[CampaignSummary] | ListChangesAnswer, "headers": _ETAG,
          "description": "the list; with `since`, the changes since that revision"},
    304: {"description": "Not modified since the list whose ETag was sent as If-None-Match", "headers": _ETAG}})
def list_campaigns(
    actor: Actor, ws: Space, request: Request,
    all: bool = False,
    status: list[Status] = Query(default=[]),
    type: list[CampaignType] = Query(default=[]),
    channel: list[Channel] = Query(default=[]),
    tag: list[str] = Query(default=[]),
    search: str = "",
    if_none_match: str | None = Header(None, description="the ETag of the list the client holds"),
    since: str | None = Query(None, description=(
        "the revision of the list the client holds (from the X-List-Revision header): the answer is then "
        "{revision, full, removed, rows} with only the rows changed since (all of them when full)")),
) -> Response:
    """Summaries, newest change first; pre-serialized rows (described, never re-validated) so 10,000 of them stay fast."""
    actions = ws.lifecycle.row_actions(actor)
    f = CampaignFilter(all=all, statuses=status, types=type, channels=channel, tags=tag, search=search)
    eng = request.app.state.engine
    # the actions spliced into the rows depend on who asks and on the approval policies: a revision is theirs
    caller = caller_key(actor.name, actor.role.value, *(p.model_dump_json() for p in ws.lifecycle.policies().by_id.values()))
    revision, changed = eng.list_changes.since(since, caller)
    rows = ws.catalogue.campaign_rows()
    if changed is not None:
        rows = [r for r in rows if r.row["id"] in changed]
    kept = filter_rows(rows, f)
    body = rows_json(kept, eng.latest_runs(), eng.next_fire, actions)
    headers = {"X-List-Revision": eng.list_changes.token(revision, caller)}
    if since is not None:
        removed = sorted(changed - {r.row["id"] for r in kept}) if changed is not None else []
        return Response(changes_json(headers["X-List-Revision"], changed is None, removed, body),
                        media_type="application/json", headers=headers)
    # A console refreshing every second gets "304 Not Modified" while nothing changed: it parses nothing.
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag, **headers})
    return Response(body, media_type="application/json", headers={"ETag": etag, **headers})


@router.get("/approvals", response_model=list[AwaitingApproval])
def awaiting_my_approval(actor: Actor, ws: Space) -> JSONResponse:
    """Drafts whose approval was requested under a policy that names me (or any, for an admin)."""
    return JSONResponse(ws.lifecycle.awaiting_approval(actor))


@router.post("/campaigns", status_code=201)
def create_campaign(edit: CampaignEdit, actor: Actor, ws: Space) -> Campaign:
    return ws.lifecycle.create_campaign(actor, edit)


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, actor: Actor, ws: Space) -> Campaign:
    return ws.lifecycle.campaign(actor, campaign_id)


@router.put("/campaigns/{campaign_id}/draft")
def edit_draft(campaign_id: str, edit: CampaignEdit, actor: Actor, ws: Space) -> Campaign:
    return ws.lifecycle.edit_draft(actor, campaign_id, edit)


@router.delete("/campaigns/{campaign_id}", response_model=Campaign,
               responses={204: {"description": "The Draft campaign was deleted"}})
def delete_campaign(campaign_id: str, actor: Actor, ws: Space) -> Campaign | Response:
    """Deletes a Draft campaign (204), or discards the open draft beside a live version (200, the campaign)."""
    remaining = ws.lifecycle.delete_campaign(actor, campaign_id)
    return Response(status_code=204) if remaining is None else remaining


@router.get("/campaigns/{campaign_id}/audit")
def audit_trail(campaign_id: str, actor: Actor, ws: Space) -> list[AuditEvent]:
    return ws.lifecycle.audit_trail(actor, campaign_id)


@router.post("/campaigns/{campaign_id}/approve")
def approve(campaign_id: str, body: Decision, actor: Actor, ws: Space) -> Campaign:
    """Approve the draft revision ``base_revision`` (it stays In review while other policies wait)."""
    return ws.lifecycle.approve(actor, campaign_id, body.base_revision)


@router.post("/campaigns/{campaign_id}/request-changes")
def request_changes(campaign_id: str, body: ChangesRequest, actor: Actor, ws: Space) -> Campaign:
    return ws.lifecycle.request_changes(actor, campaign_id, body.message, body.base_revision)


@router.post("/campaigns/{campaign_id}/request-approval", summary="Request approval of the draft")
def request_approval(campaign_id: str, actor: Actor, ws: Space, body: ApprovalRequest | None = None) -> Campaign:
    return ws.lifecycle.request_approval(actor, campaign_id, body.message if body else None)


def _action(path: str, method_name: str, summary: str) -> None:
    def endpoint(campaign_id: str, actor: Actor, ws: Space) -> Campaign:
        return getattr(ws.lifecycle, method_name)(actor, campaign_id)

    endpoint.__name__ = method_name
    router.add_api_route(f"/campaigns/{{campaign_id}}/{path}", endpoint, methods=["POST"], summary=summary,
                         response_model=Campaign, status_code=201 if path == "duplicate" else 200)


for _path, _method, _summary in (
    ("cancel-approval-request", "cancel_approval_request", "Cancel my approval request"),
    ("duplicate", "duplicate_campaign", "Duplicate into a new Draft"),
):
    _action(_path, _method, _summary)
