"""Workspace endpoints: me, users, channel configurations, audiences, approval policies, demo seeding."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response

from ..errors import Conflict, ValidationFailed
from ..models import ApprovalPolicy, ChannelConfiguration, Role, User, proof_of
from ..models.audience import Audience
from ..models.common import Model
from ..models.token import IssuedToken, RevokedTokens, TokenRequest
from ..models.workspace_info import DemoSeeded, WorkspaceInfo
from .identity import Actor, Space

router = APIRouter(prefix="/v1", tags=["workspace"])


class RoleChange(Model):
    role: Role


class AudienceSize(Model):
    audience: str
    size: int


@router.get("/me")
def me(actor: Actor, ws: Space) -> WorkspaceInfo:
    from ..roles import PERMISSIONS, granted_to

    return WorkspaceInfo(data_dir=str(ws.data_dir), user=actor, proof=proof_of(actor) or "",
                         permissions=sorted(a.value for a in PERMISSIONS[actor.role]), now=ws.clock.now(),
                         granted_to=granted_to(), engine_pid=os.getpid())


@router.get("/users")
def users(actor: Actor, ws: Space) -> list[User]:
    return ws.administration.users(actor)


@router.post("/users", status_code=201)
def add_user(user: User, actor: Actor, ws: Space) -> User:
    return ws.administration.add_user(actor, user)


@router.put("/users/{name}/role")
def set_role(name: str, change: RoleChange, actor: Actor, ws: Space) -> User:
    return ws.administration.set_role(actor, name, change.role)


@router.delete("/users/{name}", status_code=204)
def remove_user(name: str, actor: Actor, ws: Space) -> Response:
    ws.administration.remove_user(actor, name)
    return Response(status_code=204)


@router.post("/users/{name}/tokens", status_code=201)
def issue_token(name: str, actor: Actor, ws: Space, asked: TokenRequest | None = None) -> IssuedToken:
    """A new bearer token for `campaigns serve`, in clear this once only; it expires (90 days by default)."""
    token, record = ws.administration.issue_token(actor, name, (asked or TokenRequest()).days)
    assert record.expires_at is not None
    return IssuedToken(user=name, token=token, expires_at=record.expires_at)


@router.delete("/users/{name}/tokens")
def revoke_tokens(name: str, actor: Actor, ws: Space) -> RevokedTokens:
    return RevokedTokens(user=name, revoked=ws.administration.revoke_tokens(actor, name))


@router.get("/channel-configurations")
def channel_configurations(actor: Actor, ws: Space) -> list[ChannelConfiguration]:
    """Webhook header values are secrets: every answer shows them masked."""
    return ws.administration.channel_configurations(actor)


@router.put("/channel-configurations/{config_id}")
def put_channel_configuration(config_id: str, config: ChannelConfiguration, actor: Actor, ws: Space) -> ChannelConfiguration:
    """A header value sent back as the mask keeps the stored secret, so a listed document can be edited and put."""
    _same_id(config_id, config.id)
    return ws.administration.put_channel_configuration(actor, config).masked()


@router.delete("/channel-configurations/{config_id}", status_code=204)
def remove_channel_configuration(config_id: str, actor: Actor, ws: Space) -> Response:
    ws.administration.remove_channel_configuration(actor, config_id)
    return Response(status_code=204)


@router.get("/audiences")
def audiences(actor: Actor, ws: Space) -> list[Audience]:
    return ws.administration.audiences(actor)


@router.put("/audiences/{audience_id}")
def put_audience(audience_id: str, audience: Audience, actor: Actor, ws: Space) -> Audience:
    _same_id(audience_id, audience.id)
    return ws.administration.put_audience(actor, audience)


@router.delete("/audiences/{audience_id}", status_code=204)
def remove_audience(audience_id: str, actor: Actor, ws: Space) -> Response:
    ws.administration.remove_audience(actor, audience_id)
    return Response(status_code=204)


@router.get("/audiences/{audience_id}/size")
def audience_size(audience_id: str, actor: Actor, ws: Space) -> AudienceSize:
    """Counted in SQLite; profiles are never loaded into memory."""
    audience = ws.administration.audience(actor, audience_id)
    return AudienceSize(audience=audience.id, size=ws.profiles.count_audience(audience.rule))


@router.get("/approval-policies")
def approval_policies(actor: Actor, ws: Space) -> list[ApprovalPolicy]:
    return ws.administration.approval_policies(actor)


@router.post("/approval-policies", status_code=201)
def add_approval_policy(policy: ApprovalPolicy, actor: Actor, ws: Space) -> ApprovalPolicy:
    """A new policy; 409 when its id exists (PUT changes one)."""
    return ws.administration.add_approval_policy(actor, policy)


@router.put("/approval-policies/{policy_id}")
def put_approval_policy(policy_id: str, policy: ApprovalPolicy, actor: Actor, ws: Space) -> ApprovalPolicy:
    _same_id(policy_id, policy.id)
    return ws.administration.put_approval_policy(actor, policy)


@router.delete("/approval-policies/{policy_id}", status_code=204)
def remove_approval_policy(policy_id: str, actor: Actor, ws: Space) -> Response:
    ws.administration.remove_approval_policy(actor, policy_id)
    return Response(status_code=204)


@router.post("/workspace/seed-demo", status_code=201)
def seed_demo(actor: Actor, ws: Space) -> DemoSeeded:
    """Fill a new, empty workspace with a realistic demo; refused once anything is in it."""
    from ..demo import seed_demo_workspace

    ws.administration.check_may_seed_demo(actor)
    if not ws.is_empty():
        raise Conflict(f"workspace {ws.data_dir} already holds data; the demo only seeds a new, empty workspace")
    return seed_demo_workspace(ws, actor)


def _same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise ValidationFailed(f"the path names {path_id!r} but the body's id is {body_id!r}",
                               [{"field": "id", "message": f"must be {path_id!r}"}])
