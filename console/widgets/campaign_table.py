"""The campaign list as a virtual table: only the visible lines are ever rendered.

Textual's DataTable takes seconds to first paint 10,000 rows (STYLE.md 6); this draws each line
on demand from a list of rows, keeps the cursor on the same campaign id across refreshes, sorts
by any column and drops columns that do not fit, down to 80 columns. Segments are never markup;
names are drawn ``printable`` so a control character stored by an older version shows as ``\x1b``.

At 100,000 campaigns a keystroke in search must not sort: the loaded rows are sorted once per sort
column (``set_rows`` with the same rows reuses that order) and a filter only picks rows out of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import compress
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.list_rows import CampaignRow
from store.models import ActiveRun, Status
from store.text import printable

from ..display import STATUS_TONES, status_label, zoned
from ..host import host

_TONE_CLASSES = {"live": "table--live", "attention": "table--attention", "failed": "table--failed",
                 "muted": "table--muted"}


def status_text(row: CampaignRow) -> str:
    return status_label(row.status, row.has_draft, row.draft_approval, compact=True)


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "—"
    local = value.astimezone()
    return local.strftime("%H:%M") if local.date() == now.astimezone().date() else local.strftime("%d %b %H:%M")


def _last_run(row: CampaignRow) -> str:
    run = row.last_run
    if run is None:
        return "—"
    return f"{run.sent:,}/{run.excluded:,}" + (" ✗" if run.status == "failed" else "")


def _live_run(run: ActiveRun) -> str:
    """A run in flight's counters, from the active-runs answer (the rows change only when a run starts or ends)."""
    return f"{run.counters.sent:,}/{run.counters.excluded_total:,} ▸"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # 0: takes the remaining width
    text: Callable[[CampaignRow, datetime], str]
    sort: Callable[[CampaignRow], Any]
    priority: int  # columns with the highest number are dropped first when space runs out
    local_times: bool = False  # the title says the operator's zone the times are shown in


TYPES = {"action": "action", "api": "api", "orchestrated": "orch."}
_STATUS_RANK = {status: rank for rank, status in enumerate(Status)}
COLUMNS = (
    Column("name", "Name", 0, lambda r, now: printable(r.name), lambda r: r.name.casefold(), 0),
    Column("status", "Status", 26, lambda r, now: status_text(r), lambda r: (_STATUS_RANK[r.status], r.has_draft), 0),
    Column("channel", "Chan", 5, lambda r, now: r.channel.value, lambda r: r.channel.value, 1),
    Column("type", "Type", 6, lambda r, now: TYPES[r.type.value], lambda r: r.type.value, 4),
    Column("category", "Cat.", 5, lambda r, now: "mkt" if r.category.value == "marketing" else "trans",
           lambda r: r.category.value, 6),
    Column("next_run", "Next run", 12, lambda r, now: _when(r.next_run, now),
           lambda r: r.next_run or datetime.max.replace(tzinfo=timezone.utc), 3, local_times=True),
    Column("last_run", "Sent/excl", 11, lambda r, now: _last_run(r), lambda r: r.last_run.sent if r.last_run else -1, 2),
    Column("updated", "Updated", 18, lambda r, now: f"{_when(r.updated_at, now)} {printable(r.updated_by)}",
           lambda r: r.updated_at, 5, local_times=True),
    Column("id", "ID", 8, lambda r, now: r.id, lambda r: int(r.id.rsplit("-", 1)[-1]), 7),
)
NAME_MIN = 24


def column_titles() -> dict[str, str]:
    """Each column's title by key, local times' with the operator's zone."""
    return {c.key: zoned(c.title) if c.local_times else c.title for c in COLUMNS}
Order = tuple[str, bool, list[int]]  # a sort column, whether reversed, and the rows' indices in that order


def sort_order(rows: list[CampaignRow], key: str, reverse: bool) -> Order:
    """The rows' order by column ``key``: a pure function, so a fresh list can be sorted in a worker thread."""
    column = next(c for c in COLUMNS if c.key == key)
    keys = [column.sort(r) for r in rows]
    return key, reverse, sorted(range(len(rows)), key=lambda i: keys[i], reverse=reverse)


