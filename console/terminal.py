"""The rich console every command prints text through, loaded only by a command that prints text (console/output.py)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.text import Text

from store.text import printable

from .json_text import dumps


class TerminalConsole(Console):
    """A rich console for text that is not ours: markup off, and every string (table cells too) and
    JSON it prints made printable (newlines kept: text that must stay on one line, a name in a cell,
    is passed through ``printable`` first); our own styling goes through ``Text`` objects."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text, multiline=True), **kwargs)

    def print_json(self, json: str | None = None, *, data: Any = None, indent: int | str | None = 2,
                   **_: Any) -> None:  # rich's signature (its text parameter is named ``json``)
        value = _loads(json) if json is not None else data
        self.print(JSONHighlighter()(Text(dumps(value, indent))), soft_wrap=True)


def _loads(text: str) -> Any:
    return json.loads(text)
