"""Bearer tokens: random, stored only as hashes, compared in constant time.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. A plain sha256 is enough to store it: slow, salted
hashes exist to stop guessing low-entropy passwords from a stolen hash, and no guessing reaches 2**256. The
stored hash is compared with ``hmac.compare_digest`` against every live record, so how long a check takes says
nothing about how close a forged token came (a workspace holds tens of tokens, not millions).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from .models.token import TokenRecord

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(user: str, now: datetime) -> tuple[str, TokenRecord]:
    """A fresh token for ``user`` and the record to store (which holds its hash, never the token)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, TokenRecord(id=f"tok-{secrets.token_hex(6)}", user=user, hash=token_hash(token), created_at=now)


def holder(records: Iterable[TokenRecord], token: str) -> str | None:
    """The user a presented token belongs to, or None when it is unknown or revoked."""
    presented = token_hash(token)
    found = None
    for record in records:
        if hmac.compare_digest(presented, record.hash) and not record.revoked:
            found = record.user
    return found
