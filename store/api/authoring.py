"""Authoring helpers for the console: check templates as they are typed, render for a test profile."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from ..errors import NotFound, ValidationFailed
from ..models import Content
from ..models.authoring import ContentCheck, Rendered
from ..models.campaign import oversized_content
from ..models.common import Model
from ..templates import RenderError, compile_content, profile_view
from ..templates import check_content as check_templates
from .identity import Actor, Space

router = APIRouter(prefix="/v1", tags=["authoring"])


class RenderRequest(Model):
    profile_id: str | None = None
    version: Literal["live", "draft"] = "live"


@router.post("/content/check")
def check_content(content: Content, actor: Actor, ws: Space) -> ContentCheck:
    """Every template error at once (field, line, column); an empty list when all parse. A viewer may
    call it, so it is bounded like a saved version: 422 for a field over the content limit."""
    ws.lifecycle.check_may_read(actor)
    oversized = oversized_content(content, "draft.content.")
    if oversized:
        raise ValidationFailed.of(oversized)
    try:
        check_templates(content)
    except ValidationFailed as error:
        return ContentCheck(errors=error.errors or [{"field": "draft.content", "message": error.detail}])
    return ContentCheck(errors=[])


@router.post("/campaigns/{campaign_id}/render")
def render_for_profile(campaign_id: str, body: RenderRequest, actor: Actor, ws: Space) -> Rendered:
    """The content of a version as one profile would get it (the audience's first profile by default)."""
    ws.lifecycle.check_may_read(actor)
    campaign = ws.catalogue.campaign(campaign_id)
    version = (campaign.draft if body.version == "draft" else campaign.live) or campaign.current
    profile_id = body.profile_id
    if profile_id is None:
        audience = ws.catalogue.audiences.find(version.audience) if version.audience else None
        first = next(ws.profiles.iter_audience_rows(audience.rule, chunk_size=1), []) if audience else []
        if not first:
            return Rendered(profile_id=None, error="the audience has no profile to render for")
        profile_id = first[0][0]
    try:
        profile = ws.profiles.get(profile_id)
    except NotFound as error:
        return Rendered(profile_id=profile_id, error=error.detail)
    try:
        compiled = compile_content(version.content, version.channel)
        view = profile_view(profile.id, profile.attributes, profile.identities.model_dump())
        return Rendered(profile_id=profile_id, content=compiled.render(view, {}))
    except (RenderError, ValidationFailed) as error:
        return Rendered(profile_id=profile_id, error=str(error) if isinstance(error, RenderError) else error.detail)



