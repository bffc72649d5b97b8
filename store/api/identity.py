"""Who is calling, proven rather than claimed (DESIGN.md section 3).

- In this process, the caller is the OS account running it; on the workspace socket the kernel names the
  connecting process's account (``SO_PEERCRED``, store/peer.py). Either way the account maps to the workspace
  user whose ``os_user`` (by default, name) it is. The account that owns a workspace never served to a group
  may act as anyone with ``--user`` (the ``X-Campaigns-User`` header): a demo's role-play. Once the workspace has
  been served to a group that is refused for good, for everyone.
- Over TCP (`campaigns serve`) the bearer token says who is calling.

Every identity returns the user and how they were proven; the audit trail records both.
"""

from __future__ import annotations

import os
from typing import Annotated, Protocol

from fastapi import Depends, Request

from ..errors import Forbidden, Unauthenticated
from ..models import Caller, User
from ..shared_host import account_name
from ..tokens import matching
from ..workspace import Workspace
from ..local_client import USER_HEADER


PEER_UID = "campaigns.peer_uid"  # the ASGI scope key under which store/peer.py puts the socket peer's uid


class Identity(Protocol):
    def identify(self, request: Request) -> Caller: ...


def _caller(ws: Workspace, name: str, proof: str) -> Caller:
    user = ws.catalogue.users.find(name)
    if user is None:
        raise Unauthenticated(f"{name!r} is not a user of workspace {ws.data_dir}; "
                              f"an admin can add them with `campaigns users add {name} --role manager`")
    return Caller(**user.model_dump(), proof=proof)


class OsAccountIdentity:
    """The caller's OS account: this process's own (in-process), or the socket peer's (``peer``)."""

    def __init__(self, *, peer: bool = False) -> None:
        self.peer = peer

    def identify(self, request: Request) -> Caller:
        ws: Workspace = request.app.state.workspace
        uid = request.scope.get(PEER_UID) if self.peer else os.geteuid()
        if uid is None:
            raise Unauthenticated("the workspace socket could not tell which OS account is connecting")
        account = account_name(uid)
        proof = f"OS account {account} (uid {uid})"
        claimed = request.headers.get(USER_HEADER)
        mapped = _user_of_account(ws, account)
        if claimed and (mapped is None or claimed != mapped.name):
            if uid != os.geteuid():
                raise Forbidden(f"you are OS account {account}: on a shared workspace you act as "
                                f"{mapped.name if mapped else 'the user mapped to your account'}; "
                                "--user cannot name someone else")
            group = ws.catalogue.shared_group()
            if group is not None:
                raise Forbidden(f"--user is refused on this workspace since it was served to group {group}: "
                                f"you act as {mapped.name if mapped else 'the user mapped to OS account ' + account}")
            return _caller(ws, claimed, f"{proof}, the workspace owner, playing {claimed}")
        if mapped is None:
            raise Unauthenticated(f"OS account {account} has no user in workspace {ws.data_dir}; an admin can add one "
                                  f"with `campaigns users add NAME --role viewer --os-user {account}`")
        return Caller(**mapped.model_dump(), proof=proof)


def _user_of_account(ws: Workspace, account: str) -> User | None:
    """The user an OS account acts as: by default the one of the same name (a key look-up, on every request);
    only a user mapped to another account (``--os-user``) needs the scan. One user per account (Administration)."""
    same = ws.catalogue.users.find(account)
    if same is not None and same.os_account == account:
        return same
    return next((u for u in ws.catalogue.users.all() if u.os_account == account), None)


class BadToken(Unauthenticated):
    headers = {"WWW-Authenticate": "Bearer"}


class TokenIdentity:
    """Over the network only a token proves who is calling; a user header naming someone else is refused."""

    def identify(self, request: Request) -> Caller:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BadToken("no token given: send `Authorization: Bearer TOKEN` "
                           "(an admin issues one with `campaigns users token NAME`)")
        ws: Workspace = request.app.state.workspace
        record = matching(ws.catalogue.tokens.all(), token.strip())
        again = "ask an admin for a new one (`campaigns users token NAME`)"
        if record is None:
            raise BadToken(f"this token is unknown; {again}")
        if record.revoked:
            raise BadToken(f"this token was revoked; {again}")
        if record.expires_at is not None and record.expires_at <= ws.clock.now():
            raise BadToken(f"this token expired on {record.expires_at:%Y-%m-%d %H:%M} UTC; {again}")
        name = record.user
        claimed = request.headers.get(USER_HEADER)
        if claimed and claimed != name:
            raise Forbidden(f"{USER_HEADER} names {claimed!r} but the token is {name!r}'s: "
                            "over the network the token says who you are; drop the header")
        return _caller(ws, name, "bearer token")


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def current_user(request: Request) -> Caller:
    return request.app.state.identity.identify(request)


Actor = Annotated[User, Depends(current_user)]
Space = Annotated[Workspace, Depends(workspace)]
