"""Messages the outbox provider wrote, as the API pages them (field names as in the outbox files)."""

from __future__ import annotations

from pydantic import Field

from .common import Channel, Model


class OutboxMessage(Model):
    """One line of ``outbox/<channel>.jsonl``; ``sentAt`` stays the text the sender wrote."""

    message_key: str = Field(alias="messageKey")
    campaign_id: str = Field(alias="campaignId")
    run_id: str = Field(alias="runId")
    profile_id: str = Field(alias="profileId")
    channel: Channel
    to: str
    sent_at: str = Field(alias="sentAt")
    content: dict[str, str]


class OutboxPage(Model):
    messages: list[OutboxMessage]
    cursor: str = Field(description="pass it back to continue after this page")
    total: int | None = Field(None, description="with newest: how many messages match in all (more than shown "
                              "when the page was cut)")
