"""Draft beside live, field by field: the approver's screen.

Live on the left, draft on the right. A changed field is marked "≠" (readable without colour) and
tinted; content fields are a side-by-side line diff, removed lines "-" and added lines "+", with the
changed words of a rewritten line underlined. ``n``/``N`` walk the changes (each changed field, and
each changed block of lines in content) and say which one is shown. Approve, request changes,
activate and edit work here as on the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static

from store.models import Campaign, CampaignSummary, Version
from store.text import printable

from ..actions import CAMPAIGN_ACTIONS, bindings
from ..campaign_actions import CampaignActions
from ..diff import DiffLine, FieldDiff, campaign_fields, changes, compare_versions, word_spans
from ..display import APPROVAL_WORDS, configuration_text, short_when, status_markup
from ..host import host
from ..widgets.header import ConnectionBanner, WorkspaceHeader
from .campaign_detail import summary_of

LABEL_WIDTH = 15
MAX_LABEL_WIDTH = 36  # a workflow's activities are labelled by kind, id and change: wider, up to this
Pair = tuple[DiffLine | None, DiffLine | None]


@dataclass
class Block:
    """One field, or one run of a content field's lines (all unchanged, or one changed block)."""

    field: FieldDiff
    pairs: list[Pair]
    changed: bool
    first: bool  # carries the field's label
    marks: bool  # content: lines start with " ", "-" or "+"


def blocks_of(field: FieldDiff, sides: tuple[str, ...]) -> list[Block]:
    if field.scope != "content":
        left, right = field.live or "", field.draft or ""
        if field.changed:
            spans = word_spans(left, right)
            pair: Pair = (DiffLine("removed", left, spans[0]), DiffLine("added", right, spans[1]))
        else:
            pair = (DiffLine("same", left), DiffLine("same", right))
        return [Block(field, [pair], field.changed, True, False)]
    rows = field.side_by_side() if len(sides) == 2 else [(line, line) for line in field.lines]
    if not rows:
        return [Block(field, [(None, None)], False, True, True)]
    out: list[Block] = []
    for pair in rows:
        changed = not (pair[0] is not None and pair[1] is not None and pair[0].kind == "same")
        if out and out[-1].changed == changed:
            out[-1].pairs.append(pair)
        else:
            out.append(Block(field, [pair], changed, not out, True))
    return out


class FieldRow(Static):
    """One block drawn as a grid: label, then the live and/or draft column."""

    COMPONENT_CLASSES = {"compare--label", "compare--changed", "compare--removed", "compare--added",
                         "compare--removed-word", "compare--added-word", "compare--muted"}
    DEFAULT_CSS = """
    FieldRow { height: auto; border-left: blank; }
    FieldRow.-changed { background: $warning 8%; }
    FieldRow.-current { border-left: thick $accent; background: $accent 18%; }
    FieldRow.-header { background: $panel; text-style: bold; }
    FieldRow > .compare--label { text-style: bold; }
    FieldRow > .compare--changed { text-style: bold; color: $text-warning; }
    FieldRow > .compare--removed { color: $text-error; }
    FieldRow > .compare--added { color: $text-success; }
    FieldRow > .compare--removed-word { text-style: bold underline; background: $error 35%; }
    FieldRow > .compare--added-word { text-style: bold underline; background: $success 35%; }
    FieldRow > .compare--muted { color: $text-muted; }
    """

    def __init__(self, block: Block | None, sides: tuple[str, ...], *, header: tuple[str | Text, ...] | None = None,
                 id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.block, self.sides, self.header = block, sides, header
        self.label_width = LABEL_WIDTH
        self.current = False
        if block is not None and block.changed:
            self.add_class("-changed")

    def set_current(self, current: bool) -> None:
        self.current = current
        self.set_class(current, "-current")
        self.refresh(layout=True)

    def render(self) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=self.label_width, no_wrap=True)
        for _ in self.sides:
            table.add_column(ratio=1, overflow="fold")  # long template tags break, never get cut
        if self.header is not None:
            table.add_row(*self.header)
            return table
        block = self.block
        assert block is not None
        for i, (live, draft) in enumerate(block.pairs):
            cells = {"live": self._cell(live, block), "draft": self._cell(draft, block)}
            table.add_row(self._label(block) if i == 0 else "", *(cells[s] for s in self.sides))
        return table

    def _label(self, block: Block) -> Text:
        name = block.field.label if block.first else ""
        if self.current:
            return Text(f"▶ {name}".rstrip(), style=self.get_component_rich_style("compare--changed"))
        if block.changed:
            return Text(f"≠ {name}".rstrip(), style=self.get_component_rich_style("compare--changed"))
        return Text(f"  {name}", style=self.get_component_rich_style("compare--label"))

    def _cell(self, line: DiffLine | None, block: Block) -> Text:
        if line is None:
            if block.pairs == [(None, None)]:
                return Text("(empty)", style=self.get_component_rich_style("compare--muted"))
            return Text("")
        style = Style()
        if line.kind != "same":
            style = self.get_component_rich_style(f"compare--{line.kind}")
        text = Text(f"{line.mark} " if block.marks else "", style=style)
        if line.spans:
            word = self.get_component_rich_style(f"compare--{line.kind}-word")
            for piece, changed in line.spans:
                text.append(printable(piece, multiline=True), style=style + word if changed else style)
        else:
            value = line.text
            if not value and not block.marks:
                return Text("—", style=self.get_component_rich_style("compare--muted"))
            text.append(printable(value, multiline=True), style=style)
        return text


