"""console/display.py: the one map a new status or approval state is shown from, by the list, detail and CLI alike."""

from __future__ import annotations

from datetime import datetime, timezone

from console.display import APPROVAL_WORDS, STATUS_TONES, approval_step, short_when, status_label, when
from store.models import ApprovalState, Status


def test_every_status_and_approval_state_has_its_words():
    assert set(STATUS_TONES) == set(Status)
    assert set(APPROVAL_WORDS) == set(ApprovalState)
    for state in ApprovalState:
        assert status_label(Status.live, True, state).startswith("Live ✎ open draft ")
        assert status_label(Status.live, True, state, compact=True).startswith("Live ✎draft·")


def test_status_words_read_without_colour():
    assert status_label(Status.scheduled, False) == "Scheduled"
    assert status_label(Status.live, True, ApprovalState.changes_requested) == "Live ✎ open draft ⚠ changes requested"
    assert status_label(Status.in_review, False, ApprovalState.requested) == "In review"  # said once, not twice
    assert APPROVAL_WORDS[ApprovalState.requested] == "in review"
    assert approval_step(ApprovalState.changes_requested) == "changes requested"


def test_times_are_local_and_read_from_text_or_datetime():
    moment = datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)
    assert when(moment) == when(moment.isoformat()) == moment.astimezone().strftime("%a %d %b %Y %H:%M %Z")
    assert when(None) == short_when(None) == "—"
    this_year = datetime.now(timezone.utc).replace(month=1, day=2, hour=12)
    assert short_when(this_year) == this_year.astimezone().strftime("%d %b %H:%M")
    assert short_when(moment.replace(year=2001)) == moment.replace(year=2001).astimezone().strftime("%d %b %Y %H:%M")
