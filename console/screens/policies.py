"""Approval policies: which campaigns need whose approval. Everyone may read them; admins change them.

Enter or ``e`` edits the highlighted policy, ``n`` adds one, Space enables or disables it. Every change goes
through the client, and the engine refuses it for any role but admin: for the others the keys are not
offered and the footer line says why.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from store.models import ApprovalPolicy

from ..dialogs.policy_form import PolicyDialog
from ..display import cell_text
from ..host import host
from ..policy_commands import describe_approvers, describe_conditions
from ..widgets.header import ConnectionBanner, WorkspaceHeader
from ..widgets.keyed_rows import keyed_table, patch_rows

MANAGE = "manage approval policies"  # the permission word of /v1/me
COLUMNS = (("id", "Id"), ("name", "Name"), ("enabled", "On"), ("conditions", "Applies when"),
           ("approvers", "Approved by"), ("block_self", "Self-appr."))
_CHANGES = ("edit", "add", "toggle_enabled")


def _cells(p: ApprovalPolicy) -> list[str | Text]:
    return [cell_text(p.id), cell_text(p.name), "yes" if p.enabled else Text("no", style="dim"),
            cell_text(describe_conditions(p)), cell_text(describe_approvers(p)),
            "blocked" if p.block_self_approval else "allowed"]


class PoliciesScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="policies.back", tooltip="Back to the campaign list"),
        Binding("e", "edit", "Edit", id="policies.edit", tooltip="Edit the highlighted policy"),
        Binding("n", "add", "New policy", id="policies.add", tooltip="Add an approval policy"),
        Binding("space", "toggle_enabled", "Enable/disable", id="policies.toggle",
                tooltip="Enable or disable the highlighted policy"),
    ]
    DEFAULT_CSS = """
    PoliciesScreen #policies-title { height: 1; padding: 0 1; text-style: bold; color: $accent; }
    PoliciesScreen #policies { height: 1fr; }
    PoliciesScreen #policies-note { height: auto; padding: 0 1; background: $boost; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.policies: dict[str, ApprovalPolicy] = {}

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader()
        yield ConnectionBanner()
        yield Static("Approval policies", id="policies-title")
        yield keyed_table("policies", COLUMNS)
        yield Static("Loading…", id="policies-note", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load_policies()

    @property
    def may_change(self) -> bool:
        return host(self).allowed(MANAGE)

    @work(exclusive=True, group="policies-refresh", description="load the approval policies")
    async def load_policies(self, select: str | None = None) -> None:
        await host(self).ready.wait()  # the role decides which keys are offered
        policies = await host(self).call_api(host(self).client.approval_policies())
        if policies is not None:
            self.show_policies(policies, select)

    def show_policies(self, policies: list[ApprovalPolicy], select: str | None) -> None:
        """Patch the table by policy id: the cursor stays on its policy."""
        table = self.query_one(DataTable)
        fresh = {p.id: p for p in policies}
        patch_rows(table, self.policies, fresh, _cells, [key for key, _label in COLUMNS])
        self.policies = fresh
        if select is not None and select in fresh:
            table.move_cursor(row=table.get_row_index(select))
        count = len(policies)
        self.query_one("#policies-title", Static).update(
            f"Approval policies · {count} polic{'y' if count == 1 else 'ies'}")
        self.query_one("#policies-note", Static).update(
            "Enter/e: edit · n: new policy · Space: enable or disable · Esc: back" if self.may_change else
            "Read-only: only an admin may add, edit, enable or disable approval policies. Esc: back")
        self.refresh_bindings()

    def selected(self) -> ApprovalPolicy | None:
        table = self.query_one(DataTable)
        if not self.policies or table.row_count == 0:
            return None
        return self.policies.get(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action not in _CHANGES:
            return True
        if not self.may_change:
            return False
        return True if action == "add" or self.selected() is not None else None

    @on(DataTable.RowSelected)
    def _chosen(self) -> None:
        if self.check_action("edit", ()):
            self.action_edit()

    def action_edit(self) -> None:
        policy = self.selected()
        if policy is not None:
            self.app.push_screen(PolicyDialog(policy), self._saved)

    def action_add(self) -> None:
        self.app.push_screen(PolicyDialog(), self._saved)

    def _saved(self, policy: ApprovalPolicy | None) -> None:
        if policy is not None:
            self.notify(f"approval policy {policy.id} saved", title="Done")
            self.load_policies(select=policy.id)

    @work(exclusive=True, group="policies-toggle", description="enable or disable the approval policy")
    async def action_toggle_enabled(self) -> None:
        policy = self.selected()
        if policy is None:
            return
        changed = policy.model_copy(update={"enabled": not policy.enabled})
        saved = await host(self).call_api(host(self).client.put_approval_policy(changed))
        if saved is not None:
            self.notify(f"approval policy {saved.id} {'enabled' if saved.enabled else 'disabled'}", title="Done")
            self.load_policies(select=saved.id)

    def action_back(self) -> None:
        self.dismiss()
