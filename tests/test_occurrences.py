"""When a campaign fires: frequencies, DST wall-clock rules, end bounds, misfires, completion."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from store.engine import occurrences as occ_module
from store.engine.occurrences import (
    Due,
    completion_time,
    due,
    first_fire,
    is_one_shot,
    next_occurrences,
    occurrences,
)
from store.errors import ValidationFailed
from store.models import Schedule

UTC = timezone.utc
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # an activation long before every start below
NY, PARIS, LORD_HOWE = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris"), ZoneInfo("Australia/Lord_Howe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sched(zone: str = "UTC", start: datetime | None = None, end: datetime | None = None, **rec) -> Schedule:
    return Schedule(time_zone=zone, start=start, end=end, recurrence=rec or None)


def take(schedule: Schedule, n: int = 6, *, activated_at: datetime = EPOCH, after: datetime | None = None) -> list[datetime]:
    out = []
    for t in occurrences(schedule, activated_at=activated_at, after=after):
        out.append(t)
        if len(out) == n:
            break
    return out


def local(ts: list[datetime], zone: ZoneInfo) -> list[str]:
    return [t.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") for t in ts]


# --- one-shot -------------------------------------------------------------------------------


def test_one_shot_fires_on_activation_without_start():
    s = Schedule()
    assert is_one_shot(s)
    act = utc(2024, 5, 1, 12, 0, 7)
    assert take(s, activated_at=act) == [act]
    assert first_fire(s, activated_at=act) == act
    assert take(s, activated_at=act, after=act) == []  # strictly after


def test_one_shot_fires_at_future_start_or_at_activation_if_start_passed():
    s = Schedule(time_zone="Europe/Paris", start=datetime(2024, 7, 1, 9, 0))
    assert take(s, activated_at=utc(2024, 6, 1)) == [utc(2024, 7, 1, 7, 0)]
    late = utc(2024, 7, 2, 10, 0)
    assert take(s, activated_at=late) == [late]
    assert not is_one_shot(sched(frequency="daily"))


def test_times_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        take(Schedule(), activated_at=datetime(2024, 1, 1))


# --- frequencies and intervals --------------------------------------------------------------


def test_daily_every_day_and_every_3_days_anchored_on_start_date():
    s = sched("Europe/Paris", start=datetime(2024, 1, 10, 12, 0), frequency="daily", at=time(9, 0))
    # 09:00 on the start day is before the start: the first slot is the next day.
    assert local(take(s, 3), PARIS) == ["2024-01-11 09:00 +0100", "2024-01-12 09:00 +0100", "2024-01-13 09:00 +0100"]
    s3 = sched("Europe/Paris", start=datetime(2024, 1, 10, 8, 0), frequency="daily", interval=3, at=time(9, 0))
    assert [t.astimezone(PARIS).day for t in take(s3, 4)] == [10, 13, 16, 19]
    s3_late = sched("Europe/Paris", start=datetime(2024, 1, 10, 12, 0), frequency="daily", interval=3, at=time(9, 0))
    assert [t.astimezone(PARIS).day for t in take(s3_late, 3)] == [13, 16, 19]  # grid stays on the start date


def test_weekly_mo_we_fr_every_2_weeks_anchored_on_the_start_week():
    # Wednesday 2024-01-10: MO of this week is before the start, so WE and FR, then skip a week.
    s = sched("UTC", start=datetime(2024, 1, 10, 0, 0), frequency="weekly", interval=2,
              weekdays=["FR", "MO", "WE"], at=time(18, 30))
    got = take(s, 8)
    assert [t.strftime("%a %d") for t in got] == [
        "Wed 10", "Fri 12", "Mon 22", "Wed 24", "Fri 26", "Mon 05", "Wed 07", "Fri 09",
    ]
    assert all(t.time() == time(18, 30) for t in got)


def test_monthly_on_the_31st_falls_back_to_the_last_day():
    s = sched("America/New_York", start=datetime(2024, 1, 1), frequency="monthly", month_day=31, at=time(8, 0))
    assert [t.astimezone(NY).date().isoformat() for t in take(s, 7)] == [
        "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30", "2024-07-31",
    ]
    s2 = sched("UTC", start=datetime(2023, 1, 31, 8, 0), frequency="monthly", interval=2, month_day=31, at=time(8, 0))
    assert [t.date().isoformat() for t in take(s2, 5)] == [
        "2023-01-31", "2023-03-31", "2023-05-31", "2023-07-31", "2023-09-30",
    ]
    feb = sched("UTC", start=datetime(2023, 2, 1), frequency="monthly", month_day=29, at=time(8, 0))
    assert [t.date().isoformat() for t in take(feb, 2)] == ["2023-02-28", "2023-03-29"]


def test_hourly_counts_elapsed_time_from_the_start():
    s = sched("UTC", start=datetime(2024, 1, 1, 10, 15), frequency="hourly", interval=5)
    assert take(s, 3) == [utc(2024, 1, 1, 10, 15), utc(2024, 1, 1, 15, 15), utc(2024, 1, 1, 20, 15)]
    assert take(s, 2, after=utc(2024, 1, 1, 15, 15)) == [utc(2024, 1, 1, 20, 15), utc(2024, 1, 2, 1, 15)]


@pytest.mark.parametrize("start", [datetime(2024, 3, 9, 20, 0), datetime(2024, 11, 2, 20, 0)])
def test_hourly_across_dst_keeps_exact_spacing(start):
    s = sched("America/New_York", start=start, frequency="hourly", interval=3)
    got = take(s, 10)
    assert {b - a for a, b in zip(got, got[1:])} == {timedelta(hours=3)}
    # the local clock shows the DST jump instead
    local_steps = {(b.astimezone(NY).replace(tzinfo=None) - a.astimezone(NY).replace(tzinfo=None)) for a, b in zip(got, got[1:])}
    assert local_steps == {timedelta(hours=3), timedelta(hours=3) + (timedelta(hours=1) if start.month == 3 else -timedelta(hours=1))}


def test_without_start_the_grid_anchors_on_activation():
    act = utc(2024, 6, 3, 14, 20)  # 10:20 in New York
    daily = sched("America/New_York", frequency="daily", at=time(9, 0))
    assert local(take(daily, 2, activated_at=act), NY) == ["2024-06-04 09:00 -0400", "2024-06-05 09:00 -0400"]
    hourly = sched("America/New_York", frequency="hourly", interval=2)
    assert take(hourly, 2, activated_at=act) == [act, act + timedelta(hours=2)]


def test_slots_before_activation_never_fire_but_the_grid_stays_on_start():
    s = sched("UTC", start=datetime(2024, 1, 1, 9, 0), frequency="daily", interval=2, at=time(9, 0))
    assert take(s, 2, activated_at=utc(2024, 1, 4, 12, 0)) == [utc(2024, 1, 5, 9, 0), utc(2024, 1, 7, 9, 0)]
    assert first_fire(s, activated_at=utc(2024, 1, 5, 9, 0)) == utc(2024, 1, 5, 9, 0)  # at-or-after


# --- wall clock across DST ------------------------------------------------------------------


def test_new_york_spring_forward_moves_a_missing_time_forward_by_the_gap():
    s = sched("America/New_York", start=datetime(2024, 3, 8), frequency="daily", at=time(2, 30))
    assert local(take(s, 5), NY) == [
        "2024-03-08 02:30 -0500", "2024-03-09 02:30 -0500", "2024-03-10 03:30 -0400",
        "2024-03-11 02:30 -0400", "2024-03-12 02:30 -0400",
    ]


def test_new_york_fall_back_fires_once_at_the_first_instance():
    s = sched("America/New_York", start=datetime(2024, 11, 2), frequency="daily", at=time(1, 30))
    got = take(s, 3)
    assert got == [utc(2024, 11, 2, 5, 30), utc(2024, 11, 3, 5, 30), utc(2024, 11, 4, 6, 30)]
    assert local(got, NY)[1] == "2024-11-03 01:30 -0400"  # EDT, the first 01:30


def test_paris_gap_and_fold():
    spring = sched("Europe/Paris", start=datetime(2024, 3, 30), frequency="daily", at=time(2, 30))
    assert local(take(spring, 3), PARIS) == ["2024-03-30 02:30 +0100", "2024-03-31 03:30 +0200", "2024-04-01 02:30 +0200"]
    autumn = sched("Europe/Paris", start=datetime(2024, 10, 26), frequency="daily", at=time(2, 30))
    assert take(autumn, 3) == [utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]


def test_lord_howe_half_hour_gap_and_fold():
    # DST starts 2024-10-06 02:00 -> 02:30 (+10:30 -> +11); ends 2024-04-07 02:00 -> 01:30.
    spring = sched("Australia/Lord_Howe", start=datetime(2024, 10, 5), frequency="daily", at=time(2, 15))
    assert local(take(spring, 3), LORD_HOWE) == [
        "2024-10-05 02:15 +1030", "2024-10-06 02:45 +1100", "2024-10-07 02:15 +1100",
    ]
    autumn = sched("Australia/Lord_Howe", start=datetime(2024, 4, 6), frequency="daily", at=time(1, 45))
    got = take(autumn, 3)
    assert local(got, LORD_HOWE) == ["2024-04-06 01:45 +1100", "2024-04-07 01:45 +1100", "2024-04-08 01:45 +1030"]
    assert got[1] == utc(2024, 4, 6, 14, 45)


def test_weekly_and_monthly_follow_the_same_wall_clock_rule():
    weekly = sched("America/New_York", start=datetime(2024, 3, 1), frequency="weekly", weekdays=["SU"], at=time(2, 30))
    assert local(take(weekly, 3), NY) == ["2024-03-03 02:30 -0500", "2024-03-10 03:30 -0400", "2024-03-17 02:30 -0400"]
    monthly = sched("America/New_York", start=datetime(2024, 10, 1), frequency="monthly", month_day=3, at=time(1, 30))
    assert take(monthly, 2) == [utc(2024, 10, 3, 5, 30), utc(2024, 11, 3, 5, 30)]


def test_gap_ending_at_midnight_moves_to_the_next_day():
    # America/Nuuk (since 2024) jumps from 23:00 to 00:00: a 23:30 send has no place on
    # 2024-03-30 and goes out at 00:30 on the 31st, which then also has its own 23:30.
    nuuk = ZoneInfo("America/Nuuk")
    s = sched("America/Nuuk", start=datetime(2024, 3, 29), frequency="daily", at=time(23, 30))
    assert local(take(s, 3), nuuk) == ["2024-03-29 23:30 -0200", "2024-03-31 00:30 -0100", "2024-03-31 23:30 -0100"]
    # resuming on the 31st, before 00:30, still finds the slot that belongs to the 30th
    after = datetime(2024, 3, 31, 0, 10, tzinfo=nuuk)
    assert local(next_occurrences(s, activated_at=EPOCH, after=after, count=2), nuuk) == ["2024-03-31 00:30 -0100", "2024-03-31 23:30 -0100"]
    weekly = sched("America/Nuuk", start=datetime(2024, 3, 20), frequency="weekly", weekdays=["SA"], at=time(23, 30))
    assert local(next_occurrences(weekly, activated_at=EPOCH, after=after, count=1), nuuk) == ["2024-03-31 00:30 -0100"]
    monthly = sched("America/Nuuk", start=datetime(2024, 3, 1), frequency="monthly", month_day=30, at=time(23, 30))
    assert local(next_occurrences(monthly, activated_at=EPOCH, after=after, count=1), nuuk) == ["2024-03-31 00:30 -0100"]


def test_a_skipped_calendar_day_fires_once_not_twice():
    # Pacific/Apia skipped 2011-12-30 entirely: its slot and the 31st's are the same instant.
    apia = ZoneInfo("Pacific/Apia")
    s = sched("Pacific/Apia", start=datetime(2011, 12, 28), frequency="daily", at=time(9, 0))
    assert local(take(s, 4), apia) == [
        "2011-12-28 09:00 -1000", "2011-12-29 09:00 -1000", "2011-12-31 09:00 +1400", "2012-01-01 09:00 +1400",
    ]


# --- end bounds -----------------------------------------------------------------------------


def test_end_is_inclusive_when_it_is_a_slot_and_nothing_fires_after_it():
    s = sched("UTC", start=datetime(2024, 1, 1), end=datetime(2024, 1, 3, 9, 0), frequency="daily", at=time(9, 0))
    assert take(s, 10) == [utc(2024, 1, 1, 9), utc(2024, 1, 2, 9), utc(2024, 1, 3, 9)]
    s2 = sched("UTC", start=datetime(2024, 1, 1), end=datetime(2024, 1, 3, 8, 59), frequency="daily", at=time(9, 0))
    assert take(s2, 10) == [utc(2024, 1, 1, 9), utc(2024, 1, 2, 9)]
    assert next_occurrences(s2, activated_at=EPOCH, after=utc(2024, 1, 2, 9)) == []
    hourly = sched("UTC", start=datetime(2024, 1, 1), end=datetime(2024, 1, 1, 6), frequency="hourly", interval=3)
    assert take(hourly, 10) == [utc(2024, 1, 1, 0), utc(2024, 1, 1, 3), utc(2024, 1, 1, 6)]


def test_a_schedule_that_never_fires_is_refused_by_first_fire():
    s = sched("UTC", start=datetime(2024, 1, 1, 10), end=datetime(2024, 1, 1, 11), frequency="daily", at=time(9, 0))
    assert take(s) == []
    with pytest.raises(ValidationFailed, match="never fires"):
        first_fire(s, activated_at=EPOCH)
    activated_after_end = sched("UTC", start=datetime(2024, 1, 1), end=datetime(2024, 2, 1), frequency="daily")
    assert take(activated_after_end, activated_at=utc(2024, 3, 1)) == []


def test_next_occurrences_counts_and_is_strictly_after():
    s = sched("UTC", start=datetime(2024, 1, 1), frequency="daily", at=time(9, 0))
    assert next_occurrences(s, activated_at=EPOCH, after=utc(2024, 1, 5, 9), count=2) == [utc(2024, 1, 6, 9), utc(2024, 1, 7, 9)]
    assert len(next_occurrences(s, activated_at=EPOCH, after=utc(2024, 1, 5, 9))) == 5


@pytest.mark.parametrize("rec", [
    dict(frequency="daily", at=time(9, 0)),
    dict(frequency="daily", interval=7, at=time(9, 0)),
    dict(frequency="weekly", interval=3, weekdays=["TU", "SA"], at=time(9, 0)),
    dict(frequency="monthly", month_day=31, at=time(9, 0)),
    dict(frequency="hourly", interval=1),
])
def test_next_slot_of_an_old_schedule_does_not_walk_from_the_start(monkeypatch, rec):
    calls = []
    real = occ_module._wall
    monkeypatch.setattr(occ_module, "_wall", lambda *a: calls.append(a) or real(*a))
    s = sched("Europe/Paris", start=datetime(2001, 1, 1), **rec)
    got = next_occurrences(s, activated_at=EPOCH, after=utc(2090, 6, 15, 12), count=3)
    assert len(got) == 3 and got[0] > utc(2090, 6, 15, 12)
    assert len(calls) <= 12  # a few slots around `after`, not 90 years of them


# --- misfires ------------------------------------------------------------------------------


DAILY_9 = sched("UTC", start=datetime(2024, 1, 1), frequency="daily", at=time(9, 0))


def test_due_on_time_and_when_nothing_is_due():
    assert due(DAILY_9, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 2, 9, 0, 2)) == Due(utc(2024, 1, 2, 9), [])
    assert due(DAILY_9, activated_at=EPOCH, last_fired=utc(2024, 1, 2, 9), now=utc(2024, 1, 2, 20)) == Due(None, [])
    assert due(DAILY_9, activated_at=EPOCH, last_fired=None, now=utc(2023, 12, 31)) == Due(None, [])


def test_due_after_downtime_runs_the_latest_once_and_reports_the_others_missed():
    d = due(DAILY_9, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 5, 15))
    assert d.fire == utc(2024, 1, 5, 9)
    assert d.missed == [utc(2024, 1, 2, 9), utc(2024, 1, 3, 9), utc(2024, 1, 4, 9)]
    # never fired yet: counts from the first slot
    d = due(DAILY_9, activated_at=EPOCH, last_fired=None, now=utc(2024, 1, 2, 10))
    assert d == Due(utc(2024, 1, 2, 9), [utc(2024, 1, 1, 9)])


def test_due_respects_the_end_date():
    s = sched("UTC", start=datetime(2024, 1, 1), end=datetime(2024, 1, 3, 9), frequency="daily", at=time(9, 0))
    # just past the end (inside grace): the final slot still runs, nothing after the end
    assert due(s, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 3, 9, 30)) == Due(utc(2024, 1, 3, 9), [utc(2024, 1, 2, 9)])
    # back long after the end: the campaign is over, every slot is missed
    d = due(s, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 9))
    assert d == Due(None, [utc(2024, 1, 2, 9), utc(2024, 1, 3, 9)])
    assert due(s, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 9), grace=timedelta(days=7)).fire == utc(2024, 1, 3, 9)


def test_due_one_shot_runs_once_even_when_late():
    s = Schedule(time_zone="UTC", start=datetime(2024, 1, 1, 9))
    assert due(s, activated_at=EPOCH, last_fired=None, now=utc(2024, 1, 1, 8)) == Due(None, [])
    assert due(s, activated_at=EPOCH, last_fired=None, now=utc(2024, 1, 1, 15)) == Due(utc(2024, 1, 1, 9), [])
    assert due(s, activated_at=EPOCH, last_fired=utc(2024, 1, 1, 9), now=utc(2024, 1, 2)) == Due(None, [])


# --- completion -----------------------------------------------------------------------------


def test_completion_time():
    act = utc(2024, 5, 1, 12)
    assert completion_time(Schedule(), activated_at=act) == act + timedelta(days=3)
    later = Schedule(time_zone="UTC", start=datetime(2024, 6, 1, 9))
    assert completion_time(later, activated_at=act) == utc(2024, 6, 4, 9)  # 3 days after it sends
    ended = sched("Europe/Paris", start=datetime(2024, 5, 2), end=datetime(2024, 6, 1, 9), frequency="daily")
    assert completion_time(ended, activated_at=act) == utc(2024, 6, 1, 7)
    assert completion_time(sched("UTC", frequency="weekly", weekdays=["MO"]), activated_at=act) is None


# --- properties over every zone -------------------------------------------------------------

ZONES = sorted(available_timezones())
# Zones that still change their clocks, drawn half the time so the gap and fold paths get hit.
DST_ZONES = [n for n in ZONES if utc(2024, 1, 1).astimezone(ZoneInfo(n)).utcoffset() != utc(2024, 7, 1).astimezone(ZoneInfo(n)).utcoffset()]
ANY_ZONE = st.one_of(st.sampled_from(ZONES), st.sampled_from(DST_ZONES))
# Times near which DST changes happen, so the gap and fold paths are hit often, plus any time.
AT = st.one_of(
    st.sampled_from([time(0, 0), time(0, 30), time(1, 0), time(1, 30), time(2, 0), time(2, 15), time(2, 30),
                     time(3, 0), time(3, 30), time(22, 30), time(23, 0), time(23, 30), time(23, 59)]),
    st.times().map(lambda t: t.replace(microsecond=0)),
)
PROPS = settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _oracle(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The expected instant, found from zoneinfo's UTC->local side only: the first instant showing
    `day at` on the clock, or, when none does, the one showing it plus the size of the gap."""
    wall = datetime.combine(day, at)
    naive_utc = wall.replace(tzinfo=UTC)
    offsets = {(naive_utc + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-16, 16)}
    candidates = sorted(naive_utc - o for o in offsets)
    shown = {u: u.astimezone(zone).replace(tzinfo=None) for u in candidates}
    exact = [u for u in candidates if shown[u] == wall]
    if exact:
        return exact[0]
    return min(u for u in candidates if shown[u] > wall)


