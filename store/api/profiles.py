"""Profile endpoints: chunked import (so the client can draw progress), look-up and counts."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from ..models.common import Model
from ..models.profile import ImportSummary, Profile, ProfileStats
from .identity import Actor, Space

router = APIRouter(prefix="/v1/profiles", tags=["profiles"])


class ImportChunkRequest(Model):
    format: Literal["csv", "jsonl"]
    header: list[str] | None = None
    text: str
    first_line: int = 1


@router.post("/import-chunk")
def import_chunk(chunk: ImportChunkRequest, actor: Actor, ws: Space) -> ImportSummary:
    """One chunk of complete records; the CSV header travels with each chunk so chunks are independent."""
    ws.administration.check_may_import_profiles(actor)
    if chunk.format == "csv":
        ws.profiles.validate_csv_header(chunk.header or [])
        return ws.profiles.import_csv_chunk(chunk.header or [], chunk.text, chunk.first_line)
    return ws.profiles.import_jsonl_chunk(chunk.text, chunk.first_line)


@router.get("/stats")
def stats(actor: Actor, ws: Space) -> ProfileStats:
    ws.lifecycle.check_may_read(actor)
    return ProfileStats(profiles=ws.profiles.count(), lists=ws.profiles.list_names())


@router.get("/{profile_id}")
def get_profile(profile_id: str, actor: Actor, ws: Space) -> Profile:
    ws.lifecycle.check_may_read(actor)
    return ws.profiles.get(profile_id)
