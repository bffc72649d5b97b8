"""Which approval policy applies to a campaign, and whether a user may decide on it."""

from __future__ import annotations

from .errors import Forbidden
from .models import ApprovalPolicy, Campaign, Role, User, Version


def policy_for(policies: list[ApprovalPolicy], campaign: Campaign, version: Version) -> ApprovalPolicy | None:
    """The first enabled policy (by id) whose conditions match; None means no approval is needed."""
    for policy in sorted(policies, key=lambda p: p.id):
        if policy.enabled and policy.conditions.matches(campaign.type, campaign.category, version.channel, campaign.tags):
            return policy
    return None


def self_approval(user: User, version: Version) -> bool:
    """Approving your own work: you asked for the approval, or you made the last edit."""
    requester = version.approval.requested_by if version.approval else None
    return user.name in (requester, version.updated_by)


def check_may_decide(user: User, policy: ApprovalPolicy, version: Version) -> None:
    """Admins decide on any policy; others must be named by it. Self-approval is blocked by default."""
    if user.role is not Role.admin and not policy.approvers.includes(user):
        names = policy.approvers.users + [f"any {r.value}" for r in policy.approvers.roles]
        raise Forbidden(
            f"{user.name} is not an approver under policy {policy.id!r}; approvers are {', '.join(names)}"
        )
    if policy.block_self_approval and self_approval(user, version):
        raise Forbidden(
            f"{user.name} requested or last edited this version and policy {policy.id!r} blocks self-approval; "
            "ask another approver"
        )
