"""Ask for a message: required when sending a draft back, optional with a request for approval.
Enter sends, Escape cancels (None); an optional message left empty is sent as ""."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from store.text import printable


class MessageDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, prompt: str, action: str, *, required: bool = True,
                 placeholder: str = "What should change?", max_length: int = 0) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.prompt, self.action_label = title, prompt, action
        self.required, self.placeholder, self.max_length = required, placeholder, max_length  # 0: no limit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(printable(self.title_text), classes="dialog-title", markup=False)  # names a campaign
            yield Static(self.prompt, classes="dialog-body")
            yield Input(placeholder=self.placeholder, id="message", max_length=self.max_length)
            yield Static("", id="message-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action_label, variant="primary", id="send")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _send(self) -> None:
        message = self.query_one(Input).value.strip()
        if not message and self.required:
            self.query_one("#message-error", Static).update("A message is required: say what to change.")
            self.query_one(Input).focus()
            return
        self.dismiss(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self._send()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
