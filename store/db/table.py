"""TinyDB tables whose writes touch only the documents they change.

Stock ``Table._update_table`` reads every table, rebuilds this one's dict (ids to int and back)
and hands the storage the whole database to write, so one update costs O(catalogue): 53 ms at
100,000 campaigns. ``JournalTable`` keeps TinyDB's query API and its ``insert``/``update``/
``upsert``/``remove``/``truncate`` unchanged, but runs their updaters on a view of the live table
that logs each edit in ``JournalStorage``, which journals just those documents.

This relies on TinyDB internals (``_update_table(updater)``, ``_read_table()``, ``clear_cache()``,
the updaters' use of the table mapping): tinydb is pinned to the minor versions tested, and
tests/test_journal_table_store.py fails loudly if they change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from .journal import JournalStorage


class JournalTable(Table):
    """A TinyDB table over ``JournalStorage`` whose writes cost the documents they touch."""

    def __init__(self, storage: Storage, name: str, *args: Any, **kwargs: Any) -> None:
        if not isinstance(storage, JournalStorage):
            raise TypeError(f"JournalTable needs a JournalStorage, not {type(storage).__name__}")
        super().__init__(storage, name, *args, **kwargs)
        self._journal = storage  # TinyDB's ``_storage``, typed as what it is
        storage.watch_cache(self)

    def _read_table(self) -> dict[str, Mapping]:
        """The live table itself: no copy of the database's table index per read."""
        return self._journal.table(self.name) or {}

    def _update_table(self, updater: Callable[[dict[int, Mapping]], None]) -> None:
        storage = self._journal
        mark = storage.savepoint()
        try:
            # TinyDB annotates its updaters as taking a dict; they use only the mapping interface,
            # which the view implements (tests/test_journal_table_store.py runs every one of them).
            updater(_TableView(storage, self.name, self.document_id_class))  # type: ignore[arg-type]
        except BaseException:
            storage.undo_to(mark)
            raise
        finally:
            self.clear_cache()
        storage.commit()


class _TableView(MutableMapping):
    """The live table as TinyDB's updaters see it (ids of ``document_id_class``); edits go to the storage."""

    __slots__ = ("_storage", "_name", "_id_class")

    def __init__(self, storage: JournalStorage, name: str, id_class: type) -> None:
        self._storage, self._name, self._id_class = storage, name, id_class

    def _live(self) -> MutableMapping:
        return self._storage.table(self._name) or {}

    def __getitem__(self, doc_id: Any) -> dict:
        return self._live()[str(doc_id)]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self._live()

    def __setitem__(self, doc_id: Any, document: dict) -> None:
        self._storage.put(self._name, str(doc_id), document)

    def __delitem__(self, doc_id: Any) -> None:
        self._storage.delete(self._name, str(doc_id))

    def __iter__(self) -> Iterator:
        return iter([self._id_class(key) for key in self._live()])  # a copy: updaters delete while iterating

    def __len__(self) -> int:
        return len(self._live())

    def clear(self) -> None:  # truncate: one dropped table, not one deletion per document
        self._storage.replace_table(self._name)


class JournalDB(TinyDB):
    """``TinyDB`` over ``JournalStorage`` with ``JournalTable`` tables: ``JournalDB(directory, **storage_options)``."""

    table_class = JournalTable
    # TinyDB's attribute is inferred from its default, JSONStorage, though any Storage class will do.
    default_storage_class = JournalStorage  # type: ignore[assignment]

    @property
    def storage(self) -> JournalStorage:
        """TinyDB's storage, typed as what it is."""
        storage = self._storage
        if not isinstance(storage, JournalStorage):
            raise TypeError(f"JournalDB needs a JournalStorage, not {type(storage).__name__}")
        return storage
