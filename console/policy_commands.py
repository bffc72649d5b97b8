"""`campaigns policies`: the approval policies admins manage (list, add, edit, enable, disable).

Only admins may change them: the Administration refuses anyone else (403, one line); every change is audited there.
"""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from store.client import CampaignsClient
from store.errors import CampaignsError, NotFound, ValidationFailed
from store.models import ApprovalPolicy, field_errors

from . import output
from .documents import parse_document, read_document, run_editor


def policy_from_document(document: object) -> ApprovalPolicy:
    """A policy from a person's document; model errors become one field-level ValidationFailed."""
    try:
        return ApprovalPolicy.model_validate(document)
    except ValidationError as error:
        raise ValidationFailed.of(field_errors(error)) from None


def describe_conditions(policy: ApprovalPolicy) -> str:
    """``category marketing · channel email`` for people; ``every campaign`` when nothing narrows it."""
    c = policy.conditions
    parts = [f"{noun} {', '.join(str(getattr(v, 'value', v)) for v in values)}"
             for noun, values in (("type", c.types), ("category", c.categories), ("channel", c.channels),
                                  ("tag", c.tags)) if values]
    return " · ".join(parts) or "every campaign"


def describe_approvers(policy: ApprovalPolicy) -> str:
    a = policy.approvers
    return ", ".join([*a.users, *(f"any {r.value}" for r in a.roles)])


async def list_policies(client: CampaignsClient, args: argparse.Namespace) -> int:
    policies = await client.approval_policies()
    if args.json:
        output.print_json([p.model_dump(mode="json") for p in policies])
        return 0
    for p in policies:
        state = "enabled " if p.enabled else "disabled"
        output.out.print(f"{p.id:<24} {state}  {p.name}  when {describe_conditions(p)}; "
                         f"approved by {describe_approvers(p)}", markup=False)
    output.err.print(f"{len(policies)} approval polic{'y' if len(policies) == 1 else 'ies'}")
    return 0


async def add_policy(client: CampaignsClient, args: argparse.Namespace) -> int:
    policy = await client.add_approval_policy(policy_from_document(read_document(args.file)))
    output.err.print(f"approval policy {policy.id} added", markup=False)
    return 0


async def _existing(client: CampaignsClient, policy_id: str) -> ApprovalPolicy:
    for policy in await client.approval_policies():
        if policy.id == policy_id:
            return policy
    raise NotFound(f"no approval policy {policy_id!r}; `campaigns policies list` shows them, "
                   "`campaigns policies add --file F` adds one")


async def _save(client: CampaignsClient, policy_id: str, policy: ApprovalPolicy) -> ApprovalPolicy:
    if policy.id != policy_id:
        raise ValidationFailed(f"the document's id is {policy.id!r}, not {policy_id!r}; a policy's id cannot "
                               "change (add the new one with `campaigns policies add`)")
    return await client.put_approval_policy(policy)


async def edit_policy(client: CampaignsClient, args: argparse.Namespace) -> int:
    """From --file, or in $EDITOR without it; an edit that fails to save is kept, and the line says where."""
    current = await _existing(client, args.id)
    if args.file is not None:
        await _save(client, args.id, policy_from_document(read_document(args.file)))
        output.err.print(f"approval policy {args.id} saved", markup=False)
        return 0
    path = run_editor(current.model_dump(mode="json"), f"policy-{args.id}")
    if path is None:
        output.err.print("no changes made")
        return 0
    try:
        await _save(client, args.id, policy_from_document(parse_document(path.read_bytes(), "the edited policy")))
    except CampaignsError as error:
        error.detail += f"; your edit is kept at {path} (`campaigns policies edit {args.id} --file {path}` saves it)"
        raise
    path.unlink()
    output.err.print(f"approval policy {args.id} saved", markup=False)
    return 0


def set_enabled(enabled: bool):
    async def run(client: CampaignsClient, args: argparse.Namespace) -> int:
        policy = await _existing(client, args.id)
        await client.put_approval_policy(policy.model_copy(update={"enabled": enabled}))
        output.err.print(f"approval policy {args.id} {'enabled' if enabled else 'disabled'}", markup=False)
        return 0

    return run
