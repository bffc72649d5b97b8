"""The command palette: every console action by name, only those the role and the selection allow."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .actions import ALL_ACTIONS, ConsoleAction, key_label


class CampaignCommands(Provider):
    def _available(self) -> list[ConsoleAction]:
        screen = self.screen  # the screen the palette was opened on, not the palette itself
        out = []
        for a in ALL_ACTIONS:
            target = self.app if hasattr(self.app, f"action_{a.action}") else screen
            if not hasattr(target, f"action_{a.action}"):
                continue
            check = getattr(target, "check_action", None)
            if check is not None and check(a.action, ()) is not True:
                continue
            out.append(a)
        return out

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
