"""The base of every model; the words they share are plain enums in store/vocabulary.py, re-exported here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..vocabulary import HIDDEN_BY_DEFAULT, CampaignType, Category, Channel, ExclusionReason, Role, Status


class Model(BaseModel):
    """Base of every model: unknown fields are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


__all__ = ["HIDDEN_BY_DEFAULT", "CampaignType", "Category", "Channel", "ExclusionReason", "Model", "Role", "Status"]
