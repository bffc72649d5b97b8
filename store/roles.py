"""Who may do what: the permission matrix of DESIGN.md section 2, enforced by the lifecycle."""

from __future__ import annotations

from enum import Enum

from .errors import Forbidden
from .models import Role, User


class Action(str, Enum):
    view = "view"
    create = "create"
    edit = "edit"
    request_approval = "request approval"
    cancel_approval_request = "cancel approval request"
    approve = "approve"
    request_changes = "request changes"
    activate = "activate"
    activate_approved = "activate an approved version"
    trigger = "trigger an API campaign"
    read_executions = "read executions"
    stop = "stop"
    archive = "archive"
    duplicate = "duplicate"
    delete = "delete"
    manage_users = "manage users"
    manage_channel_configurations = "manage channel configurations"
    manage_audiences = "manage audiences"
    manage_approval_policies = "manage approval policies"
    import_profiles = "import profiles"


_READ = {Action.view, Action.read_executions}
_MANAGER = {
    *_READ, Action.create, Action.edit, Action.request_approval, Action.cancel_approval_request,
    Action.activate, Action.activate_approved, Action.stop, Action.archive, Action.duplicate, Action.delete,
    Action.trigger,
}
_APPROVER = {*_READ, Action.approve, Action.request_changes, Action.activate_approved}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.viewer: frozenset(_READ),
    Role.manager: frozenset(_MANAGER),
    Role.approver: frozenset(_APPROVER),
    Role.admin: frozenset(Action),
    Role.api_client: frozenset({Action.trigger, Action.read_executions}),  # a system: nothing else, not even views
}


def granted_to() -> dict[str, list[str]]:
    """Each action and the roles that may do it: what a client shows to explain a key it hides."""
    return {a.value: [r.value for r in Role if a in PERMISSIONS[r]] for a in Action}


def allowed(user: User, action: Action) -> bool:
    return action in PERMISSIONS[user.role]


def require(user: User, action: Action) -> None:
    """Refuse with a message naming the role that lacks the permission and who has it."""
    if not allowed(user, action):
        holders = [r.value for r in Role if action in PERMISSIONS[r]]
        raise Forbidden(
            f"{user.name} is {user.role.value} and may not {action.value}; "
            f"ask someone who is {' or '.join(holders)}, or an admin to change your role"
        )
