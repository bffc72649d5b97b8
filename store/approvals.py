"""Which approval policies apply to a campaign, and whether a user may decide on them."""

from __future__ import annotations

from collections.abc import Sequence

from .models import ApprovalPolicy, CampaignType, Category, Channel, Role, User


def policies_for(policies: list[ApprovalPolicy], type: CampaignType, category: Category | str,
                 channel: Channel | str, tags: Sequence[str]) -> list[ApprovalPolicy]:
    """Every enabled policy whose conditions match, by id: each needs an approval; none means no approval
    is needed. (One matching policy never shadows another: a VIP rule still holds on a marketing email.)"""
    category, channel = Category(category), Channel(channel)
    return [policy for policy in sorted(policies, key=lambda p: p.id)
            if policy.enabled and policy.conditions.matches(type, category, channel, list(tags))]


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


def decidable(user: User, policies: Sequence[ApprovalPolicy], requested_by: str | None,
              updated_by: str | None) -> list[ApprovalPolicy]:
    """The policies among ``policies`` that ``user`` may decide under: one approval satisfies them all."""
    return [p for p in policies if may_decide(user, p, requested_by, updated_by) is None]


def why_not_decider(user: User, policies: Sequence[ApprovalPolicy], requested_by: str | None,
                    updated_by: str | None) -> str | None:
    """Why ``user`` may decide under none of the waiting ``policies`` (None when they may under one)."""
    refusals = [may_decide(user, p, requested_by, updated_by) for p in policies]
    if not policies or None in refusals:
        return None
    return "; ".join(r for r in refusals if r)
