"""Whether a workflow can be saved, and whether it can go live: every problem at once, each named by activity.

At save a workflow must be a well-formed graph whose rules and templates compile, and whose references (audiences,
channel configurations) exist when named; before approval and activation every channel activity must also name a
channel configuration that serves its channel and the campaign's category.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime

from .db.catalogue import Catalogue
from .errors import ValidationFailed
from .models.audience import ATTRIBUTE_PATH
from .models.common import Category
from .models.content import REQUIRED_CONTENT
from .models.workflow import (
    CHANNELS, MERGES, SOURCES, ActivityKind, ChannelActivity, Combine, Enrichment, Split, Wait, Workflow,
)
from .profiles.audience_sql import compile_rule
from .templates import compile_content

ENRICHMENT_COLUMNS = 50


def workflow_problems(workflow: Workflow, category: Category, catalogue: Catalogue | None = None, *,
                      now: datetime | None = None, prefix: str = "draft.workflow") -> list[dict[str, str]]:
    """Field-level problems (``draft.workflow.activities.<id>…``). ``now`` asks the activation checks too:
    a channel configuration on every channel activity, a wait's date still ahead, at least one activity."""
    problems: list[dict[str, str]] = []

    def problem(where: str, message: str) -> None:
        problems.append({"field": f"{prefix}.{where}", "message": message})

    if now is not None and not workflow.activities:
        problem("activities", "add activities: a workflow starts with Build audience or Read audience")
    ids = Counter(a.id for a in workflow.activities)
    for activity_id, count in ids.items():
        if count > 1:
            problem(f"activities.{activity_id}", f"{count} activities share the id {activity_id!r}; give each its own")
    names = Counter(t.name for t in workflow.transitions)
    for t in workflow.transitions:
        where = f"transitions.{t.name}"
        if names[t.name] > 1:
            problem(where, f"{names[t.name]} transitions share the name {t.name!r}; give each its own")
            names[t.name] = 1  # said once
        for end, activity_id in (("from", t.source), ("to", t.to)):
            if activity_id not in ids:
                problem(f"{where}.{end}", f"no activity {activity_id!r}: connect an activity of the workflow")
        if t.source == t.to:
            problem(where, f"connects {t.source!r} to itself")
    try:
        workflow.order()
    except ValueError as error:
        problem("transitions", str(error) + "; a workflow flows one way")
    for activity in workflow.activities:
        _activity_problems(workflow, activity, category, catalogue, now, problem)
    return problems


def _activity_problems(workflow: Workflow, activity, category: Category, catalogue: Catalogue | None,
                       now: datetime | None, problem) -> None:
    kind, where = ActivityKind(activity.kind), f"activities.{activity.id}"
    inputs = [t.source for t in workflow.inbound(activity.id)]
    outputs = workflow.outbound(activity.id)
    if kind in SOURCES and inputs:
        problem(where, f"{kind.value} starts a branch and takes no input; remove the transition from {inputs[0]!r}")
    elif kind in MERGES and len(inputs) < 2:
        problem(where, f"{kind.value} needs two inputs or more, it has {len(inputs)}; connect another branch to it")
    elif kind not in SOURCES | MERGES and not inputs:
        problem(where, "has no input: connect an activity to it")
    elif kind not in SOURCES | MERGES and kind is not ActivityKind.end and len(inputs) > 1:
        problem(where, f"takes one input, it has {len(inputs)}; bring them together with Combine or And-join first")
    if kind is ActivityKind.end and outputs:
        problem(where, "end closes a branch: remove its outbound transitions")
    if isinstance(activity, Split):
        outlets = activity.outlets
        for name, count in Counter(outlets).items():
            if count > 1:
                problem(where, f"two segments send to transition {name!r}; give each its own")
        for name in outlets:
            if not any(t.name == name for t in outputs):
                problem(where, f"segment transition {name!r} does not leave the split; add a transition named "
                               f"{name!r} from {activity.id!r}")
        for t in outputs:
            if t.name not in outlets:
                problem(where, f"transition {t.name!r} leaves the split but no segment (nor the remainder) names it")
        for segment in activity.segments:
            if segment.rule is not None:
                _rule_problem(segment.rule, f"{where}.segments.{segment.transition}.rule", problem)
    if kind is ActivityKind.build_audience:
        _rule_problem(activity.rule, f"{where}.rule", problem)
    if isinstance(activity, Combine) and activity.operation == "exclusion":
        if activity.primary is None:
            problem(f"{where}.primary", "an exclusion keeps the profiles of one input less the others': name it")
        elif activity.primary not in inputs:
            problem(f"{where}.primary", f"{activity.primary!r} is not an input of {activity.id!r}; "
                                        f"choose one of {', '.join(inputs) or 'its inputs'}")
    if isinstance(activity, Enrichment) and activity.csv is not None:
        _csv_problem(activity.csv, f"{where}.csv", problem)
    audience = getattr(activity, "audience", None) if kind in (ActivityKind.read_audience, ActivityKind.enrichment) else None
    if audience is not None and catalogue is not None and catalogue.audiences.find(audience) is None:
        problem(f"{where}.audience", f"no audience {audience!r}; create it first or pick one from `campaigns audiences`")
    if isinstance(activity, Wait) and now is not None and activity.until is not None and activity.until <= now:
        problem(f"{where}.until", f"{activity.until.isoformat()} is in the past; pick a later date-time or a duration")
    if kind in CHANNELS:
        _delivery_problems(activity, category, catalogue, now, where, problem)


