"""When a campaign fires: a schedule's occurrences as aware UTC instants (DESIGN.md 2, ENGINE-NOTES.md 1).

Rules, chosen so that a person reading the schedule gets what they expect:

- One-shot: fires once, at ``start``, or at activation when there is no start or the start
  has already passed by then.
- Recurring: slots sit on a grid anchored on the start (or on the activation when there is no
  start): every N days from the start's local date, every N weeks from the Monday of the
  start's week, every N months from the start's month, every N hours of elapsed time from the
  start instant (absolute, so DST never doubles or drops an hourly slot). The first fire is the
  first slot at or after the start; slots before the activation never fire (the campaign was
  not live), and nothing fires after ``end`` (a slot exactly at ``end`` does).
- Monthly on a day the month lacks (31st in April, 29-31 in February) fires on the month's
  last day: "on the 31st" reads as "at the end of the month", and skipping months surprises.
- Wall clock across DST: each local date is combined with ``at`` in the schedule's zone. In the
  spring-forward gap the time moves forward by the gap (02:30 -> 03:30 in New York); in the
  repeated fall-back hour it fires once, at the first instance. Never "24 h later".
- Misfires (``due``): after downtime the latest missed slot runs once, however late, as long as
  the campaign has not ended (``now <= end + grace``); every other slot is reported as missed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from typing import Iterator
from zoneinfo import ZoneInfo

from ..errors import ValidationFailed
from ..models import Frequency, Recurrence, Schedule

UTC = timezone.utc
ONE_SHOT_COMPLETES_AFTER = timedelta(days=3)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(slots=True)
class Due:
    """What the engine should do now: run ``fire`` (if any) and record each of ``missed``."""

    fire: datetime | None
    missed: list[datetime] = field(default_factory=list)


def is_one_shot(schedule: Schedule) -> bool:
    return schedule.recurrence is None


def first_fire(schedule: Schedule, *, activated_at: datetime) -> datetime:
    """When the first run is due; a schedule whose end leaves no slot is refused (ValidationFailed)."""
    first = next(occurrences(schedule, activated_at=activated_at), None)
    if first is None:
        raise ValidationFailed(
            f"the schedule never fires: no occurrence of {schedule.describe()} falls after the "
            "activation and before the end; move the end date or the start"
        )
    return first


def occurrences(schedule: Schedule, *, activated_at: datetime, after: datetime | None = None) -> Iterator[datetime]:
    """Aware UTC fire times strictly after ``after`` (or from the beginning), in order, never past ``schedule.end``.

    Starts from the grid period containing ``after`` (arithmetic, no walk from the start), so
    asking for the next slot of a years-old schedule costs a few slots, not years of them.
    """
    activated_at = _utc(activated_at, "activated_at")
    after = None if after is None else _utc(after, "after")
    anchor = activated_at if schedule.start is None else _utc(schedule.start, "start")
    earliest = max(anchor, activated_at)
    rec = schedule.recurrence
    if rec is None:
        if after is None or earliest > after:
            yield earliest
        return
    lower = earliest if after is None else max(earliest, after)
    end = None if schedule.end is None else _utc(schedule.end, "end")
    last: datetime | None = None
    for t in _slots(rec, schedule.zone, anchor, lower):
        if end is not None and t > end:
            return
        # `last` keeps the output strictly increasing where a whole day was skipped
        # (Pacific/Apia 2011-12-30), which maps two dates onto one instant.
        if t >= earliest and (after is None or t > after) and (last is None or t > last):
            last = t
            yield t


def next_occurrences(schedule: Schedule, *, activated_at: datetime, after: datetime, count: int = 5) -> list[datetime]:
    return list(islice(occurrences(schedule, activated_at=activated_at, after=after), count))


def due(
    schedule: Schedule,
    *,
    activated_at: datetime,
    last_fired: datetime | None,
    now: datetime,
    grace: timedelta = timedelta(hours=1),
) -> Due:
    """Coalesce "latest": of the slots in (last_fired, now] the latest runs once, the others are missed.

    The latest runs even when late (a missed send still goes out once, as the product asks);
    the engine can see the lateness as ``now - fire``. It is missed too once the campaign is over,
    i.e. ``now`` is past ``end`` by more than ``grace`` (the grace absorbs a tick that lands
    just after an end that is itself a slot).
    """
    now = _utc(now, "now")
    slots: list[datetime] = []
    for t in occurrences(schedule, activated_at=activated_at, after=last_fired):
        if t > now:
            break
        slots.append(t)
    if not slots:
        return Due(None, [])
    if schedule.end is not None and now > _utc(schedule.end, "end") + grace:
        return Due(None, slots)
    return Due(slots[-1], slots[:-1])


def completion_time(schedule: Schedule, *, activated_at: datetime) -> datetime | None:
    """Live -> Completed: a one-shot 3 days after it fires (= activation unless started later,
    so a campaign scheduled weeks ahead does not complete before sending); a recurring one at its
    end; None for a recurring one without end (Live until stopped)."""
    if schedule.recurrence is None:
        return first_fire(schedule, activated_at=activated_at) + ONE_SHOT_COMPLETES_AFTER
    return None if schedule.end is None else _utc(schedule.end, "end")


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _wall(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Local date + wall time -> UTC instant.

    fold=0 gives both DST rules at once: in the repeated hour it is the first instance, and in
    the spring-forward gap zoneinfo applies the offset from before the change, which lands
    exactly ``gap`` later on the clock (02:30 -> 03:30 in New York, 02:15 -> 02:45 on Lord Howe).
    """
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)


def _slots(rec: Recurrence, zone: ZoneInfo, anchor: datetime, lower: datetime) -> Iterator[datetime]:
    """Grid slots from the period just before ``lower`` onwards (callers filter exact bounds)."""
    n = rec.interval
    if rec.frequency is Frequency.hourly:
        step = timedelta(hours=n)
        k = max(0, (lower - anchor) // step)
        while True:
            yield anchor + k * step
            k += 1
    start_day = anchor.astimezone(zone).date()
    # A slot on local date D lands on D, or D+1 when a gap pushes it past midnight: starting
    # two days before `lower` cannot miss one.
    from_day = lower.astimezone(zone).date() - timedelta(days=2)
    if rec.frequency is Frequency.daily:
        k = max(0, (from_day - start_day).days // n)
        while True:
            yield _wall(start_day + timedelta(days=k * n), rec.at, zone)
            k += 1
    if rec.frequency is Frequency.weekly:
        monday = start_day - timedelta(days=start_day.weekday())
        offsets = sorted({_WEEKDAYS.index(d.value) for d in rec.weekdays})
        k = max(0, (from_day - monday).days // (7 * n))
        while True:
            week = monday + timedelta(weeks=k * n)
            for offset in offsets:
                yield _wall(week + timedelta(days=offset), rec.at, zone)
            k += 1
    # monthly
    month_day = rec.month_day
    assert month_day is not None, "the model requires a day for a monthly recurrence"
    month0 = start_day.year * 12 + start_day.month - 1
    k = max(0, (from_day.year * 12 + from_day.month - 1 - month0) // n)
    while True:
        year, month = divmod(month0 + k * n, 12)
        last_day = calendar.monthrange(year, month + 1)[1]
        yield _wall(date(year, month + 1, min(month_day, last_day)), rec.at, zone)
        k += 1