def _scheduled_days(rec: dict, first: date, last: date):
    """Naive enumeration of grid days, independent of the module's period arithmetic."""
    n = rec.get("interval", 1)
    if rec["frequency"] == "daily":
        d = first
        while d <= last:
            yield d
            d += timedelta(days=n)
    elif rec["frequency"] == "weekly":
        monday = first - timedelta(days=first.weekday())
        wanted = {["MO", "TU", "WE", "TH", "FR", "SA", "SU"].index(w) for w in rec["weekdays"]}
        d = monday
        while d <= last:
            if d.weekday() in wanted and ((d - monday).days // 7) % n == 0:
                yield d
            d += timedelta(days=1)
    else:
        y, m = first.year, first.month
        while date(y, m, 1) <= last:
            yield date(y, m, min(rec["month_day"], calendar.monthrange(y, m)[1]))
            m += n
            y, m = y + (m - 1) // 12, (m - 1) % 12 + 1


RECURRENCES = st.one_of(
    st.builds(lambda n: {"frequency": "daily", "interval": n}, st.sampled_from([1, 1, 1, 2, 3, 7])),
    st.builds(lambda n, w: {"frequency": "weekly", "interval": n, "weekdays": sorted(w)},
              st.integers(1, 3), st.sets(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1)),
    st.builds(lambda n, d: {"frequency": "monthly", "interval": n, "month_day": d}, st.integers(1, 2), st.integers(1, 31)),
)


def _check_calendar(s: Schedule, rec: dict, cut: float) -> None:
    z, at = s.zone, s.recurrence.at
    got = list(occurrences(s, activated_at=EPOCH))
    start_utc, end_utc = s.start.astimezone(UTC), s.end.astimezone(UTC)

    # 1. exactly the oracle's instants, one per scheduled day, merged where days coincide
    expected = sorted({t for d in _scheduled_days(rec, s.start.astimezone(z).date(), s.end.astimezone(z).date())
                       if start_utc <= (t := _oracle(d, at, z)) <= end_utc})
    assert got == expected

    # 2. strictly increasing (so no duplicates), aware UTC, inside [start, end]
    assert all(a < b for a, b in zip(got, got[1:]))
    assert all(t.tzinfo is UTC and start_utc <= t <= end_utc for t in got)

    # 3. the local clock shows `at` (first instance in a fold), or `at` plus the gap when `at`
    #    does not exist that day; only such a shifted send may share a local date with another
    for t in got:
        shown = t.astimezone(z)
        if shown.time() == at:
            assert shown.fold == 0
            event("fold" if shown.replace(fold=1).utcoffset() != shown.utcoffset() else "plain")
        else:
            event("gap")
            wanted = datetime.combine(shown.date() - timedelta(days=shown.time() < at), at)
            gap = shown.replace(tzinfo=None) - wanted
            assert timedelta(0) < gap <= timedelta(days=1)
            assert (t - gap).astimezone(z).utcoffset() + gap == shown.utcoffset()  # exactly the DST jump
    if rec["frequency"] == "daily":
        by_date: dict[date, list[datetime]] = {}
        for t in got:
            by_date.setdefault(t.astimezone(z).date(), []).append(t)
        for same_day in by_date.values():
            assert sum(t.astimezone(z).time() == at for t in same_day) <= 1

    # 4. resuming after any instant gives the same tail, found without walking from the start
    if got:
        after = got[0] + (got[-1] - got[0]) * cut
        assert list(occurrences(s, activated_at=EPOCH, after=after)) == [t for t in got if t > after]


@PROPS
@given(zone=ANY_ZONE, start=st.datetimes(datetime(2001, 1, 1), datetime(2035, 12, 31)), at=AT,
       rec=RECURRENCES, cut=st.floats(0, 1))
def test_calendar_recurrences_match_the_wall_clock_rule_in_every_zone(zone, start, at, rec, cut):
    days = {"daily": 200, "weekly": 250, "monthly": 900}[rec["frequency"]]
    s = Schedule(time_zone=zone, start=start, end=start + timedelta(days=days), recurrence={**rec, "at": at})
    _check_calendar(s, rec, cut)


@PROPS
@given(zone=st.sampled_from(DST_ZONES), year=st.integers(2001, 2035), pick=st.integers(0, 3),
       frac=st.floats(-0.5, 1.5), rec=RECURRENCES, cut=st.floats(0, 1))
def test_calendar_recurrences_around_a_clock_change(zone, year, pick, frac, rec, cut):
    """Same checks, with `at` near one of the zone's changes that year: 0 <= frac < 1 is inside
    the gap or the repeated hour, the rest just around it."""
    changes = _transitions(ZoneInfo(zone), year)
    if not changes:
        return
    when, before, after = changes[pick % len(changes)]
    wall = ((when + before).replace(tzinfo=None) + (after - before) * frac).replace(microsecond=0)
    rec = {**rec, "weekdays": [["MO", "TU", "WE", "TH", "FR", "SA", "SU"][wall.weekday()]]} if rec["frequency"] == "weekly" else rec
    rec = {**rec, "month_day": wall.day} if rec["frequency"] == "monthly" else rec
    s = Schedule(time_zone=zone, start=wall.replace(hour=0, minute=0) - timedelta(days=9),
                 end=wall + timedelta(days=40), recurrence={**rec, "interval": 1, "at": wall.time()})
    _check_calendar(s, {**rec, "interval": 1}, cut)


@PROPS
@given(zone=ANY_ZONE, start=st.datetimes(datetime(2001, 1, 1), datetime(2035, 12, 31)),
       n=st.integers(1, 168), cut=st.floats(0, 1))
def test_hourly_spacing_is_exact_in_every_zone(zone, start, n, cut):
    s = Schedule(time_zone=zone, start=start, end=start + timedelta(days=60), recurrence={"frequency": "hourly", "interval": n})
    got = list(occurrences(s, activated_at=EPOCH))
    assert got[0] == s.start.astimezone(UTC)
    assert all(b - a == timedelta(hours=n) for a, b in zip(got, got[1:]))
    assert got[-1] <= s.end < got[-1] + timedelta(hours=n)
    after = got[0] + (got[-1] - got[0]) * cut
    assert list(occurrences(s, activated_at=EPOCH, after=after)) == [t for t in got if t > after]


@PROPS
@given(zone=ANY_ZONE, start=st.datetimes(datetime(2001, 1, 1), datetime(2035, 12, 31)), at=AT,
       down=st.integers(0, 20 * 24), last=st.integers(0, 10))
def test_due_coalesces_to_the_latest_slot(zone, start, at, down, last):
    s = Schedule(time_zone=zone, start=start, recurrence={"frequency": "daily", "at": at})
    slots = take(s, 40)
    last_fired = slots[last]
    now = last_fired + timedelta(hours=down)
    d = due(s, activated_at=EPOCH, last_fired=last_fired, now=now)
    window = [t for t in slots if last_fired < t <= now]
    assert d.missed + ([d.fire] if d.fire else []) == window
    assert d.fire == (window[-1] if window else None)


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of each change of the zone's offset in `year`."""
    found, t = [], utc(year, 1, 1)
    while t < utc(year + 1, 1, 1):
        before, after = t.astimezone(zone).utcoffset(), (t + timedelta(days=1)).astimezone(zone).utcoffset()
        if before != after:
            lo, hi = t, t + timedelta(days=1)
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(zone).utcoffset() == before else (lo, mid)
            found.append((hi.replace(microsecond=0), before, after))
        t += timedelta(days=1)
    return found


def test_every_zone_every_2024_transition_middle_of_gap_and_fold():
    """Deterministic sweep beside the sampled properties: each zone, each change, `at` in its middle."""
    checked = 0
    for name in ZONES:
        z = ZoneInfo(name)
        for when, before, after in _transitions(z, 2024):
            shift = after - before
            # the middle of the gap or of the repeated hour; its first instance is `middle` either way
            wall, middle = (when + before).replace(tzinfo=None) + shift / 2, when + shift / 2
            s = Schedule(time_zone=name, start=datetime.combine(wall.date() - timedelta(days=1), time(0)),
                         end=datetime.combine(wall.date() + timedelta(days=2), time(23, 59)),
                         recurrence={"frequency": "daily", "at": wall.time()})
            got = list(occurrences(s, activated_at=EPOCH))
            assert middle in got, (name, when, shift)
            assert len(got) == 4, (name, when, shift)  # one per day, the change day included
            shown = middle.astimezone(z)
            assert shown.replace(tzinfo=None) == (wall + shift if shift > timedelta(0) else wall) and shown.fold == 0
            checked += 1
    assert checked > 100  # the tz database has well over a hundred changes a year
