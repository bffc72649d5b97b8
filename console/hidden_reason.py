"""Why a key does nothing for this user on this campaign: one line, told when the hidden key is pressed.

A key that silently does nothing reads as a broken console. The role's reason uses the server's permission
words and which roles hold each (``/v1/me``); otherwise the campaign's state is why (the server's ``actions``).
"""

from __future__ import annotations

from store.models import CampaignSummary

from .actions import ConsoleAction
from .display import status_label


def hidden_reason(action: ConsoleAction, campaign: CampaignSummary | None, *, user: str, role: str,
                  permissions: set[str], granted_to: dict[str, list[str]]) -> str:
    if action.permission is not None and action.permission not in permissions:
        holders = [r for r in granted_to.get(action.permission, []) if r != role]
        needs = f"needs {' or '.join(holders)}" if holders else "is not open to any role"
        article = "an" if role[:1] in "aeiou" else "a"
        return f"{user} is {article} {role}: {action.name.lower()} {needs}"
    if campaign is None:
        return f"{action.name}: select a campaign first"
    status = status_label(campaign.status, campaign.has_draft, campaign.draft_approval)
    return f"{action.name} is not possible on {campaign.name} now ({status})"
