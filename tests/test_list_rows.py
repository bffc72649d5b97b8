"""The console's compact list rows (store.list_rows) say what the API's CampaignSummary says, field for field."""

from __future__ import annotations

import gc

import msgspec
import pytest

from store.list_rows import CampaignRow, decode_rows, summary
from store.listing import CampaignFilter
from store.models import CampaignSummary
from store.models.campaign import LastRun

from .console_support import _client, copy_workspace, frozen, seed_demo


def test_a_row_has_every_field_of_the_summary_with_its_default():
    assert CampaignRow.__struct_fields__ == tuple(CampaignSummary.model_fields)
    row = msgspec.convert({"id": "cmp-1", "name": "n", "type": "api", "category": "marketing", "status": "Live",
                           "channel": "sms", "has_draft": False, "updated_by": "ann",
                           "updated_at": "2026-11-26T10:00:00Z"}, CampaignRow)
    assert summary(row) == CampaignSummary.model_validate(msgspec.to_builtins(row))
    assert summary(row).tags == [] and row.tags == () and row.last_run is None and summary(row).actions == []
    assert not gc.is_tracked(row)  # 100,000 of them cost the collector nothing


@pytest.fixture
def demo(tmp_path):
    return copy_workspace(seed_demo(tmp_path / "demo", frozen()), tmp_path / "ws")


async def test_rows_decoded_from_the_api_are_the_summaries_the_client_returns(demo):
    from store.engine.engine import Engine
    from store.workspace import Workspace

    ws = Workspace(demo, clock=frozen())
    engine = Engine(ws)
    try:
        client = _client(ws, engine, "root")
        everything = CampaignFilter(all=True)
        summaries, rows = await client.list_campaigns(everything), await client.campaign_rows(everything)
        assert [summary(r) for r in rows] == summaries and len(rows) == 43
        assert any(s.last_run for s in summaries) and any(s.actions for s in summaries)
        assert isinstance(next(r.last_run for r in rows if r.last_run), msgspec.Struct)
        assert await client.campaign_rows(everything) is rows  # not modified: the rows decoded before
        response = await client.http.get("/v1/campaigns", params={"all": "true"})
        assert decode_rows(response.content) == rows
    finally:
        await client.aclose()
        engine.shutdown()
        ws.close()


def test_a_nested_model_becomes_a_struct_of_its_own_fields():
    from store.list_rows import struct_of

    assert struct_of(LastRun).__struct_fields__ == tuple(LastRun.model_fields)
    assert struct_of(LastRun) is struct_of(LastRun)
