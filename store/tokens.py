"""Bearer tokens: random, stored only as hashes, compared in constant time.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. A plain sha256 is enough to store it: slow, salted
hashes exist to stop guessing low-entropy passwords from a stolen hash, and no guessing reaches 2**256. The
stored hash is compared with ``hmac.compare_digest`` against every live record, so how long a check takes says
nothing about how close a forged token came (a workspace holds tens of tokens, not millions). Tokens
expire (90 days unless the admin asks for another span), so one copied long ago stops working by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from .models.token import TokenRecord

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(user: str, now: datetime, days: int) -> tuple[str, TokenRecord]:
    """A fresh token for ``user`` and the record to store (which holds its hash, never the token)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    while token.startswith("-"):  # `--token -abc…` would read as a missing value on every command line
        token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, TokenRecord(id=f"tok-{secrets.token_hex(6)}", user=user, hash=token_hash(token), created_at=now,
                              expires_at=now + timedelta(days=days))


def matching(records: Iterable[TokenRecord], token: str) -> TokenRecord | None:
    """The record of a presented token (revoked and expired ones included, so the caller can say which)."""
    presented = token_hash(token)
    found = None
    for record in records:
        if hmac.compare_digest(presented, record.hash):
            found = record
    return found
