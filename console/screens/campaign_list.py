"""The campaign list: the console's home. Filters and search apply instantly on the loaded rows;
the rows refresh from the engine every second without moving the cursor off its campaign.

The rows are kept compact (``store.list_rows``: 100,000 of them in about 50 MB); the selected one
becomes a ``CampaignSummary`` only when an action asks for it."""

from __future__ import annotations

import asyncio
import gc
from operator import and_

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input

from store.collector import collector_paused
from store.list_rows import CampaignRow, summary
from store.listing import CampaignFilter, searched_text
from store.models import CampaignSummary, CampaignType, Channel, Status

from ..actions import CAMPAIGN_ACTIONS, LIST_ACTIONS, bindings
from ..campaign_actions import CampaignActions
from ..dialogs.choice import ChoiceDialog
from ..host import host
from ..widgets.campaign_table import COLUMNS, CampaignTable, Order, sort_order
from ..widgets.filter_bar import FilterBar
from ..widgets.header import ConnectionBanner, WorkspaceHeader


class CampaignListScreen(CampaignActions, Screen):
    BINDINGS = bindings(LIST_ACTIONS + CAMPAIGN_ACTIONS) + [
        Binding("escape", "clear_search", "Clear search", show=False, id="list.clear_search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = CampaignFilter()
        self.all_rows: list[CampaignRow] = []
        self._keys: list[tuple] = []
        self._texts: list[str] = []
        self._narrowed: tuple[CampaignFilter | None, list[bool]] = (None, [])  # the last filter but its search
        self._summary: tuple[CampaignRow | None, CampaignSummary | None] = (None, None)
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader(id="header")
        yield ConnectionBanner()
        yield FilterBar(id="filter-bar")
        yield Input(placeholder="Search names and tags (Enter: back to the list, Esc: clear)", id="search")
        yield CampaignTable(id="campaigns")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#search").display = False
        self.query_one(CampaignTable).focus()
        self.load_rows()
        self.set_interval(host(self).refresh_seconds, self._tick)

    def on_unmount(self) -> None:
        gc.unfreeze()  # what was frozen on the first load is the collector's again (several apps in one process)

    def _tick(self) -> None:
        if self.app.screen is self:  # no refresh under a dialog or another screen
            self.load_rows()
            self.load_live()

    @work(exclusive=True, group="list-live")
    async def load_live(self) -> None:
        """The counters of the runs in flight, every second: one small answer, however many campaigns."""
        console = host(self)
        await console.ready.wait()
        runs = await console.call_api(console.client.active_runs(), quiet=True)
        if runs is not None and self.is_attached:  # the console may have quit meanwhile
            self.query_one(CampaignTable).set_live(runs)

    @work(exclusive=True, group="list-refresh")
    async def load_rows(self, select: str | None = None) -> None:
        """Fetch every campaign (filters apply here, instantly) and put the cursor on ``select`` if given."""
        console = host(self)
        await console.ready.wait()
        rows = await console.call_api(console.client.campaign_rows(CampaignFilter(all=True)), quiet=True)
        if not self.is_attached:  # the console quit while the answer travelled
            return
        if rows is not None and rows is not self.all_rows:  # the same object: not modified since
            table = self.query_one(CampaignTable)
            first, self._loaded_once = not self._loaded_once, True
            if first:  # nothing to answer meanwhile: a thread would only slow it down
                keys, texts, order = _prepare(rows, table.sort_key, table.sort_reverse)
            else:  # 0.2 s of work at 100,000 rows, in a thread: keys typed meanwhile are answered
                keys, texts, order = await asyncio.to_thread(_prepare, rows, table.sort_key, table.sort_reverse)
                if not self.is_attached:
                    return
            self.all_rows, self._keys, self._texts, self._narrowed = rows, keys, texts, (None, [])
            self.apply_filter(order)
            self.call_after_refresh(_spare_the_collector if first else gc.freeze)  # the new rows too
        if select:
            self.query_one(CampaignTable).select_id(select)

    def apply_filter(self, order: Order | None = None) -> None:
        """Statuses, types, channels and tags are tested once per change of them; a keystroke in search
        is one substring test a row (``CampaignFilter.found``) on the rows they keep."""
        unsearched = self.filter.model_copy(update={"search": ""})
        if self._narrowed[0] != unsearched:
            accepts = unsearched.predicate()
            self._narrowed = (unsearched, [accepts(*key) for key in self._keys])
        keep = self._narrowed[1]
        if self.filter.needle():
            keep = list(map(and_, keep, self.filter.found(self._texts)))
        table = self.query_one(CampaignTable)
        table.set_rows(self.all_rows, keep, order)
        self.query_one(FilterBar).show(self.filter, len(table.rows), len(self.all_rows))
        self.refresh_bindings()

    # the selected campaign --------------------------------------------------------------
    def current_campaign(self) -> CampaignSummary | None:
        """The selected row as a model, validated once per row (bindings ask on every refresh)."""
        row = self.query_one(CampaignTable).selected
        if row is not self._summary[0]:
            self._summary = (row, None if row is None else summary(row))
        return self._summary[1]

    def campaign_changed(self, campaign_id: str | None) -> None:
        self.load_rows(campaign_id)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.check_campaign_action(action)

    @on(CampaignTable.Selected)
    def _open(self, event: CampaignTable.Selected) -> None:
        self.action_open()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    # list actions -----------------------------------------------------------------------
    def action_open(self) -> None:
        row = self.current_campaign()
        if row is not None:
            from .campaign_detail import CampaignDetailScreen

            self.app.push_screen(CampaignDetailScreen(row.id))

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.filter = self.filter.model_copy(update={"search": event.value})
        self.apply_filter()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(CampaignTable).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value or search.display:
            search.value = ""
            search.display = False
            self.query_one(CampaignTable).focus()

    def action_toggle_statuses(self) -> None:
        if self.filter.all or self.filter.statuses:
            self.action_show_default()
        else:
            self.action_show_all()

    def action_show_all(self) -> None:
        self.filter = self.filter.model_copy(update={"all": True, "statuses": []})
        self.apply_filter()

    def action_show_default(self) -> None:
        self.filter = self.filter.model_copy(update={"all": False, "statuses": []})
        self.apply_filter()

    @work(group="filter")
    async def action_filter_status(self) -> None:
        chosen = await self.app.push_screen_wait(ChoiceDialog(
            "Filter by status", [(s.value, s.value) for s in Status], {s.value for s in self.filter.statuses}))
        if chosen is not None:
            self.filter = self.filter.model_copy(update={"statuses": [Status(v) for v in chosen], "all": False})
            self.apply_filter()

    @work(group="filter")
    async def action_filter_other(self) -> None:
        tags = sorted({t for r in self.all_rows for t in r.tags})
        options = ([(f"type: {t.value}", f"type:{t.value}") for t in CampaignType]
                   + [(f"channel: {c.value}", f"channel:{c.value}") for c in Channel]
                   + [(f"tag: {t}", f"tag:{t}") for t in tags])
        f = self.filter
        current = {f"type:{t.value}" for t in f.types} | {f"channel:{c.value}" for c in f.channels} | {f"tag:{t}" for t in f.tags}
        chosen = await self.app.push_screen_wait(ChoiceDialog("Filter by type, channel or tag", options, current))
        if chosen is not None:
            picked = [c.split(":", 1) for c in chosen]
            self.filter = f.model_copy(update={
                "types": [CampaignType(v) for k, v in picked if k == "type"],
                "channels": [Channel(v) for k, v in picked if k == "channel"],
                "tags": [v for k, v in picked if k == "tag"]})
            self.apply_filter()

    def action_sort_next(self) -> None:
        table = self.query_one(CampaignTable)
        keys = [c.key for c in COLUMNS]
        table.sort_by(keys[(keys.index(table.sort_key) + 1) % len(keys)])
        self.notify(f"Sorted by {table.sort_key.replace('_', ' ')}", timeout=1.5)

    def action_sort_reverse(self) -> None:
        table = self.query_one(CampaignTable)
        table.sort_by(table.sort_key, not table.sort_reverse)


def _prepare(rows: list[CampaignRow], sort_key: str, reverse: bool) -> tuple[list[tuple], list[str], Order]:
    """Beside each row, the plain values the filter reads (search runs on every keystroke), and the rows'
    order in the table's sort."""
    with collector_paused():
        # ``_value_``, not ``.value``: the property costs 0.1 s over 300,000 reads
        keys = [(r.status._value_, r.type._value_, r.channel._value_, r.tags, r.name) for r in rows]
        texts = [searched_text(r.name, r.tags) for r in rows]
        return keys, texts, sort_order(rows, sort_key, reverse)


def _spare_the_collector() -> None:
    """Once the first list is on screen: collect, then freeze what lives (the app, its caches, the rows).
    A full collection otherwise scans those 200,000 objects, 0.1 s that lands on whichever key is typed."""
    gc.collect()
    gc.freeze()