class CampaignTable(ScrollView, can_focus=True):
    """Rows keyed by campaign id; ``set_rows`` patches without moving the cursor off its campaign."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="table.first"),
        Binding("end,G", "edge(1)", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", id="table.open"),
    ]
    COMPONENT_CLASSES = {"table--header", "table--cursor", "table--row", "table--alt", "table--live",
                         "table--attention", "table--failed", "table--muted", "table--sorted"}
    DEFAULT_CSS = """
    CampaignTable { height: 1fr; scrollbar-size-horizontal: 0; }
    CampaignTable > .table--header { text-style: bold; background: $panel; color: $text; }
    CampaignTable > .table--cursor { background: $accent 40%; text-style: bold; }
    CampaignTable:focus > .table--cursor { background: $accent; color: $text; }
    CampaignTable > .table--row { }
    CampaignTable > .table--alt { background: $surface-lighten-1 20%; }
    CampaignTable > .table--live { color: $success; }
    CampaignTable > .table--attention { color: $warning; }
    CampaignTable > .table--failed { color: $error; }
    CampaignTable > .table--muted { color: $text-muted; }
    CampaignTable > .table--sorted { text-style: bold underline; }
    """

    cursor = reactive(0, always_update=True)

    class Selected(Message):
        def __init__(self, campaign_id: str) -> None:
            super().__init__()
            self.campaign_id = campaign_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[CampaignRow] = []  # the rows shown, in their order
        self.sort_key, self.sort_reverse = "updated", True
        self._now = datetime.now(timezone.utc)
        self._loaded: list[CampaignRow] = []
        self._keep: list[bool] = []
        self._order: list[int] = []  # indices of the loaded rows in the sort order
        self._ordered: list[CampaignRow] = []  # the loaded rows in that order
        self._live: dict[str, ActiveRun] = {}  # runs in flight by campaign id: their counters outrun the rows
        self._titles = column_titles()

    # data --------------------------------------------------------------------------------
    def set_rows(self, rows: list[CampaignRow], keep: list[bool] | None = None, order: Order | None = None) -> None:
        """Show the ``rows`` whose ``keep`` is true (all by default), sorted (by ``order`` if it is still the
        table's); the cursor follows its campaign, or stays at its line. Given the same list again, the
        rows are not sorted again."""
        selected = self.selected_id
        if rows is not self._loaded:
            self._loaded = rows
            self._sort(order)
        self._keep = keep if keep is not None else [True] * len(rows)
        self.rows = list(compress(self._ordered, map(self._keep.__getitem__, self._order)))
        self._now = host(self).now()
        self._titles = column_titles()  # the zone's name changes with daylight saving time
        index = next((i for i, r in enumerate(self.rows) if r.id == selected), None) if selected else None
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.cursor = index if index is not None else min(self.cursor, max(0, len(self.rows) - 1))
        self.refresh()

    def set_live(self, runs: list[ActiveRun]) -> None:
        """The runs in flight: their Sent/excl cells show these counters; repaints only when they changed."""
        live = {run.campaign_id: run for run in runs}
        if live != self._live:
            self._live = live
            self.refresh()

    def _sort(self, order: Order | None = None) -> None:
        if order is None or order[:2] != (self.sort_key, self.sort_reverse):
            order = sort_order(self._loaded, self.sort_key, self.sort_reverse)
        self._order = order[2]
        self._ordered = [self._loaded[i] for i in self._order]

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        self.sort_key = key
        if reverse is not None:
            self.sort_reverse = reverse
        self._sort()
        self.set_rows(self._loaded, self._keep)

    @property
    def selected_id(self) -> str | None:
        return self.rows[self.cursor].id if 0 <= self.cursor < len(self.rows) else None

    @property
    def selected(self) -> CampaignRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def select_id(self, campaign_id: str) -> None:
        for i, row in enumerate(self.rows):
            if row.id == campaign_id:
                self.cursor = i
                return

    # layout ------------------------------------------------------------------------------
    def visible_columns(self, width: int) -> list[tuple[Column, int]]:
        """Columns that fit in ``width`` (least important dropped first), name taking the rest; a column is
        at least as wide as its title (which may carry a zone)."""
        widths = {c.key: c.width and max(c.width, cell_len(self._titles[c.key])) for c in COLUMNS}
        columns = sorted(COLUMNS, key=lambda c: c.priority)
        while True:
            fixed = sum(widths[c.key] + 1 for c in columns if c.width)
            if width - fixed >= NAME_MIN or len(columns) <= 2:
                break
            columns.pop()
        name_width = max(NAME_MIN, width - fixed - 1)
        ordered = [c for c in COLUMNS if c in columns]
        return [(c, widths[c.key] or name_width) for c in ordered]

    def watch_cursor(self, old: int, new: int) -> None:
        height = self.scrollable_content_region.height - 1  # the header line is pinned
        if height <= 0:
            return
        top = int(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.visible_columns(width)
        if y == 0:
            header = self.get_component_rich_style("table--header")
            sorted_style = self.get_component_rich_style("table--sorted")
            segments = []
            for column, w in columns:
                arrow = ("▼" if self.sort_reverse else "▲") if column.key == self.sort_key else ""
                style = header + sorted_style if arrow else header
                segments.append(Segment(set_cell_size(f"{self._titles[column.key]}{arrow}", w) + " ", style))
            return Strip(segments).adjust_cell_length(width, header)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        base = self.get_component_rich_style("table--alt" if index % 2 else "table--row")
        if index == self.cursor:
            base = base + self.get_component_rich_style("table--cursor")
        segments = []
        for column, w in columns:
            style = base
            if column.key == "status":
                style = base + self._status_style(row)
            live = self._live.get(row.id) if column.key == "last_run" else None
            text = _live_run(live) if live is not None else column.text(row, self._now)
            if cell_len(text) > w:
                text = set_cell_size(text, w - 1) + "…"
            segments.append(Segment(set_cell_size(text, w) + " ", style))
        return Strip(segments).adjust_cell_length(width, base)

    def _status_style(self, row: CampaignRow) -> Style:
        """Only the colour: the row's background (and the cursor's) stays as it is."""
        tone = STATUS_TONES[row.status]
        name = "table--attention" if tone == "live" and row.has_draft else _TONE_CLASSES.get(tone)
        if name is None:
            return Style()
        return Style(color=self.get_component_rich_style(name).color)

    # keys and mouse ----------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_edge(self, end: int) -> None:
        if self.rows:
            self.cursor = len(self.rows) - 1 if end else 0

    def action_select(self) -> None:
        if self.selected_id:
            self.post_message(self.Selected(self.selected_id))

    def on_click(self, event) -> None:
        y = event.y
        if y == 0:
            columns, x = self.visible_columns(self.scrollable_content_region.width), 0
            for column, w in columns:
                if x <= event.x < x + w + 1:
                    self.sort_by(column.key, not self.sort_reverse if column.key == self.sort_key else False)
                    return
                x += w + 1
            return
        index = int(self.scroll_y) + y - 1
        if 0 <= index < len(self.rows):
            if index == self.cursor and event.chain == 2:
                self.action_select()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