class CompareScreen(CampaignActions, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="compare.back", tooltip="Back to where you came from"),
        Binding("n", "next_change", "Next change", id="compare.next_change", tooltip="Scroll to the next change"),
        Binding("N", "previous_change", "Previous", id="compare.previous_change",
                tooltip="Scroll to the previous change"),
    ] + bindings(tuple(a for a in CAMPAIGN_ACTIONS if a.key != "n"))  # n walks the changes here

    DEFAULT_CSS = """
    CompareScreen #compare-title { height: auto; padding: 0 1; background: $boost; }
    CompareScreen #compare-status { height: auto; padding: 0 1; background: $boost; color: $text-muted; }
    CompareScreen #compare-status.-nothing { color: $text-warning; }
    CompareScreen #compare-header { margin-right: 1; }
    CompareScreen #compare-body { height: 1fr; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    CompareScreen .section { text-style: bold; color: $text-accent; padding: 0 1; margin-top: 1; }
    """

    def __init__(self, campaign_id: str) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign: Campaign | None = None
        self.fields: list[FieldDiff] = []
        self.stops: list[FieldRow] = []  # the changes n/N walk, in screen order
        self.current = -1
        self._signature: tuple | None = None
        self._loading = False
        self._configurations: dict[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader(id="header")
        yield ConnectionBanner()
        yield Static(f"Compare · loading {escape(self.campaign_id)}…", id="compare-title")
        yield Static("", id="compare-status")
        yield FieldRow(None, (), header=(), id="compare-header", classes="-header")
        yield VerticalScroll(id="compare-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#compare-body").focus()
        self.set_interval(host(self).refresh_seconds, self._tick)
        self.load()

    def _tick(self) -> None:
        if self.app.screen is self and not self._loading:
            self.load()

    # loading --------------------------------------------------------------------------------------------
    @work(exclusive=True, group="compare-load")
    async def load(self, force: bool = False) -> None:
        self._loading = True
        try:
            await self._load(force)
        finally:
            self._loading = False

    async def _load(self, force: bool) -> None:
        client, api = host(self).client, host(self).call_api
        first = self.campaign is None
        campaign = await api(client.campaign(self.campaign_id), quiet=not first)
        if campaign is None:
            if first:
                self.query_one("#compare-title", Static).update(f"Campaign {escape(self.campaign_id)} could not be read")
            return
        signature = _signature(campaign)
        self.campaign = campaign
        if signature == self._signature and not force:
            return
        if self._configurations is None:
            configs = await api(client.channel_configurations(), quiet=True)
            if configs is not None:
                by_id = {c.id: c for c in configs}
                self._configurations = {i: configuration_text(i, by_id) for i in by_id}
        audiences = {}
        for version in (campaign.live, campaign.draft):
            if version is not None and version.audience and version.audience not in audiences:
                size = await api(client.audience_size(version.audience), quiet=True)
                audiences[version.audience] = f"{version.audience}: {size:,} profiles" if size is not None else version.audience
        stale = self._signature is not None and not force  # changed by someone else while on screen
        self._signature = signature
        self.fields = compare_versions(campaign.live, campaign.draft, configurations=self._configurations or {},
                                       audiences=audiences)
        await self._rebuild(campaign)
        if stale:
            self.notify("The campaign changed while you were reading: the comparison is up to date again.",
                        title="Updated", timeout=6)
        self.refresh_bindings()

    async def _rebuild(self, c: Campaign) -> None:
        versions = tuple((s, v) for s, v in (("live", c.live), ("draft", c.draft)) if v is not None)
        sides = tuple(s for s, _ in versions)
        self.query_one("#compare-title", Static).update(
            Content.from_markup(f"Compare · [bold]$name[/]  [$text-muted]$id[/] · {status_markup(c)}",
                                name=printable(c.name), id=c.id))
        width = min(MAX_LABEL_WIDTH, max([LABEL_WIDTH - 2, *(len(f.label) for f in self.fields)]) + 2)
        header = self.query_one("#compare-header", FieldRow)
        header.sides, header.header = sides, ("Field", *(_side_title(s, v) for s, v in versions))
        header.label_width = width
        header.refresh(layout=True)
        body = self.query_one("#compare-body", VerticalScroll)
        scroll = body.scroll_y
        previous = self.current
        rows: list[FieldRow | Static] = [Static("Campaign: shared by both versions (not versioned)", classes="section")]
        rows += [FieldRow(b, sides) for f in campaign_fields(c) for b in blocks_of(f, sides)]
        rows.append(Static("Version", classes="section"))
        rows += [FieldRow(b, sides) for f in self.fields for b in blocks_of(f, sides)]
        for row in rows:
            if isinstance(row, FieldRow):
                row.label_width = width
        with self.app.batch_update():
            await body.remove_children()
            await body.mount_all(rows)
        self.stops = [r for r in rows if isinstance(r, FieldRow) and r.block is not None and r.block.changed]
        self.current = min(previous, len(self.stops) - 1)
        if 0 <= self.current:
            self.stops[self.current].set_current(True)
        body.scroll_to(y=scroll, animate=False)
        self._show_status()

    def _show_status(self) -> None:
        c = self.campaign
        status = self.query_one("#compare-status", Static)
        if c is None:
            return
        if c.live is None or c.draft is None:
            status.add_class("-nothing")
            status.update(Content.from_markup(
                "Nothing to compare: $name has no live version yet; this is its draft." if c.live is None else
                "Nothing to compare: $name has no draft beside its live version.", name=printable(c.name)))
            return
        status.remove_class("-nothing")
        changed = changes(self.fields)
        if not self.stops:
            status.update("No change: the draft is the same as the live version.")
            return
        fields = ", ".join(f.label for f in changed)
        stop = self.stops[self.current].block if self.current >= 0 else None  # every stop has a block
        where = (f"change {self.current + 1} of {len(self.stops)}: {escape(stop.field.label)}"
                 if stop is not None else f"{len(self.stops)} change{'s' if len(self.stops) != 1 else ''}")
        status.update(f"[bold]{where}[/] · in {len(changed)} field{'s' if len(changed) != 1 else ''}: "
                      f"{escape(fields)} · n: next  N: previous")

    # campaign actions -----------------------------------------------------------------------------------
    def current_campaign(self) -> CampaignSummary | None:
        return summary_of(self.campaign) if self.campaign is not None else None

    def reviewed_revision(self) -> int | None:
        return self.campaign.current.revision if self.campaign is not None else None

    def campaign_changed(self, campaign_id: str | None) -> None:
        if campaign_id is None:
            if self.app.screen is self:
                self.app.pop_screen()
            return
        self.load(force=True)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("next_change", "previous_change"):
            return True if self.stops else None
        if action in ("compare", "new_campaign", "open"):
            return False  # already here; n is "next change" on this screen
        return self.check_campaign_action(action)

    # keys -----------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_change(self) -> None:
        self._go(+1)

    def action_previous_change(self) -> None:
        self._go(-1)

    def _go(self, step: int) -> None:
        if not self.stops:
            return
        if 0 <= self.current < len(self.stops):
            self.stops[self.current].set_current(False)
        if self.current < 0:
            self.current = 0 if step > 0 else len(self.stops) - 1
        else:
            self.current = (self.current + step) % len(self.stops)
        row = self.stops[self.current]
        row.set_current(True)
        self.query_one("#compare-body", VerticalScroll).scroll_to_widget(row, animate=False, top=True)
        self._show_status()


def _signature(c: Campaign) -> tuple:
    def version(v: Version | None) -> tuple | None:
        return None if v is None else (v.number, v.revision)

    approval = c.draft.approval.state.value if c.draft and c.draft.approval else None
    return (version(c.live), version(c.draft), c.name, c.description, tuple(c.tags), approval, c.status.value)


def _side_title(side: str, v: Version) -> Text:
    if side == "live":
        activated = f" · activated {short_when(v.activated_at)}" if v.activated_at else ""
        return Text(f"Live · version {v.number}{activated}")
    state = APPROVAL_WORDS[v.approval.state] if v.approval else "not sent for approval"
    return Text(f"Draft · version {v.number} · {state} · {printable(v.updated_by)}")
