"""A row table that moves like every list in the console (and like the campaign list's own table):
Home/End go to the first/last row (Textual's DataTable scrolls sideways on them), PgUp/PgDn a page, `G` the last row."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


class ListTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False, id="list.first"),
        Binding("end,G", "scroll_bottom", "Last", show=False, id="list.last"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
