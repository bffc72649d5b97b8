"""Every key, from the same registry the footer and the palette read."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..actions import APP_ACTIONS, CAMPAIGN_ACTIONS, LIST_ACTIONS, key_label

SCREEN_KEYS = (
    ("Campaign detail", (("1 2 3", "Overview, runs, audit trail"), ("p", "Render the content for another test profile"),
                         ("v", "Show the live version or the draft"), ("c", "Compare the draft with the live version"))),
    ("Compare draft with live", (("n / N", "Next / previous change"),)),
    ("Approval policies (admins)", (("Enter / e", "Edit the policy"), ("n", "New policy"),
                                    ("Space", "Enable or disable the policy"))),
    ("Anywhere", (("Esc", "Back"), ("Ctrl+P", "Command palette: every action by name"), ("Tab", "Next field or button"))),
)


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=6)
    table.add_column(ratio=1)
    for title, actions in (("Campaign list", LIST_ACTIONS), ("On the selected campaign", CAMPAIGN_ACTIONS),
                           ("Console", APP_ACTIONS)):
        table.add_row("", f"[bold underline]{title}[/]")
        for a in actions:
            table.add_row(key_label(a.key), f"{a.name} [dim]— {a.help}[/]")
        table.add_row("", "")
    for title, keys in SCREEN_KEYS:
        table.add_row("", f"[bold underline]{title}[/]")
        for key, text in keys:
            table.add_row(key, text)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box help-box"):
            yield Static("Keys", classes="dialog-title")
            yield Static(help_table())
            yield Static("Esc closes · every action is also in the command palette (Ctrl+P)", classes="dialog-body")
