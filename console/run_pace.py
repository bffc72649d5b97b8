"""How the CLI and the console say a run's pace: its rate, the time left, how long a run will take."""

from __future__ import annotations

from store.models import ActiveRun, Run


def duration_text(seconds: float) -> str:
    """``45s``, ``3m 05s``, ``2h 03m``: the two largest units, enough to plan by."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02}m"
    return f"{minutes}m {secs:02}s" if minutes else f"{secs}s"


def rate_text(rate: float) -> str:
    return f"{rate:,.0f} msg/s" if rate >= 10 else f"{rate:.1f} msg/s"


def pace_text(run: Run | ActiveRun) -> str:
    """``12 msg/s · 3m 05s left`` for a run in flight that has a rate yet, else empty."""
    if not run.rate:
        return ""
    left = f" · {duration_text(run.eta_seconds)} left" if run.eta_seconds is not None else ""
    return rate_text(run.rate) + left


def progress_line(run: Run | ActiveRun) -> str:
    """One line of a run in flight: handled of targeted, sent, failed, excluded, and the pace."""
    c = run.counters
    handled = c.sent + c.failed + c.excluded_total
    pace = pace_text(run)
    return (f"{handled:,}/{c.targeted:,} · sent {c.sent:,} · failed {c.failed:,} · excluded {c.excluded_total:,}"
            + (f" · {pace}" if pace else ""))
