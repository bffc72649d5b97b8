"""What must hold before a version goes live; every problem is reported at once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from ..errors import CampaignsError, ValidationFailed
from ..models import Campaign, CampaignType, Channel, Version
from ..workspace import Workspace
from .occurrences import first_fire
from ..templates import RenderError, compile_content, profile_view

SAMPLE_PROFILES = 20
PAST_START_TOLERANCE = timedelta(minutes=1)
REQUIRED_CONTENT = {Channel.email: ("subject", "body"), Channel.sms: ("text",), Channel.push: ("body",)}


def activation_problems(ws: Workspace, campaign: Campaign, version: Version, now: datetime) -> list[dict[str, str]]:
    """Field-level problems of ``version`` (empty when it can be activated)."""
    problems: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    audience = None
    if version.audience is None:
        if campaign.type is not CampaignType.api:
            problem("draft.audience", "choose an audience (see `campaigns audiences`)")
    else:
        audience = ws.catalogue.audiences.find(version.audience)
        if audience is None:
            problem("draft.audience", f"audience {version.audience!r} does not exist (any more); choose another")
        elif ws.profiles.count_audience(audience.rule) == 0:
            problem("draft.audience", f"audience {version.audience!r} is empty: no profile matches its rule")
    if version.channel_configuration is None:
        problem("draft.channel_configuration", f"choose a {campaign.category.value} {version.channel.value} channel configuration")
    else:
        config = ws.catalogue.channel_configurations.find(version.channel_configuration)
        if config is None:
            problem("draft.channel_configuration", f"channel configuration {version.channel_configuration!r} does not exist (any more)")
        elif (config.channel, config.category) != (version.channel, campaign.category):
            problem("draft.channel_configuration", f"{config.id!r} serves {config.category.value} {config.channel.value}, "
                                                   f"not {campaign.category.value} {version.channel.value}")
    content = version.content.for_channel(version.channel)
    if content is None:
        problem(f"draft.content.{version.channel.value}", f"write the {version.channel.value} content")
    else:
        for name in REQUIRED_CONTENT[version.channel]:
            if not getattr(content, name).strip():
                problem(f"draft.content.{version.channel.value}.{name}", "must not be empty")
        try:
            compiled = compile_content(version.content, version.channel)
        except ValidationFailed as error:
            problems.extend(error.errors or [{"field": "draft.content", "message": error.detail}])
        else:
            if audience is not None and not problems:
                _check_sample(ws, audience.rule, compiled, problem)
    _check_schedule(version, now, problem)
    return problems


def _check_sample(ws: Workspace, rule, compiled, problem) -> None:
    """Render for a sample: a template that fails for every sampled profile cannot be meant."""
    failures: list[str] = []
    sample = next(ws.profiles.iter_audience_rows(rule, chunk_size=SAMPLE_PROFILES), [])
    for row in sample:
        view = profile_view(row[0], json.loads(row[8]), {"email": row[1], "phone": row[2], "push_token": row[3]})
        try:
            compiled.render(view, {})
        except RenderError as error:
            failures.append(f"{row[0]}: {error}")
    if sample and len(failures) == len(sample):
        problem("draft.content", f"the content fails for all {len(sample)} sampled profiles, e.g. {failures[0]}; "
                                 "add a default (| default: \"...\") or fix the path")


def _check_schedule(version: Version, now: datetime, problem) -> None:
    schedule = version.schedule
    if schedule.end is not None and schedule.end <= now:
        problem("draft.schedule.end", f"end {schedule.end.isoformat()} is in the past")
    if schedule.recurrence is None and schedule.start is not None and schedule.start < now - PAST_START_TOLERANCE:
        problem("draft.schedule.start", f"start {schedule.start.isoformat()} is in the past; "
                                        "remove it to send on activation or pick a future time")
    try:
        first_fire(schedule, activated_at=now)
    except CampaignsError as error:
        problem("draft.schedule", error.detail)


def check_activation(ws: Workspace, campaign: Campaign, version: Version, now: datetime) -> None:
    problems = activation_problems(ws, campaign, version, now)
    if problems:
        raise ValidationFailed.of(problems, f"{campaign.id} cannot be activated: ")


def expected_exclusions(ws: Workspace, campaign: Campaign, version: Version, rule) -> dict[str, int]:
    """What the run would exclude now, counted in SQL with the runner's own order of checks."""
    channel = version.channel.value
    identity = {"email": "identities.email", "sms": "identities.phone", "push": "identities.push_token"}[channel]
    suppressed = {"kind": "attribute", "attr": "suppressed", "op": "eq", "value": True}
    has_address = {"kind": "attribute", "attr": identity, "op": "exists"}
    base = [rule, {"kind": "not", "rule": suppressed}]
    counts = {
        "suppressed": ws.profiles.count_audience({"kind": "and", "rules": [rule, suppressed]}),
        "no_address": ws.profiles.count_audience({"kind": "and", "rules": [*base, {"kind": "not", "rule": has_address}]}),
    }
    if campaign.category.value == "marketing":
        counts["no_consent"] = ws.profiles.count_audience({"kind": "and", "rules": [
            *base, has_address, {"kind": "not", "rule": {"kind": "consent", "channel": channel}}]})
    return counts
