"""Orchestrated campaigns' workflows: test mode (counts without sending or saving) and the counts of a run."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from ..errors import InvalidTransition, NotFound
from ..models import CampaignType, Version
from ..models.workflow import WorkflowCounts
from .identity import Actor, Space

router = APIRouter(prefix="/v1", tags=["workflows"])


def _workflow_version(ws, actor, campaign_id: str, version: Literal["current", "live"]) -> tuple:
    campaign = ws.lifecycle.campaign(actor, campaign_id)
    if campaign.type is not CampaignType.orchestrated:
        raise InvalidTransition(f"{campaign_id} is an {campaign.type.value} campaign; only orchestrated campaigns "
                                "have a workflow")
    chosen: Version | None = campaign.live if version == "live" else campaign.current
    if chosen is None or chosen.workflow is None:
        which = "its live version has" if version == "live" else "it has"
        raise NotFound(f"{campaign_id}: {which} no workflow yet; add activities with `campaigns edit` or the canvas")
    return campaign, chosen


@router.post("/campaigns/{campaign_id}/workflow/test", summary="Test the workflow: every count, nothing sent or saved")
def test_workflow(campaign_id: str, actor: Actor, ws: Space,
                  version: Literal["current", "live"] = Query("current", description=(
                      "current: the draft if there is one, else the live version"))) -> WorkflowCounts:
    """Executes every activity but Save audience and the channel activities (as AJO's test mode does), over the
    profiles as they are now: each transition's count and a sample of its profiles, and each channel activity
    rendered for a sample profile."""
    campaign, chosen = _workflow_version(ws, actor, campaign_id, version)
    return tested(ws, campaign.id, chosen)


def tested(ws, campaign_id: str, version: Version) -> WorkflowCounts:
    """Test mode of ``version``'s workflow over the workspace's profiles and audiences as they are now."""
    from ..workflow_test import run_workflow_test

    assert version.workflow is not None
    audiences = {a.id: a.rule for a in ws.catalogue.audiences.all()}
    return run_workflow_test(ws.profiles, campaign_id, version.number, version.workflow, audiences, ws.clock.now())


@router.get("/campaigns/{campaign_id}/workflow/counts", summary="The counts of a workflow run",
            responses={404: {"description": "No such campaign, or no such run of it"}})
def workflow_counts(campaign_id: str, actor: Actor, ws: Space, request: Request,
                    run: str | None = Query(None, max_length=200, description="a run id; default: the latest run")
                    ) -> WorkflowCounts | None:
    """Each activity's state and each transition's count; null while the campaign has not run yet."""
    ws.lifecycle.campaign(actor, campaign_id)  # may read, and it exists
    counts = request.app.state.engine.workflow_counts(campaign_id, run)
    if counts is None and run is not None:
        raise NotFound(f"{campaign_id} has no run {run!r}; `campaigns runs {campaign_id}` lists them")
    return counts
