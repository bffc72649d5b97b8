"""A preview of what a tested activity passes on: sample profiles per outbound transition, and a channel
activity's message rendered for a sample profile. Escape closes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from store.text import printable


class WorkflowPreviewDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="preview.close")]
    DEFAULT_CSS = """
    WorkflowPreviewDialog .dialog-box { width: 100; }
    WorkflowPreviewDialog VerticalScroll { height: auto; max-height: 30; }
    """

    def __init__(self, title: str, body: Text) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(printable(self.title_text), classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(self.body)
            yield Static("Esc closes.", classes="dialog-body")

    def action_close(self) -> None:
        self.dismiss(None)
