"""Which approval policy applies to a campaign, and whether a user may decide on it."""

from __future__ import annotations

from collections.abc import Sequence

from .models import ApprovalPolicy, CampaignType, Category, Channel, Role, User


def policy_for(policies: list[ApprovalPolicy], type: CampaignType, category: Category | str, channel: Channel | str,
               tags: Sequence[str]) -> ApprovalPolicy | None:
    """The first enabled policy (by id) whose conditions match; None means no approval is needed."""
    category, channel = Category(category), Channel(channel)
    for policy in sorted(policies, key=lambda p: p.id):
        if policy.enabled and policy.conditions.matches(type, category, channel, list(tags)):
            return policy
    return None


def self_approval(user: User, requested_by: str | None, updated_by: str | None) -> bool:
    """Approving your own work: you asked for the approval, or you made the last edit."""
    return user.name in (requested_by, updated_by)


def may_decide(user: User, policy: ApprovalPolicy, requested_by: str | None, updated_by: str | None) -> str | None:
    """Why ``user`` may not decide under ``policy`` (None when they may): admins decide on any policy, others
    must be named by it; self-approval is blocked by default."""
    if user.role is not Role.admin and not policy.approvers.includes(user):
        names = policy.approvers.users + [f"any {r.value}" for r in policy.approvers.roles]
        return f"{user.name} is not an approver under policy {policy.id!r}; approvers are {', '.join(names)}"
    if policy.block_self_approval and self_approval(user, requested_by, updated_by):
        return (f"{user.name} requested or last edited this version and policy {policy.id!r} blocks self-approval; "
                "ask another approver")
    return None
