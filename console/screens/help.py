"""The keys that work here and now: the registry's actions the current user may take on the selected campaign
(the palette's list: the server's ``actions`` for that campaign and the role), each key once, then the keys of
the other screens; typing narrows the list."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..actions import APP_ACTIONS, CAMPAIGN_ACTIONS, LIST_ACTIONS, ConsoleAction, key_label

SCREEN_KEYS = (
    ("Lists", (("Home / End", "First / last row"), ("PgUp / PgDn", "A page up / down"),
               ("G", "Last row (G is Shift+g: in the campaign list, g activates)"))),
    ("Campaign detail", (("1 2 3", "Overview, runs, audit trail"), ("p", "Render the content for another test profile"),
                         ("v", "Show the live version or the draft"), ("c", "Compare the draft with the live version"))),
    ("Compare draft with live", (("n / N", "Next / previous change"),)),
    ("Approval policies (admins)", (("Enter / e", "Edit the policy"), ("n", "New policy"),
                                    ("Space", "Enable or disable the policy"))),
    ("Anywhere", (("Esc", "Back"), ("Ctrl+P", "Command palette: every action by name"), ("Tab", "Next field or button"))),
)

_SECTIONS = (("Campaign list", LIST_ACTIONS), ("On the selected campaign", CAMPAIGN_ACTIONS), ("Console", APP_ACTIONS))


def help_sections(available: Iterable[ConsoleAction], needle: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(key, text)]) for the available actions, one line a key, then the screens' keys; only the lines
    containing ``needle`` (any case) when one is typed."""
    allowed = set(available)
    needle = needle.casefold()
    seen: set[str] = set()
    sections = []
    for title, actions in _SECTIONS:
        lines = []
        for a in actions:
            if a in allowed and a.key not in seen:
                seen.add(a.key)
                lines.append((key_label(a.key), f"{a.name} — {a.help}"))
        sections.append((title, lines))
    sections += [(title, list(keys)) for title, keys in SCREEN_KEYS]
    return [(title, kept) for title, lines in sections
            if (kept := [(k, t) for k, t in lines if needle in f"{k} {t}".casefold()])]


def help_table(sections: list[tuple[str, list[tuple[str, str]]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=6)
    table.add_column(ratio=1)
    for title, lines in sections:
        table.add_row("", Text(title, style="bold underline"))
        for key, text in lines:
            table.add_row(key, text)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, available: list[ConsoleAction]) -> None:
        super().__init__()
        self.available = available

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box help-box"):
            yield Static("Keys", classes="dialog-title")
            yield Input(placeholder="Type to narrow the keys", id="help-filter", compact=True)
            yield Static(help_table(help_sections(self.available)), id="help-keys")
            yield Static("Only what you may do now is listed · Esc closes · every action is also in the command "
                         "palette (Ctrl+P)", classes="dialog-body")

    def on_mount(self) -> None:
        self.query_one("#help-filter").focus()

    @on(Input.Changed, "#help-filter")
    def _narrow(self, event: Input.Changed) -> None:
        sections = help_sections(self.available, event.value)
        self.query_one("#help-keys", Static).update(help_table(sections) if sections else "No key matches.")
