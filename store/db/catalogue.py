"""The campaign store: TinyDB over the journaled storage; the only module that touches its files.

Campaigns are keyed by their number (``cmp-42`` is TinyDB document 42), so getting one is a
dictionary look-up. Audit events go to one table per target (``audit/cmp-42``,
``audit/workspace``): TinyDB rebuilds a table on every insert, so a single workspace-wide
audit table would make every change slower as the trail grows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel
from tinydb import Query, TinyDB
from tinydb.table import Document

from ..errors import NotFound
from ..listing import ListRow
from ..models import AuditEvent, Campaign
from .journal import JournalStorage

CAMPAIGN_PREFIX = "cmp-"
T = TypeVar("T", bound=BaseModel)


def campaign_number(campaign_id: str) -> int:
    """``cmp-42`` → 42; anything else is not a campaign id."""
    if campaign_id.startswith(CAMPAIGN_PREFIX) and campaign_id[len(CAMPAIGN_PREFIX):].isdigit():
        return int(campaign_id[len(CAMPAIGN_PREFIX):])
    raise NotFound(f"no campaign {campaign_id!r}: campaign ids look like cmp-42 (see `campaigns list`)")


class Collection(Generic[T]):
    """A small table of models keyed by one field (users by name, audiences by id, ...)."""

    def __init__(self, db: TinyDB, lock: threading.RLock, name: str, model: type[T], key: str, noun: str) -> None:
        self._table, self._lock = db.table(name), lock
        self._model, self._key, self._noun = model, key, noun

    def get(self, key: str) -> T:
        found = self.find(key)
        if found is None:
            raise NotFound(f"no {self._noun} {key!r}")
        return found

    def find(self, key: str) -> T | None:
        with self._lock:
            doc = self._table.get(Query()[self._key] == key)
        return None if doc is None else self._model.model_validate(doc)

    def all(self) -> list[T]:
        with self._lock:
            docs = self._table.all()
        return sorted((self._model.model_validate(d) for d in docs), key=lambda m: getattr(m, self._key))

    def put(self, item: T) -> None:
        with self._lock:
            self._table.upsert(item.model_dump(mode="json"), Query()[self._key] == getattr(item, self._key))

    def remove(self, key: str) -> None:
        with self._lock:
            if not self._table.remove(Query()[self._key] == key):
                raise NotFound(f"no {self._noun} {key!r}")


class Catalogue:
    """Campaigns, users, channel configurations, audiences, approval policies and the audit trail."""

    def __init__(self, data_dir: Path) -> None:
        from ..models import ApprovalPolicy, ChannelConfiguration, User
        from ..models.audience import Audience

        self._db = TinyDB(str(data_dir), storage=JournalStorage)
        self._campaigns = self._db.table("campaigns")
        self._meta = self._db.table("meta")
        # API handlers run in a thread pool; the storage is not thread-safe, and a read during another
        # thread's batch would see its pending changes. Every read and write takes this lock.
        self.lock = threading.RLock()
        self._rows: dict[int, ListRow] | None = None
        self.users = Collection(self._db, self.lock, "users", User, "name", "user")
        self.channel_configurations = Collection(
            self._db, self.lock, "channel_configurations", ChannelConfiguration, "id", "channel configuration")
        self.audiences = Collection(self._db, self.lock, "audiences", Audience, "id", "audience")
        self.approval_policies = Collection(self._db, self.lock, "approval_policies", ApprovalPolicy, "id", "approval policy")

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group the writes of one change (the campaign and its audit event) into one journal entry."""
        with self.lock:
            try:
                with self._db.storage.batch():
                    yield
            except BaseException:
                self._rows = None  # rolled back in memory: rebuild the rows from what is really stored
                raise

    # campaigns ---------------------------------------------------------------------------
    def allocate_campaign_id(self) -> str:
        """Numbers are never reused, even after a draft is deleted, so an id in a log stays unambiguous."""
        with self.lock:
            counter = self._meta.get(doc_id=1) or {"next_campaign": 1}
            number = counter["next_campaign"]
            self._meta.upsert(Document({"next_campaign": number + 1}, doc_id=1))
        return f"{CAMPAIGN_PREFIX}{number}"

    def campaign(self, campaign_id: str) -> Campaign:
        with self.lock:
            doc = self._campaigns.get(doc_id=campaign_number(campaign_id))
        if doc is None:
            raise NotFound(f"no campaign {campaign_id!r} (see `campaigns list --all`)")
        return Campaign.model_validate(doc)

    def save_campaign(self, campaign: Campaign) -> None:
        doc = Document(campaign.model_dump(mode="json"), doc_id=campaign_number(campaign.id))
        with self.lock:
            self._campaigns.upsert(doc)
            if self._rows is not None:
                self._rows[doc.doc_id] = ListRow.of(doc)

    def remove_campaign(self, campaign_id: str) -> None:
        number = campaign_number(campaign_id)
        with self.lock:
            self._campaigns.remove(doc_ids=[number])
            if self._rows is not None:
                self._rows.pop(number, None)

    def campaign_documents(self) -> list[dict]:
        """Raw documents: building 10,000 full models would be needlessly slow."""
        with self.lock:
            return self._campaigns.all()

    def campaign_rows(self) -> list[ListRow]:
        """The list's rows, kept up to date on every save so listing 10,000 campaigns re-reads nothing."""
        with self.lock:
            if self._rows is None:
                self._rows = {doc.doc_id: ListRow.of(doc) for doc in self._campaigns.all()}
            return list(self._rows.values())

    # audit -------------------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> None:
        with self.lock:
            self._db.table(f"audit/{event.target}").insert(event.model_dump(mode="json"))

    def audit_trail(self, target: str) -> list[AuditEvent]:
        with self.lock:
            docs = self._db.table(f"audit/{target}").all()
        return [AuditEvent.model_validate(d) for d in docs]
