"""An activity's settings as JSON: Ctrl+S saves the draft (the dialog stays open on a refusal, showing the
server's problems for this activity), Escape closes without saving."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from store.limits import too_deep
from store.text import printable

Save = Callable[[dict], Awaitable[list[str] | None]]
"""Saves the edited activity: None once saved, else the problems to show."""


class ActivitySettingsDialog(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Close", id="settings.cancel", tooltip="Close without saving"),
                Binding("ctrl+s", "save", "Save", id="settings.save", priority=True, tooltip="Save the draft")]
    DEFAULT_CSS = """
    ActivitySettingsDialog .dialog-box { width: 100; }
    ActivitySettingsDialog TextArea { height: 16; }
    ActivitySettingsDialog #settings-problems { color: $text-error; height: auto; max-height: 8; }
    """

    def __init__(self, title: str, activity: dict, save: Save, *, read_only: bool = False) -> None:
        super().__init__(classes="dialog")
        self.title_text, self.activity, self.save, self.read_only = title, activity, save, read_only

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(printable(self.title_text), classes="dialog-title", markup=False)
            hint = ("Read only: you cannot edit this campaign. Esc closes." if self.read_only else
                    "The activity as JSON. Ctrl+S saves the draft, Esc closes without saving.")
            yield Static(hint, classes="dialog-body")
            yield TextArea(json.dumps(self.activity, indent=2, ensure_ascii=False), language="json",
                           read_only=self.read_only, id="settings-json")
            yield Static("", id="settings-problems")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def problems(self, lines: list[str]) -> None:
        self.query_one("#settings-problems", Static).update(Text(printable("\n".join(lines), multiline=True)))

    @work(exclusive=True, group="activity-settings-save")
    async def action_save(self) -> None:
        if self.read_only:
            return
        text = self.query_one(TextArea).text
        deep = too_deep(text)
        if deep:
            self.problems([deep])
            return
        try:
            activity = json.loads(text)
        except ValueError as error:
            self.problems([f"Not JSON: {error}. Fix it and save again (Ctrl+S)."])
            return
        if not isinstance(activity, dict):
            self.problems(["Write one JSON object with the activity's id, kind and settings."])
            return
        self.problems(["Saving…"])
        refused = await self.save(activity)
        if refused:
            self.problems(["Not saved:", *refused])
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
