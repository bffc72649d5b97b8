"""A yes/no question: Enter does the action (its button is focused), Escape cancels.

A dangerous action (stop, delete, lose an edit) opens with Cancel focused: a key typed on, such as `S` then
Enter, does nothing final; the action takes a deliberate move to its button (Tab, arrows) or a click."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from store.text import printable


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("left,right,tab,shift+tab", "app.focus_next", show=False, id="dialog.move")]

    def __init__(self, title: str, body: RenderableType, action: str, *, danger: bool = False,
                 allowed: bool = True, id: str | None = None) -> None:
        super().__init__(classes="dialog", id=id)
        self.title_text, self.body, self.action_label, self.danger, self.allowed = title, body, action, danger, allowed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            # Titles and bodies name campaigns: someone's text, shown as text (never markup), escaped.
            yield Static(printable(self.title_text), classes="dialog-title", markup=False)
            body = printable(self.body, multiline=True) if isinstance(self.body, str) else self.body
            yield Static(body, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action_label, variant="error" if self.danger else "primary", id="confirm",
                             disabled=not self.allowed)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm" if self.allowed and not self.danger else "#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)
