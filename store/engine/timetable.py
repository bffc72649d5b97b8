"""The timetable: when each Scheduled or Live campaign next needs the engine (a fire or its completion).

A heap of (instant, campaign id) beside each campaign's current instant. Setting a campaign's instant
pushes a new entry and leaves the old one to be skipped when it surfaces, so a change costs O(log n)
and the scheduler reads only the earliest entry to know how long it may sleep, whatever the number
of campaigns.
"""

from __future__ import annotations

import heapq
from datetime import datetime

STALE_SLACK = 1024  # entries left behind by changes, beyond the live ones, before the heap is rebuilt


class Timetable:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._at: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._at)

    def set(self, campaign_id: str, at: datetime | None) -> None:
        """``campaign_id`` next needs the engine ``at`` (None: never, until it changes)."""
        if at is None:
            self.discard(campaign_id)
            return
        if self._at.get(campaign_id) == at:
            return
        self._at[campaign_id] = at
        heapq.heappush(self._heap, (at, campaign_id))
        if len(self._heap) > 2 * len(self._at) + STALE_SLACK:
            self._heap = [(when, cid) for cid, when in self._at.items()]
            heapq.heapify(self._heap)

    def discard(self, campaign_id: str) -> None:
        self._at.pop(campaign_id, None)

    def earliest(self) -> datetime | None:
        """The first instant anything is due, or None when nothing is scheduled."""
        while self._heap and self._at.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # left behind by a change
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime) -> list[str]:
        """The campaigns due at ``now``, earliest first, taken out of the timetable."""
        due = []
        while (earliest := self.earliest()) is not None and earliest <= now:
            _, campaign_id = heapq.heappop(self._heap)
            del self._at[campaign_id]
            due.append(campaign_id)
        return due
