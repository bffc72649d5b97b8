"""Invalid values are refused with field-level messages that say what to do."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from store.client import edit_from_file_document
from store.errors import ValidationFailed
from store.models import ChannelConfiguration, Schedule, field_errors


def errors_of(callable_, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationError) as e:
        callable_(*args, **kwargs)
    return {err["field"]: err["message"] for err in field_errors(e.value)}


def test_email_configuration_needs_a_sender():
    errors = errors_of(ChannelConfiguration, id="news", name="News", channel="email", category="marketing")
    assert errors == {"sender": "an email configuration needs a sender address, e.g. news@example.com"}


def test_sms_sender_must_be_a_number_or_short_id():
    errors = errors_of(ChannelConfiguration, id="s", name="S", channel="sms", category="marketing", sender="A very long sender")
    assert "neither an E.164 number" in errors["sender"]


def test_smtp_only_sends_email_and_webhook_needs_a_url():
    assert "smtp only sends email" in errors_of(ChannelConfiguration, id="s", name="S", channel="sms", category="marketing",
                                                sender="SHOP", provider="smtp")["provider"]
    assert "webhook.url" in errors_of(ChannelConfiguration, id="p", name="P", channel="push", category="marketing",
                                      sender="app", provider="webhook")["webhook"]


def test_rate_outside_limits_is_refused_on_its_field():
    for rate in (0, 2001):
        with pytest.raises(ValidationFailed) as e:
            edit_from_file_document({"name": "x", "type": "action", "category": "marketing",
                                     "draft": {"channel": "sms", "rate_control": {"messages_per_second": rate}}})
        assert e.value.errors == [{"field": "draft.rate_control.messages_per_second",
                                   "message": f"a rate must be between 1 and 2000 messages per second, not {rate}"}]


def test_end_before_start_is_refused_on_end():
    errors = errors_of(Schedule, time_zone="Europe/Paris", start="2026-12-10T09:00", end="2026-12-01T09:00",
                       recurrence={"frequency": "daily"})
    assert list(errors) == ["end"] and "is not after start" in errors["end"]


def test_end_without_recurrence_is_refused_but_for_an_api_campaign():
    with pytest.raises(ValidationFailed) as e:
        edit_from_file_document({"name": "Sale", "type": "action", "category": "marketing",
                                 "draft": {"channel": "email", "schedule": {"end": "2026-12-01T09:00"}}})
    assert e.value.errors[0]["field"] == "schedule.end"
    assert "only applies to a recurring campaign" in e.value.errors[0]["message"]
    api = edit_from_file_document({"name": "Reset", "type": "api", "category": "transactional",
                                   "draft": {"channel": "email", "schedule": {"end": "2026-12-01T09:00"}}})
    assert api.version.schedule.end is not None


def test_unknown_time_zone_names_the_field_and_suggests():
    errors = errors_of(Schedule, time_zone="Paris")
    assert "unknown time zone 'Paris'" in errors["time_zone"] and "Europe/Paris" in errors["time_zone"]


def test_recurrence_on_an_api_campaign_is_refused():
    with pytest.raises(ValidationFailed) as e:
        edit_from_file_document({"name": "Reset", "type": "api", "category": "transactional",
                                 "draft": {"channel": "email", "schedule": {"recurrence": {"frequency": "daily"}}}})
    assert e.value.errors[0]["field"] == "schedule.recurrence"
    assert "does not apply to api campaigns" in e.value.errors[0]["message"]


def test_weekly_needs_weekdays_and_monthly_needs_a_day():
    assert "at least one weekday" in errors_of(Schedule, recurrence={"frequency": "weekly"})["recurrence"]
    assert "month_day" in errors_of(Schedule, recurrence={"frequency": "monthly"})["recurrence"]


def test_unknown_fields_are_refused_not_dropped():
    with pytest.raises(ValidationFailed) as e:
        edit_from_file_document({"name": "x", "type": "action", "category": "marketing", "colour": "red",
                                 "draft": {"channel": "sms"}})
    assert e.value.errors[0]["field"] == "colour"


def test_naive_start_is_local_to_the_schedule_zone():
    s = Schedule(time_zone="America/New_York", start="2026-07-04T09:00")
    assert s.start.utcoffset().total_seconds() == -4 * 3600
    assert s.describe() == "once, 2026-07-04 09:00 (America/New_York)"
