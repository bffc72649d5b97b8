"""The approvals inbox: drafts waiting for the caller's decision."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .campaign import CampaignSummary


class AwaitingApproval(CampaignSummary):
    """A campaign's list row with who asked and when; blocked when deciding would be self-approval."""

    requested_by: str
    requested_at: datetime
    self_approval_blocked: bool
    revision: int = Field(description="the draft revision awaiting the decision: an approval names it")
    waiting: list[str] = Field(default_factory=list, description="the policies still waiting for an approval")
    request_message: str | None = Field(None, description="the requester's message to the approvers")
