"""Deciding on a campaign's current draft revision through the client, for tests that set up states."""

from __future__ import annotations

from store.client import CampaignsClient
from store.models import Campaign


async def approve_current(client: CampaignsClient, campaign_id: str) -> Campaign:
    return await client.approve(campaign_id, (await client.campaign(campaign_id)).current.revision)


async def request_changes_current(client: CampaignsClient, campaign_id: str, message: str) -> Campaign:
    return await client.request_changes(campaign_id, message, (await client.campaign(campaign_id)).current.revision)