def _delivery_problems(activity: ChannelActivity, category: Category, catalogue: Catalogue | None,
                       now: datetime | None, where: str, problem) -> None:
    channel = activity.channel
    for name in REQUIRED_CONTENT[channel]:
        if not getattr(activity.content, name).strip():
            problem(f"{where}.content.{name}", f"write the {channel.value} {name}: it must not be empty")
    try:
        compile_content(activity.message_content(), channel,
                        f"draft.workflow.{where}.content")
    except ValidationFailed as error:
        for e in error.errors or [{"field": f"draft.workflow.{where}.content", "message": error.detail}]:
            problem(e["field"].removeprefix("draft.workflow.").replace(f".content.{channel.value}.", ".content."),
                    e["message"])
    config_id = activity.channel_configuration
    if config_id is None:
        if now is not None:
            problem(f"{where}.channel_configuration", f"choose a {category.value} {channel.value} channel configuration")
        return
    config = catalogue.channel_configurations.find(config_id) if catalogue is not None else None
    if catalogue is not None and config is None:
        problem(f"{where}.channel_configuration", f"no channel configuration {config_id!r}; an admin must create it first")
    elif config is not None and (config.channel, config.category) != (channel, category):
        problem(f"{where}.channel_configuration", f"{config_id!r} serves {config.category.value} {config.channel.value}, "
                                                  f"not {category.value} {channel.value}")


def _rule_problem(rule, where: str, problem) -> None:
    try:
        compile_rule(rule)
    except ValidationFailed as error:
        problem(where, error.detail)


def _csv_problem(text: str, where: str, problem) -> None:
    """The CSV's header: ``id`` first, then at most ``ENRICHMENT_COLUMNS`` attribute paths."""
    header = next(csv.reader(io.StringIO(text)), None)
    if not header or header[0].strip() != "id":
        problem(where, "the first column must be id (the profile id), then the attributes to add")
        return
    if len(header) < 2 or len(header) > ENRICHMENT_COLUMNS + 1:
        problem(where, f"add 1 to {ENRICHMENT_COLUMNS} attribute columns after id")
    bad = [c for c in header[1:] if not ATTRIBUTE_PATH.match(c.strip())]
    if bad:
        problem(where, f"{bad[0]!r} is not an attribute path (e.g. offer.code)")


def check_workflow(workflow: Workflow, category: Category, catalogue: Catalogue | None = None) -> None:
    """Refuse, at save, a workflow that is not well formed (ValidationFailed listing every problem)."""
    problems = workflow_problems(workflow, category, catalogue)
    if problems:
        raise ValidationFailed.of(problems, f"the workflow has {len(problems)} problem{'s' if len(problems) > 1 else ''}: ")
