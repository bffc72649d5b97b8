"""Pick several values (statuses, types, channels, tags): Space toggles, Enter applies, Escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static


class ChoiceDialog(ModalScreen[list[str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("enter", "apply", "Apply", id="dialog.apply", priority=True)]

    def __init__(self, title: str, options: list[tuple[str, str]], selected: set[str]) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.options, self.selected = title, options, selected

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static("Space to toggle, Enter to apply (none selected: no filter), Esc to cancel", classes="dialog-body")
            yield SelectionList[str](*[(label, value, value in self.selected) for label, value in self.options])

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    def action_cancel(self) -> None:
        self.dismiss(None)
