"""What must hold before a version goes live; every problem is reported at once."""

from __future__ import annotations

import json
from datetime import datetime

from ..errors import ValidationFailed
from ..models import Campaign, Version
from ..readiness import draft_problems
from ..templates import RenderError, profile_view
from ..workspace import Workspace

SAMPLE_PROFILES = 20


def activation_problems(ws: Workspace, campaign: Campaign, version: Version, now: datetime) -> list[dict[str, str]]:
    """Field-level problems of ``version`` (empty when it can be activated): the draft's own (those approval
    requests are refused with too), then against the profiles (its audience matches someone, its content renders)."""
    problems, compiled = draft_problems(ws.catalogue, campaign, version, now)

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    audience = ws.catalogue.audiences.find(version.audience) if version.audience else None
    if audience is not None and ws.profiles.count_audience(audience.rule) == 0:
        problem("draft.audience", f"audience {version.audience!r} is empty: no profile matches its rule")
    elif audience is not None and compiled is not None and not problems:
        _check_sample(ws, audience.rule, compiled, problem)
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
