"""The top line: who you are, your role and how that was proven (OS account, bearer token), where the engine
runs (the server's URL over --connect), the workspace; and a banner when the engine is lost."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from store.text import printable


class WorkspaceHeader(Static):
    DEFAULT_CSS = """
    WorkspaceHeader { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._update)

    def _update(self, identity: dict | None) -> None:
        if identity is None:
            self.update("Campaigns")
            return
        # Who and where the engine is come first: a long workspace path is what gets cut at 80 columns.
        self.update(Text(printable(f"Campaigns · {identity['user']} · {identity['role']} · {identity['proof']}"
                                   f" · engine: {identity['engine']} · {identity['workspace']}")))


class ConnectionBanner(Static):
    """Shown while the engine cannot be reached; the console keeps retrying."""

    DEFAULT_CSS = """
    ConnectionBanner { height: auto; background: $error; color: $text; padding: 0 1; display: none; }
    ConnectionBanner.-lost { display: block; }
    """

    lost = reactive("")

    def on_mount(self) -> None:
        self.watch(self.app, "connection_problem", self._update)

    def _update(self, problem: str) -> None:
        self.set_class(bool(problem), "-lost")
        self.update(Text(printable(f"{problem} Retrying every second; nothing you typed is lost.")) if problem else "")
