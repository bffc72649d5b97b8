"""Awaiting my approval: drafts whose approval was requested under a policy that names me.

Enter or ``c`` compares the draft with the live version; ``y`` approves (and offers to activate),
``x`` sends the draft back with a message, ``R`` withdraws a request I made. A row I may not
approve because I requested or last edited it says so; approving it anyway shows the engine's
reason and changes nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from store.models import CampaignSummary
from store.models.approval_inbox import AwaitingApproval
from store.text import printable

from ..actions import CAMPAIGN_ACTIONS
from ..campaign_actions import CampaignActions
from ..display import cell_text, short_when, status_label
from ..host import host
from ..widgets.header import ConnectionBanner, WorkspaceHeader
from ..widgets.keyed_rows import keyed_table, patch_rows

SELF_BLOCKED = "yours: self-approval blocked"
COLUMNS = (("name", "Name"), ("note", "Note"), ("status", "Status"), ("channel", "Chan"),
           ("requested_by", "By"), ("requested_at", "Requested"), ("type", "Type"), ("category", "Cat."))
_DECISIONS = {a.action: a for a in CAMPAIGN_ACTIONS if a.action in ("approve", "request_changes", "cancel_request")}


def _cells(row: AwaitingApproval, me: str | None) -> list[str | Text]:
    note = Text(SELF_BLOCKED, style="bold") if row.self_approval_blocked else (
        Text("your request") if row.requested_by == me else Text(""))
    status = status_label(row.status, row.has_draft, compact=True)
    return [cell_text(row.name), note, status, row.channel.value, cell_text(row.requested_by),
            short_when(row.requested_at), row.type.value, "mkt" if row.category.value == "marketing" else "trans"]


class ApprovalsScreen(CampaignActions, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="approvals.back", tooltip="Back to the campaign list"),
        Binding("c", "compare", "Compare", id="compare", tooltip="Live and draft side by side, changes highlighted"),
        *[Binding(a.key, a.action, a.name, id=a.action, tooltip=a.help) for a in _DECISIONS.values()],
    ]
    DEFAULT_CSS = """
    ApprovalsScreen #approvals-title { height: 1; padding: 0 1; text-style: bold; color: $accent; }
    ApprovalsScreen #approvals { height: 1fr; }
    ApprovalsScreen #approvals-empty { padding: 1 2; color: $text-muted; display: none; }
    ApprovalsScreen.-empty #approvals-empty { display: block; }
    ApprovalsScreen.-empty #approvals { display: none; }
    ApprovalsScreen #approval-detail { height: auto; min-height: 2; padding: 0 1; background: $boost; }
    ApprovalsScreen #approval-detail.-blocked { color: $warning; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, AwaitingApproval] = {}
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader()
        yield ConnectionBanner()
        yield Static("Awaiting my approval", id="approvals-title")
        yield keyed_table("approvals", COLUMNS)
        yield Static("Nothing awaits your approval.", id="approvals-empty")
        yield Static("Loading…", id="approval-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load_rows()
        self.set_interval(host(self).refresh_seconds, self._tick)

    def _tick(self) -> None:
        if self.app.screen is self:  # no refresh under a dialog or another screen
            self.load_rows()

    @property
    def me(self) -> str | None:
        return (host(self).identity or {}).get("user")

    # rows --------------------------------------------------------------------------------
    @work(exclusive=True, group="approvals-refresh", description="load what awaits my approval")
    async def load_rows(self, select: str | None = None) -> None:
        await host(self).ready.wait()  # who I am marks my own requests
        rows = await host(self).call_api(host(self).client.awaiting_my_approval(), quiet=self.loaded)
        if rows is None:
            return
        self.loaded = True
        self.show_rows(rows)
        if select is not None and select in self.rows:
            table = self.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(select))

    def show_rows(self, rows: list[AwaitingApproval]) -> None:
        """Patch the table by campaign id: the cursor stays on its campaign."""
        fresh = {r.id: r for r in rows}
        patch_rows(self.query_one(DataTable), self.rows, fresh, lambda row: _cells(row, self.me),
                   [key for key, _label in COLUMNS])
        self.rows = fresh
        self.set_class(not rows, "-empty")
        self.query_one("#approvals-title", Static).update(
            f"Awaiting my approval · {len(rows)} draft{'s' if len(rows) != 1 else ''}")
        self._show_detail()
        self.refresh_bindings()

    def _selected_row(self) -> AwaitingApproval | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else self.rows.get(key)

    def _show_detail(self) -> None:
        detail = self.query_one("#approval-detail", Static)
        row = self._selected_row()
        if row is None:
            detail.update("" if self.rows else "Drafts appear here when their approval is requested under a policy "
                          "that names you. Esc: back")
            detail.set_class(False, "-blocked")
            return
        lines = [printable(f"{row.name} ({row.id}) · {row.type.value} {row.category.value} {row.channel.value} · "
                           f"requested by {row.requested_by} at {short_when(row.requested_at)}")]
        if row.request_message:
            lines.append(f"{row.requested_by} says: {printable(row.request_message, multiline=True)}")
        if row.self_approval_blocked:
            lines.append("You requested or last edited this draft and its policy blocks self-approval: "
                         "another approver must decide.")
        else:
            lines.append("y: approve (then activate) · x: request changes · Enter/c: compare with live")
        detail.update("\n".join(lines))
        detail.set_class(row.self_approval_blocked, "-blocked")

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_compare()

    # CampaignActions ---------------------------------------------------------------------
    def current_campaign(self) -> CampaignSummary | None:
        return self._selected_row()  # an inbox row is the campaign's list row

    def reviewed_revision(self) -> int | None:
        row = self._selected_row()
        return row.revision if row is not None else None

    def campaign_changed(self, campaign_id: str | None) -> None:
        self.load_rows(select=campaign_id)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "compare":
            return True if self._selected_row() is not None else None
        if action not in _DECISIONS:
            return True
        allowed = self.check_campaign_action(action)
        if action == "cancel_request" and allowed:
            row = self._selected_row()
            if row is not None and row.requested_by != self.me and (host(self).identity or {}).get("role") != "admin":
                return False  # only the requester (or an admin) may withdraw a request
        return allowed

    def action_compare(self) -> None:
        row = self._selected_row()
        if row is not None:
            host(self).open_compare(row.id)

    def action_back(self) -> None:
        self.dismiss()
