"""The campaign store: TinyDB over the journaled storage; the only module that touches its files.

Campaigns are keyed by their number (``cmp-42`` is TinyDB document 42), so getting one is a
dictionary look-up. Audit events go to one table per target (``audit/cmp-42``,
``audit/workspace``), so reading one campaign's trail scans its own events only. Tables are
``JournalTable``s: a write journals the documents it changes, whatever the catalogue's size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError
from tinydb import Query, TinyDB
from tinydb.table import Document

from ..collector import collector_paused
from ..errors import NotFound
from ..listing import ListRow
from ..models import ApprovalPolicy, AuditEvent, Campaign, ChannelConfiguration, User, field_errors
from ..models.audience import Audience
from ..models.token import TokenRecord
from .table import JournalDB

CAMPAIGN_PREFIX = "cmp-"
AUDIT_PREFIX = "audit/"
T = TypeVar("T", bound=BaseModel)

COLLECTIONS: dict[str, tuple[type[BaseModel], str, str]] = {
    "users": (User, "name", "user"),
    "channel_configurations": (ChannelConfiguration, "id", "channel configuration"),
    "audiences": (Audience, "id", "audience"),
    "approval_policies": (ApprovalPolicy, "id", "approval policy"),
    "tokens": (TokenRecord, "id", "token"),
}
"""Table name: (model, key field, noun) of each small collection."""
SHOWN_FIELD_ERRORS = 3


def document_problem(table: str, key: str, document: dict) -> str | None:
    """Why a stored document cannot be read as its model, or None.

    The catalogue checks every document when it opens, so a hand-edited or damaged file is refused
    with its table and id named, instead of a traceback on whichever command first reads it.
    """
    if table == "meta":
        counter = document.get("next_campaign")
        return None if type(counter) is int and counter >= 1 else "next_campaign must be a whole number from 1"
    if table == "sharing":
        group = document.get("group")
        return None if isinstance(group, str) and group else "group must name the OS group the workspace was served to"
    if table == "campaigns":
        model: type[BaseModel] = Campaign
    elif table.startswith(AUDIT_PREFIX):
        model = AuditEvent
    elif table in COLLECTIONS:
        model = COLLECTIONS[table][0]
    else:
        return None  # not a table of this version: left as it is
    try:
        item = model.model_validate(document)
    except ValidationError as error:
        errors = [f"{e['field']}: {e['message']}" for e in field_errors(error)]
        more = len(errors) - SHOWN_FIELD_ERRORS
        return "; ".join(errors[:SHOWN_FIELD_ERRORS]) + (f" (and {more} more)" if more > 0 else "")
    if isinstance(item, Campaign) and item.id != f"{CAMPAIGN_PREFIX}{key}":
        return f"it holds campaign {item.id!r} under the id of {CAMPAIGN_PREFIX}{key}"
    return None


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
        self._db = JournalDB(str(data_dir), check=document_problem)
        self._campaigns = self._db.table("campaigns")
        self._meta = self._db.table("meta")
        self._sharing = self._db.table("sharing")  # one document: the group the workspace was ever served to
        # API handlers run in a thread pool; the storage is not thread-safe, and a read during another
        # thread's batch would see its pending changes. Every read and write takes this lock.
        self.lock = threading.RLock()
        self._rows: dict[int, ListRow] | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._changed: list[str] = []  # campaigns saved or removed in the open atomic block
        self._depth = 0  # nesting of atomic blocks: only the outermost commits
        self.users: Collection[User] = self._collection("users")
        self.channel_configurations: Collection[ChannelConfiguration] = self._collection("channel_configurations")
        self.audiences: Collection[Audience] = self._collection("audiences")
        self.approval_policies: Collection[ApprovalPolicy] = self._collection("approval_policies")
        self.tokens: Collection[TokenRecord] = self._collection("tokens")  # bearer tokens, hashed (store.tokens)

    def _collection(self, table: str) -> Collection:
        model, key, noun = COLLECTIONS[table]
        return Collection(self._db, self.lock, table, model, key, noun)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(campaign_id)`` after each committed save or removal of a campaign, whoever made
        it (the engine keeps its schedule this way instead of re-reading every campaign). Listeners run
        outside the catalogue's lock and must be quick."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[str], None]) -> None:
        self._listeners.remove(listener)

    def _note_change(self, campaign_id: str) -> list[str]:
        """Under the lock: the campaigns to announce now (none until an open atomic block commits)."""
        self._changed.append(campaign_id)
        return self._committed() if self._depth == 0 else []

    def _committed(self) -> list[str]:
        changed, self._changed = self._changed, []
        return changed

    def _notify(self, changed: list[str]) -> None:
        for campaign_id in dict.fromkeys(changed):
            for listener in self._listeners:
                listener(campaign_id)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group the writes of one change (the campaign and its audit event) into one journal entry."""
        with self.lock:
            outermost = self._depth == 0
            self._depth += 1
            try:
                with self._db.storage.batch():
                    yield
            except BaseException:
                self._rows = None  # rolled back in memory: rebuild the rows from what is really stored
                if outermost:
                    self._changed = []  # nothing changed: no one hears of it
                raise
            finally:
                self._depth -= 1
            changed = self._committed() if outermost else []
        self._notify(changed)

    # sharing -----------------------------------------------------------------------------
    def shared_group(self) -> str | None:
        """The group this workspace was ever served to (``campaigns engine --group``), or None."""
        with self.lock:
            record = self._sharing.get(doc_id=1)
        return record["group"] if record else None

    def record_shared(self, group: str) -> None:
        """Kept for good: from now on nobody may act as another user here (store/api/identity.py)."""
        with self.lock:
            self._sharing.upsert(Document({"group": group}, doc_id=1))

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
            changed = self._note_change(campaign.id)
        self._notify(changed)

    def remove_campaign(self, campaign_id: str) -> None:
        number = campaign_number(campaign_id)
        with self.lock:
            self._campaigns.remove(doc_ids=[number])
            if self._rows is not None:
                self._rows.pop(number, None)
            changed = self._note_change(campaign_id)
        self._notify(changed)

    def campaign_documents(self) -> Sequence[dict]:
        """Raw documents: building 10,000 full models would be needlessly slow."""
        with self.lock:
            return self._campaigns.all()

    def campaign_rows(self) -> list[ListRow]:
        """The list's rows, kept up to date on every save so listing 10,000 campaigns re-reads nothing. The
        first call decodes every campaign: with the collector running, its full collections over the growing
        heap took 70% of that (6.8 s → 2.0 s at 100,000 campaigns)."""
        with self.lock:
            if self._rows is None:
                with collector_paused():
                    self._rows = {int(key): self._row(key, held) for key, held in self._db.storage.held("campaigns")}
            return list(self._rows.values())

    def _row(self, key: str, held: dict | bytes) -> ListRow:
        """A row from a document as the storage holds it: still its JSON text when nothing has read it yet."""
        if isinstance(held, bytes):
            try:
                return ListRow.of_json(held)
            except ValueError:  # read it whole: a damaged one says what is wrong
                document = self._campaigns.get(doc_id=int(key))
                assert isinstance(document, dict)  # held a moment ago, under the lock
                held = document
        return ListRow.of(held)

    # audit -------------------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> None:
        with self.lock:
            self._db.table(f"{AUDIT_PREFIX}{event.target}").insert(event.model_dump(mode="json"))

    def audit_trail(self, target: str) -> list[AuditEvent]:
        with self.lock:
            docs = self._db.table(f"{AUDIT_PREFIX}{target}").all()
        return [AuditEvent.model_validate(d) for d in docs]
