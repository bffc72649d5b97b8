"""Pick one item of a list (an activity's kind, the activity to connect to): Enter picks, Escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.text import printable


class ActivityPickDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, prompt: str, options: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.prompt, self.options = title, prompt, options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(printable(self.title_text), classes="dialog-title", markup=False)
            yield Static(self.prompt + " Enter picks, Esc cancels.", classes="dialog-body", markup=False)
            yield OptionList(*[Option(printable(label), id=value) for label, value in self.options])

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
