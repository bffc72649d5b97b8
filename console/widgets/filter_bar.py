"""Says what the list is showing, and what is hidden, in words."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from store.listing import CampaignFilter
from store.text import printable


class FilterBar(Static):
    DEFAULT_CSS = """
    FilterBar { height: 1; background: $boost; padding: 0 1; color: $text-muted; }
    FilterBar.-narrowed { color: $warning; }
    """

    def show(self, f: CampaignFilter, shown: int, total: int) -> None:
        hint = "0: show all statuses" if not (f.all or f.statuses) else "0: default statuses"
        self.set_class(bool(f.statuses or f.types or f.channels or f.tags or f.search), "-narrowed")
        # The search is typed text: shown as text, never as markup.
        self.update(Text(printable(f"{shown:,} of {total:,} campaigns · {f.describe()} · {hint} · /: search · f: filter")))
