"""Bearer token records for `campaigns serve`: only the token's hash is ever stored."""

from __future__ import annotations

from datetime import datetime

from .common import Model


class TokenRecord(Model):
    id: str  # a public handle for the audit trail; never part of the secret
    user: str
    hash: str  # sha256 of the token, hex
    created_at: datetime
    revoked: bool = False


class IssuedToken(Model):
    """The one answer that carries a token in clear: shown once, then only its hash remains."""

    user: str
    token: str


class RevokedTokens(Model):
    user: str
    revoked: int
