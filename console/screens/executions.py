"""An api campaign's executions in its detail: the ready-to-copy call that triggers it, its recent executions,
and one execution's per-recipient outcomes (sent with the message id, excluded with the reason, failed with
the provider's error)."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from store.models import Campaign, Channel
from store.models.execution import Execution, Outcome
from store.templates import compile_content

from ..display import cell_text, short_when
from ..widgets.list_table import ListTable

LOCAL_URL = "http://127.0.0.1:8765"  # `campaigns serve`'s default address
EXECUTION_COLUMNS = (("id", "Execution"), ("request", "Request id"), ("when", "When"), ("by", "By"),
                     ("status", "Status"), ("sent", "Sent"), ("excluded", "Excluded"), ("failed", "Failed"))
OUTCOME_COLUMNS = (("recipient", "Recipient"), ("outcome", "Outcome"), ("detail", "Message id / reason / error"))
EXAMPLE_RECIPIENT = {Channel.email: ("jane.doe@example.com", "email"), Channel.sms: ("+33612345678", "phone"),
                     Channel.push: ("PUSH-TOKEN", "pushToken")}


def server_url(remote: str | None) -> tuple[str, str]:
    """The URL to call, and where it comes from: the console's `--connect` server, or the local default."""
    if remote and remote.startswith(("http://", "https://")):
        return remote.rstrip("/"), "the server this console is connected to"
    return LOCAL_URL, "`campaigns serve` prints the URL to use; this is its default"


def _example_context(campaign: Campaign) -> dict:
    """One placeholder per ``{{context.*}}`` path the live content reads (nested as the paths are)."""
    context: dict = {}
    if campaign.live is None:
        return context
    try:
        paths = compile_content(campaign.live.content, campaign.live.channel).context_paths
    except Exception:  # content the engine would refuse: the call's example still helps
        return context
    for path in sorted(paths):
        *parents, leaf = path.split(".")
        node = context
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = "…"
    return context


def unitary_curl(url: str, campaign: Campaign) -> str:
    """``POST /ajo/im/executions/unitary`` for one example recipient on the campaign's channel; the token comes from
    ``$CAMPAIGNS_TOKEN`` and every paste gets a fresh requestId (``uuidgen``), so a copy never replays another."""
    user_id, namespace = EXAMPLE_RECIPIENT[campaign.channel]
    recipients = json.dumps([{"type": "aep", "userId": user_id, "namespace": namespace}], ensure_ascii=False)
    context = json.dumps(_example_context(campaign), ensure_ascii=False)
    return "\n".join([  # one field a line: short enough to read beside the executions, valid JSON as pasted
        f"curl -sS -X POST '{url}/ajo/im/executions/unitary' \\",
        '  -H "Authorization: Bearer $CAMPAIGNS_TOKEN" -H \'Content-Type: application/json\' -d @- <<EOF',
        f'{{"requestId": "$(uuidgen)", "campaignId": {json.dumps(campaign.id)},',
        f' "recipients": {recipients},',
        f' "context": {context}}}',
        "EOF"])


def execution_cells(execution: Execution) -> list:
    counts = {o: sum(1 for r in execution.outcomes if r.outcome is o) for o in Outcome}
    return [execution.id, cell_text(execution.request_id), short_when(execution.created_at),
            cell_text(execution.created_by), execution.status.value,
            *(f"{counts[o]:,}" for o in (Outcome.sent, Outcome.excluded, Outcome.failed))]


class ExecutionOutcomes(ModalScreen[None]):
    """Each recipient of one execution and what happened to it; Escape closes."""

    BINDINGS = [Binding("escape", "close", "Close", id="execution.close", tooltip="Back to the executions")]

    def __init__(self, execution: Execution) -> None:
        super().__init__(classes="dialog")
        self.execution = execution

    def compose(self) -> ComposeResult:
        e = self.execution
        with Vertical(classes="dialog-box"):
            yield Static(Text(f"Execution {e.id} · request {e.request_id}"), classes="dialog-title")
            yield Static(Text(f"{short_when(e.created_at)} by {e.created_by} · {e.status.value}"), classes="dialog-body")
            yield ListTable(id="outcome-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in OUTCOME_COLUMNS:
            table.add_column(label, key=key)
        for index, o in enumerate(self.execution.outcomes):
            detail = o.message_id if o.outcome is Outcome.sent else (
                getattr(o.reason, "value", o.reason) if o.outcome is Outcome.excluded else o.error)
            table.add_row(cell_text(o.user_id), o.outcome.value, cell_text(str(detail or "")), key=str(index))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
