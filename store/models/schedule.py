"""When a campaign sends: start now or at a local date-time, optional end, optional recurrence."""

from __future__ import annotations

from datetime import datetime, time
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .common import Model


class Frequency(str, Enum):
    hourly = "hourly"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class Weekday(str, Enum):
    mo = "MO"
    tu = "TU"
    we = "WE"
    th = "TH"
    fr = "FR"
    sa = "SA"
    su = "SU"


class Recurrence(Model):
    """Repeat every ``interval`` units: daily, weekly on weekdays, monthly on a day, every N hours.

    Fire times are wall-clock times in the schedule's time zone; ``at`` is the local time of day
    (ignored for hourly, which counts from the start).
    """

    frequency: Frequency
    interval: int = Field(1, ge=1, le=366)
    weekdays: list[Weekday] = Field(default_factory=list)
    month_day: int | None = Field(None, ge=1, le=31)
    at: time = time(9, 0)

    @model_validator(mode="after")
    def _fits_frequency(self) -> "Recurrence":
        if self.frequency is Frequency.weekly and not self.weekdays:
            raise ValueError("a weekly recurrence needs at least one weekday (MO, TU, WE, TH, FR, SA, SU)")
        if self.frequency is not Frequency.weekly and self.weekdays:
            raise ValueError("weekdays only apply to a weekly recurrence")
        if self.frequency is Frequency.monthly and self.month_day is None:
            raise ValueError("a monthly recurrence needs month_day (1..31)")
        if self.frequency is not Frequency.monthly and self.month_day is not None:
            raise ValueError("month_day only applies to a monthly recurrence")
        if self.frequency is Frequency.hourly and self.interval > 24 * 7:
            raise ValueError("every N hours allows N up to 168; use daily or weekly beyond a week")
        return self


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = ", ".join(sorted(z for z in available_timezones() if z.split("/")[-1].lower() == name.split("/")[-1].lower())[:3])
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris or America/New_York"
            + (f" (did you mean {hint}?)" if hint else "")
        ) from None
    return name


class Schedule(Model):
    """``start`` None means "on manual activation"; naive date-times are local to ``time_zone``. ``end`` ends a
    recurring campaign, or an api campaign's calls (the campaign's type decides: ``check_version_fits_type``).

    Field order matters: each validator sees the fields declared before it, so an error is
    reported on the field that is wrong (``end``), not on the schedule as a whole.
    """

    time_zone: str = "UTC"
    start: datetime | None = None
    recurrence: Recurrence | None = None
    end: datetime | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return _check_zone(name)

    @field_validator("start")
    @classmethod
    def _localize_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _localize(value, info)

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        value = _localize(value, info)
        if value is None:
            return None
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"end {value.isoformat()} is not after start {start.isoformat()}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def describe(self) -> str:
        """One line for lists and confirmations, in the schedule's own time zone."""
        start = "on activation" if self.start is None else self.start.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        if self.recurrence is None:
            return f"once, {start} ({self.time_zone})" if self.start else "once, on activation"
        r = self.recurrence
        unit = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}[r.frequency.value]
        every = f"every {r.interval} {unit}s" if r.interval > 1 else f"every {unit}"
        if r.frequency is Frequency.weekly:
            every += " on " + ",".join(d.value for d in r.weekdays)
        if r.frequency is Frequency.monthly:
            every += f" on day {r.month_day}"
        if r.frequency is not Frequency.hourly:
            every += f" at {r.at.strftime('%H:%M')}"
        end = "" if self.end is None else f" until {self.end.astimezone(self.zone).strftime('%Y-%m-%d %H:%M')}"
        return f"{every}, from {'activation' if self.start is None else start}{end} ({self.time_zone})"


def _localize(value: datetime | None, info: ValidationInfo) -> datetime | None:
    """A naive date-time is a wall time in the schedule's zone (UTC if the zone itself was invalid)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(info.data.get("time_zone") or "UTC"))
