"""Patch a DataTable keyed by id: drop rows that went, add new ones, update only the cells that changed.

``clear()`` and refill would reset the cursor and scroll on every refresh; patching keeps the cursor on its row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from rich.text import Text
from textual.widgets import DataTable

from .list_table import ListTable

T = TypeVar("T")


def keyed_table(table_id: str, columns: Sequence[tuple[str, str]]) -> DataTable:
    """A row-cursor table with its (key, label) columns, for ``patch_rows``."""
    table: DataTable = ListTable(id=table_id)
    for key, label in columns:
        table.add_column(label, key=key)
    return table


def patch_rows(table: DataTable, shown: Mapping[str, T], fresh: Mapping[str, T],
               cells: Callable[[T], Sequence[str | Text]], columns: Sequence[str]) -> None:
    """``shown`` is what the table holds now, ``fresh`` what it should hold; ``columns`` are the column keys."""
    with table.app.batch_update():
        for gone in [key for key in shown if key not in fresh]:
            table.remove_row(gone)
        for key, item in fresh.items():
            if key not in shown:
                table.add_row(*cells(item), key=key)
            elif item != shown[key]:
                for column, value in zip(columns, cells(item)):
                    table.update_cell(key, column, value)
