"""Who is calling. The embedded client names a workspace user in a header; a token identity
for `campaigns serve` will implement the same ``user_name`` without touching any endpoint."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from ..errors import Unauthenticated
from ..models import User
from ..workspace import Workspace

USER_HEADER = "X-Campaigns-User"


class Identity(Protocol):
    def user_name(self, request: Request) -> str | None: ...


class EmbeddedIdentity:
    """Trusted because the caller runs in-process, as the OS account that owns the workspace."""

    def user_name(self, request: Request) -> str | None:
        return request.headers.get(USER_HEADER)


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def current_user(request: Request) -> User:
    name = request.app.state.identity.user_name(request)
    if not name:
        raise Unauthenticated(f"no user given: pass --user NAME or set CAMPAIGNS_USER (header {USER_HEADER})")
    user = request.app.state.workspace.catalogue.users.find(name)
    if user is None:
        raise Unauthenticated(
            f"{name!r} is not a user of workspace {request.app.state.workspace.data_dir}; "
            f"an admin can add them with `campaigns users add {name} --role manager`")
    return user


Actor = Annotated[User, Depends(current_user)]
Space = Annotated[Workspace, Depends(workspace)]
