"""Who is calling. The embedded client names a workspace user in a header; over TCP (`campaigns serve`)
the bearer token says who it is. Both implement ``user_name``: no endpoint knows the transport."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from ..errors import Forbidden, Unauthenticated
from ..tokens import holder
from ..models import User
from ..workspace import Workspace

USER_HEADER = "X-Campaigns-User"


class Identity(Protocol):
    def user_name(self, request: Request) -> str | None: ...


class EmbeddedIdentity:
    """Trusted because the caller runs in-process, as the OS account that owns the workspace."""

    def user_name(self, request: Request) -> str | None:
        return request.headers.get(USER_HEADER)


class BadToken(Unauthenticated):
    headers = {"WWW-Authenticate": "Bearer"}


class TokenIdentity:
    """Over the network only a token proves who is calling; a user header naming someone else is refused."""

    def user_name(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BadToken("no token given: send `Authorization: Bearer TOKEN` "
                           "(an admin issues one with `campaigns users token NAME`)")
        name = holder(request.app.state.workspace.catalogue.tokens.all(), token.strip())
        if name is None:
            raise BadToken("this token is unknown or revoked; ask an admin for a new one (`campaigns users token NAME`)")
        claimed = request.headers.get(USER_HEADER)
        if claimed and claimed != name:
            raise Forbidden(f"{USER_HEADER} names {claimed!r} but the token is {name!r}'s: "
                            "over the network the token says who you are; drop the header")
        return name


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
