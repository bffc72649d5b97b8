"""Bearer token records for `campaigns serve`: only the token's hash is ever stored."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Model

TOKEN_DAYS = 90  # how long a token lives unless the admin says otherwise
MAX_TOKEN_DAYS = 3650  # a system's token (another service calling the API) may live ten years, not forever


class TokenRecord(Model):
    id: str  # a public handle for the audit trail; never part of the secret
    user: str
    hash: str  # sha256 of the token, hex
    created_at: datetime
    expires_at: datetime | None = None  # None: issued before tokens expired (they live until revoked)
    revoked: bool = False


class TokenRequest(Model):
    days: int = Field(TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS, description="how many days the token is valid")


class IssuedToken(Model):
    """The one answer that carries a token in clear: shown once, then only its hash remains."""

    user: str
    token: str
    expires_at: datetime


class RevokedTokens(Model):
    user: str
    revoked: int
