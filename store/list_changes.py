"""Which campaigns' list rows changed since a revision, so a console refreshing every second is sent
only those rows instead of all 10,000 (re-read and re-decoded every second, they cost keystrokes).

A row changes when its campaign is saved, when the scheduler moves its next run, and when a run of it
starts or ends (the counters of a run in flight travel separately: ``GET /v1/runs/active``). A revision
token names this process's count of changes (``epoch``: an engine restarted since answers in full) and
the caller it was answered for (the rows carry that caller's actions).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading


def caller_key(*parts: str) -> str:
    """A short name for what a caller's rows depend on besides the campaigns (who asks, the policies)."""
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=6).hexdigest()


def changes_json(token: str, full: bool, removed: list[str], rows: bytes) -> bytes:
    """An incremental answer around the rows' pre-serialized JSON array."""
    head = json.dumps({"revision": token, "full": full, "removed": removed})[:-1]
    return head.encode() + b',"rows":' + rows + b"}"


class ListChanges:
    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self._revision = 0
        self._changed: dict[str, int] = {}  # campaign id → revision of its last change, oldest change first
        self._lock = threading.Lock()

    def touch(self, campaign_id: str) -> None:
        with self._lock:
            self._revision += 1
            self._changed.pop(campaign_id, None)
            self._changed[campaign_id] = self._revision

    def token(self, revision: int, caller: str) -> str:
        return f"{self.epoch}.{revision}.{caller}"

    def since(self, token: str | None, caller: str) -> tuple[int, set[str] | None]:
        """The current revision and the campaigns changed after ``token``'s; None (all of them) without a
        token, or with one from another engine, another caller, or no revision this engine gave."""
        epoch, _, rest = (token or "").partition(".")
        number, _, theirs = rest.partition(".")
        with self._lock:
            if epoch != self.epoch or theirs != caller or not number.isdigit() or int(number) > self._revision:
                return self._revision, None
            changed = set()
            for campaign_id in reversed(self._changed):  # newest change first: stop at the client's revision
                if self._changed[campaign_id] <= int(number):
                    break
                changed.add(campaign_id)
            return self._revision, changed
