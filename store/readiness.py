"""Whether a draft is ready to go live, as far as the draft itself says: asked when approval is requested (an
approver should not review a draft that cannot be activated) and again at activation, where the engine adds the
checks against the profiles (the audience's size, the content rendered for a sample). Every problem at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .db.catalogue import Catalogue
from .engine.occurrences import first_fire
from .errors import CampaignsError, ValidationFailed
from .models import Campaign, CampaignType, Version
from .models.content import REQUIRED_CONTENT
from .templates import CompiledContent, compile_content
from .workflow_rules import workflow_problems

PAST_START_TOLERANCE = timedelta(minutes=1)

Problem = Callable[[str, str], None]


def draft_problems(catalogue: Catalogue, campaign: Campaign, version: Version,
                   now: datetime) -> tuple[list[dict[str, str]], CompiledContent | None]:
    """Field-level problems of ``version`` (empty when ready), and its compiled content when it compiles."""
    problems: list[dict[str, str]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    if campaign.type is CampaignType.orchestrated:  # its activities carry audiences, contents and configurations
        if version.workflow is None:
            problem("draft.workflow", "an orchestrated campaign needs a workflow before it can go live: "
                                      "add its activities and transitions (`campaigns edit`, or the console's canvas)")
        else:
            problems.extend(workflow_problems(version.workflow, campaign.category, catalogue, now=now))
        _check_schedule(version, now, problem)
        return problems, None
    if version.audience is None:
        if campaign.type is not CampaignType.api:
            problem("draft.audience", "choose an audience (see `campaigns audiences`)")
    elif catalogue.audiences.find(version.audience) is None:
        problem("draft.audience", f"audience {version.audience!r} does not exist (any more); choose another")
    if version.channel_configuration is None:
        problem("draft.channel_configuration", f"choose a {campaign.category.value} {version.channel.value} channel configuration")
    else:
        config = catalogue.channel_configurations.find(version.channel_configuration)
        if config is None:
            problem("draft.channel_configuration", f"channel configuration {version.channel_configuration!r} does not exist (any more)")
        elif (config.channel, config.category) != (version.channel, campaign.category):
            problem("draft.channel_configuration", f"{config.id!r} serves {config.category.value} {config.channel.value}, "
                                                   f"not {campaign.category.value} {version.channel.value}")
    compiled = None
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
    _check_schedule(version, now, problem)
    return problems, compiled


def _check_schedule(version: Version, now: datetime, problem: Problem) -> None:
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
