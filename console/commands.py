"""The command palette: every console action by name, only those the role and the selection allow."""

from __future__ import annotations

from functools import partial

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from .actions import ALL_ACTIONS, ConsoleAction, key_label


def available_actions(app: App, screen: Screen) -> list[ConsoleAction]:
    """The registry's actions that ``screen`` (or the app) has and allows now: the server's ``actions`` for the
    selected campaign, the user's role. The palette and the help read this one list."""
    out = []
    for a in ALL_ACTIONS:
        target = app if hasattr(app, f"action_{a.action}") else screen
        if not hasattr(target, f"action_{a.action}"):
            continue
        check = getattr(target, "check_action", None)
        if check is not None and check(a.action, ()) is not True:
            continue
        out.append(a)
    return out


class CampaignCommands(Provider):
    def _available(self) -> list[ConsoleAction]:
        return available_actions(self.app, self.screen)  # the screen the palette was opened on

    def _run(self, a: ConsoleAction) -> None:
        target = self.app if hasattr(self.app, f"action_{a.action}") else self.screen
        self.app.call_later(target.run_action, a.action)

    async def discover(self) -> Hits:
        for a in self._available():
            yield DiscoveryHit(a.name, partial(self._run, a), help=f"{a.help} · key {key_label(a.key)}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for a in self._available():
            score = matcher.match(a.name)
            if score > 0:
                yield Hit(score, matcher.highlight(a.name), partial(self._run, a), help=f"{a.help} · key {key_label(a.key)}")
