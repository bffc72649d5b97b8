"""Orchestrated campaigns: a workflow is a directed acyclic graph of activities joined by named transitions.

The JSON a person writes (``version.workflow``)::

    {"activities": [{"id": "everyone", "kind": "build_audience", "rule": {"kind": "all"}},
                    {"id": "vip-split", "kind": "split", "segments": [{"transition": "vip", "rule": {...}}],
                     "remainder": "others"},
                    {"id": "mail", "kind": "email", "content": {"subject": "...", "body": "..."},
                     "channel_configuration": "marketing-email"}, ...],
     "transitions": [{"from": "everyone", "to": "vip-split", "name": "all"}, ...]}

What each kind does to the profiles crossing it:
- build_audience (a rule over profiles) and read_audience (a saved audience) start a branch: no input.
- combine takes two inputs or more: union, intersection, or exclusion (the ``primary`` input's profiles that no
  other input has).
- deduplication keeps one profile (the lowest id) per value of ``attr``; profiles without a value all stay.
- enrichment adds attributes the channel activities' templates can read: from an audience (``attr`` is set to
  true or false by membership) or from a CSV whose first column is ``id`` (each other column, a dotted attribute).
- split sends each profile to its first matching segment (a rule, or a percentage of a deterministic bucket
  seeded by the campaign and the profile id), else to ``remainder`` (when no remainder transition is named, those
  profiles end at the split: counted as ``unrouted``).
- wait holds the profiles for a ``duration`` ("30m", "2h", "3d", "1d12h") or ``until`` a date-time.
- fork copies its population to every outbound transition; and_join waits for its two inputs or more and passes
  on their union.
- save_audience writes its population to a profile list (replacing the list's members).
- email, sms, push deliver through the same path as an action campaign (exclusions, rate control, the journal),
  each with its own content, channel configuration and rate.
- end closes the branches that reach it (one or several).
Every activity but split, end and the channel ones passes its whole population to each outbound transition;
the channel activities pass on the profiles they targeted.

Structure and references are checked by ``store.workflow_rules`` at save, with every problem named by activity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from ..limits import CONTENT_FIELD_BYTES, NAME_CHARS, in_words
from ..text import single_line
from .audience import ATTRIBUTE_PATH, AUDIENCE_ID, PROFILE_FIELDS, Rule
from .content import Content, EmailContent, PushContent, RateControl, SmsContent
from .channel import SLUG
from .common import Channel, Model
from .profile import LIST_NAME
from .run import RunCounters

MAX_ACTIVITIES = 200
MAX_TRANSITIONS = 2 * MAX_ACTIVITIES
MAX_SEGMENTS = 20
ACTIVITY_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ACTIVITY_ID_CHARS = 40
TRANSITION_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
MAX_WAIT = timedelta(days=365)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


class ActivityKind(str, Enum):
    build_audience = "build_audience"
    read_audience = "read_audience"
    combine = "combine"
    deduplication = "deduplication"
    enrichment = "enrichment"
    split = "split"  # type: ignore[assignment]  # the member, not str.split
    wait = "wait"
    fork = "fork"
    and_join = "and_join"
    save_audience = "save_audience"
    email = "email"
    sms = "sms"
    push = "push"
    end = "end"


KIND_LABELS = {
    ActivityKind.build_audience: "Build audience", ActivityKind.read_audience: "Read audience",
    ActivityKind.combine: "Combine", ActivityKind.deduplication: "Deduplication",
    ActivityKind.enrichment: "Enrichment", ActivityKind.split: "Split", ActivityKind.wait: "Wait",
    ActivityKind.fork: "Fork", ActivityKind.and_join: "And-join", ActivityKind.save_audience: "Save audience",
    ActivityKind.email: "Email", ActivityKind.sms: "SMS", ActivityKind.push: "Push", ActivityKind.end: "End",
}
"""Each kind as people read it (the canvas, `campaigns show`, the palette)."""

SOURCES = frozenset({ActivityKind.build_audience, ActivityKind.read_audience})
"""Kinds that start a branch: they take no input."""
MERGES = frozenset({ActivityKind.combine, ActivityKind.and_join})
"""Kinds that take two inputs or more; every other kind but the sources and end takes exactly one."""
CHANNELS = {ActivityKind.email: Channel.email, ActivityKind.sms: Channel.sms, ActivityKind.push: Channel.push}
"""The channel activities, and the channel each delivers on."""


def parse_duration(text: str) -> timedelta:
    """"30m", "2h", "3d", "1d12h": at least a minute, at most ``MAX_WAIT``."""
    match = _DURATION.match(text.strip()) if text.strip() else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write days, hours and minutes like \"3d\", \"2h\", \"1d12h\", \"30m\"")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if not timedelta(minutes=1) <= duration <= MAX_WAIT:
        raise ValueError(f"a wait lasts from 1 minute to {MAX_WAIT.days} days, not {text!r}")
    return duration


class _Activity(Model):
    id: str = Field(pattern=ACTIVITY_ID, max_length=ACTIVITY_ID_CHARS,
                    description="unique in the workflow: lowercase letters, digits and dashes")
    label: str = Field("", max_length=NAME_CHARS, description="what people read on the canvas (the kind if empty)")

    _label_text = field_validator("label")(single_line)


class BuildAudience(_Activity):
    kind: Literal["build_audience"] = "build_audience"
    rule: Rule


class ReadAudience(_Activity):
    kind: Literal["read_audience"] = "read_audience"
    audience: str = Field(pattern=AUDIENCE_ID, max_length=64)


class Combine(_Activity):
    kind: Literal["combine"] = "combine"
    operation: Literal["union", "intersection", "exclusion"]
    primary: str | None = Field(None, description="exclusion: the activity whose profiles are kept, less the others'")


class Deduplication(_Activity):
    kind: Literal["deduplication"] = "deduplication"
    attr: str = Field(max_length=200, description="profiles sharing a value of it keep only the lowest id")

    @field_validator("attr")
    @classmethod
    def _path(cls, attr: str) -> str:
        if attr not in PROFILE_FIELDS and not ATTRIBUTE_PATH.match(attr):
            raise ValueError(f"{attr!r} is not an attribute path (e.g. identities.email or person.name.lastName)")
        return attr


class Enrichment(_Activity):
    kind: Literal["enrichment"] = "enrichment"
    audience: str | None = Field(None, pattern=AUDIENCE_ID, max_length=64)
    attr: str | None = Field(None, max_length=200, description="with audience: set to true or false by membership")
    csv: str | None = Field(None, description="a CSV whose first column is id; each other column is an attribute")

    @model_validator(mode="after")
    def _one_source(self) -> "Enrichment":
        if (self.audience is None) == (self.csv is None):
            raise ValueError("give either audience (with attr) or csv")
        if self.audience is not None and (self.attr is None or not ATTRIBUTE_PATH.match(self.attr)):
            raise ValueError("attr: name the attribute that says whether a profile is in the audience, "
                             "e.g. \"isVip\"")
        if self.csv is not None and len(self.csv) * 4 > CONTENT_FIELD_BYTES and \
                len(self.csv.encode("utf-8", "surrogatepass")) > CONTENT_FIELD_BYTES:
            raise ValueError(f"csv: over the limit of {in_words(CONTENT_FIELD_BYTES)}; enrich from an audience instead")
        return self


class Segment(Model):
    transition: str = Field(pattern=TRANSITION_NAME, description="the outbound transition its profiles take")
    rule: Rule | None = None
    percent: int | None = Field(None, ge=1, le=100)

    @model_validator(mode="after")
    def _one_test(self) -> "Segment":
        if (self.rule is None) == (self.percent is None):
            raise ValueError(f"segment {self.transition!r}: give either a rule or a percent")
        return self


class Split(_Activity):
    kind: Literal["split"] = "split"
    segments: list[Segment] = Field(min_length=1, max_length=MAX_SEGMENTS)
    remainder: str | None = Field(None, pattern=TRANSITION_NAME,
                                  description="the transition the profiles no segment took go on by")

    @model_validator(mode="after")
    def _percentages(self) -> "Split":
        total = sum(s.percent or 0 for s in self.segments)
        if total > 100:
            raise ValueError(f"the segments' percentages add up to {total}, over 100")
        return self

    @property
    def outlets(self) -> list[str]:
        """The transition names its profiles can take, segments first."""
        return [s.transition for s in self.segments] + ([self.remainder] if self.remainder else [])


class Wait(_Activity):
    kind: Literal["wait"] = "wait"
    duration: str | None = Field(None, max_length=20)
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_end(self) -> "Wait":
        if (self.duration is None) == (self.until is None):
            raise ValueError("give either duration (\"3d\", \"2h\", \"30m\") or until (a date-time with its offset)")
        if self.duration is not None:
            parse_duration(self.duration)
        return self

    def ends_at(self, started: datetime) -> datetime:
        """When profiles that reached it at ``started`` go on."""
        return started + parse_duration(self.duration) if self.duration is not None else self.until  # type: ignore[return-value]


class Fork(_Activity):
    kind: Literal["fork"] = "fork"


class AndJoin(_Activity):
    kind: Literal["and_join"] = "and_join"


class SaveAudience(_Activity):
    kind: Literal["save_audience"] = "save_audience"
    list: str = Field(pattern=LIST_NAME.pattern, description="the profile list it replaces; audiences use it with in_list")


class _Delivery(_Activity):
    channel_configuration: str | None = Field(None, pattern=SLUG)
    rate_control: RateControl | None = None

    @property
    def channel(self) -> Channel:
        return CHANNELS[ActivityKind(self.kind)]  # type: ignore[attr-defined]

    def message_content(self) -> Content:
        """Its content as a version's (``Content``), which templates compile and the runner renders."""
        return Content.model_validate({self.channel.value: self.content.model_dump()})  # type: ignore[attr-defined]


class EmailActivity(_Delivery):
    kind: Literal["email"] = "email"
    content: EmailContent = Field(default_factory=EmailContent)


class SmsActivity(_Delivery):
    kind: Literal["sms"] = "sms"
    content: SmsContent = Field(default_factory=SmsContent)


class PushActivity(_Delivery):
    kind: Literal["push"] = "push"
    content: PushContent = Field(default_factory=PushContent)


class End(_Activity):
    kind: Literal["end"] = "end"


Activity = Annotated[
    Union[BuildAudience, ReadAudience, Combine, Deduplication, Enrichment, Split, Wait, Fork, AndJoin, SaveAudience,
          EmailActivity, SmsActivity, PushActivity, End],
    Field(discriminator="kind"),
]
ChannelActivity = Union[EmailActivity, SmsActivity, PushActivity]


class Transition(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    source: str = Field(alias="from", serialization_alias="from", max_length=ACTIVITY_ID_CHARS)
    to: str = Field(max_length=ACTIVITY_ID_CHARS)
    name: str = Field(pattern=TRANSITION_NAME, description="unique in the workflow; a split's segments name theirs")


class Workflow(Model):
    activities: list[Activity] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)

    @field_validator("activities", mode="wrap")
    @classmethod
    def _named_by_activity(cls, value: Any, handler) -> list:
        """At most ``MAX_ACTIVITIES`` (said before any is read), and each problem named by its activity's id
        rather than its place in the list."""
        if isinstance(value, list) and len(value) > MAX_ACTIVITIES:
            raise ValueError(f"a workflow has at most {MAX_ACTIVITIES} activities; this one has {len(value):,}: "
                             "split it into several campaigns")
        try:
            return handler(value)
        except ValidationError as error:
            raise ValidationError.from_exception_data(error.title, [
                _renamed(e, value) for e in error.errors()]) from None

    @field_validator("transitions", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_TRANSITIONS:
            raise ValueError(f"a workflow has at most {MAX_TRANSITIONS} transitions; this one has {len(value):,}")
        return value

    def activity(self, activity_id: str) -> Activity:
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise KeyError(activity_id)

    def inbound(self, activity_id: str) -> list[Transition]:
        return [t for t in self.transitions if t.to == activity_id]

    def outbound(self, activity_id: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == activity_id]

    def order(self) -> list[Activity]:
        """The activities in dependency order (each after every activity it takes input from); ties keep the
        order they are written in. Raises ValueError naming the activities on a cycle."""
        ids = {a.id for a in self.activities}
        waiting = {a.id: 0 for a in self.activities}
        after: dict[str, list[str]] = defaultdict(list)
        for t in self.transitions:
            if t.source in ids and t.to in ids:
                waiting[t.to] += 1
                after[t.source].append(t.to)
        ready = [a.id for a in self.activities if waiting[a.id] == 0]
        done: list[str] = []
        while ready:
            current = ready.pop(0)
            done.append(current)
            for nxt in after[current]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    ready.append(nxt)
        if len(done) < len(self.activities):
            stuck = [a.id for a in self.activities if a.id not in set(done)]
            raise ValueError(f"the transitions make a cycle through {', '.join(stuck)}")
        by_id = {a.id: a for a in self.activities}
        return [by_id[i] for i in done]

    def channels(self) -> list[Channel]:
        """The channels its activities deliver on, in workflow order, each once."""
        return list(dict.fromkeys(CHANNELS[ActivityKind(a.kind)] for a in self.activities
                                  if ActivityKind(a.kind) in CHANNELS))


def _renamed(error: Any, value: Any) -> InitErrorDetails:
    """A validation error of ``activities[N]`` located at ``activities.<its id>`` when it has one."""
    loc = list(error["loc"])
    if loc and isinstance(loc[0], int) and isinstance(value, list) and 0 <= loc[0] < len(value):
        item = value[loc[0]]
        if isinstance(item, dict) and isinstance(item.get("id"), str) and len(item["id"]) <= ACTIVITY_ID_CHARS:
            loc[0] = item["id"]
    if len(loc) > 1 and isinstance(loc[1], str) and loc[1] in {k.value for k in ActivityKind}:
        del loc[1]  # the union's tag: the kind is said by the activity itself
    details: dict[str, Any] = {"type": error["type"], "loc": tuple(loc), "input": error.get("input")}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    if error["type"] == "union_tag_invalid":
        kinds = ", ".join(k.value for k in ActivityKind)
        details.update(type="value_error", loc=(*tuple(loc), "kind"), ctx={"error": ValueError(
            f"unknown activity kind {error['ctx'].get('tag')!r}; the kinds are {kinds}")})
    return details  # type: ignore[return-value]


# What a test or a run counted --------------------------------------------------------------------------------


class ActivityState(str, Enum):
    pending = "pending"
    waiting = "waiting"  # a wait activity holding its profiles until ``wait_until``
    running = "running"  # a channel activity sending
    done = "done"
    stopped = "stopped"
    failed = "failed"
    skipped = "skipped"  # test mode: a channel or save activity, counted but not executed


class TransitionCount(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    source: str = Field(alias="from", serialization_alias="from")
    to: str
    name: str
    count: int | None = Field(None, description="profiles that crossed it; None until its activity ran")
    sample: list[str] = Field(default_factory=list, description="a few of those profiles' ids, for a preview")


class ActivityCount(Model):
    id: str
    kind: ActivityKind
    state: ActivityState = ActivityState.pending
    inbound: int | None = Field(None, description="profiles that reached it")
    unrouted: int = Field(0, description="a split's profiles no segment took and no remainder transition carries")
    wait_until: datetime | None = None
    run_id: str | None = Field(None, description="a channel activity's delivery run")
    counters: RunCounters | None = Field(None, description="a channel activity's sent, failed and excluded")
    rendered: dict[str, str] | None = Field(None, description="test mode: a channel activity rendered for a sample profile")
    sample_profile: str | None = Field(None, description="test mode: the profile ``rendered`` was rendered for")
    error: str | None = None


class WorkflowCounts(Model):
    """Per-activity and per-transition counts of a test (``run_id`` None) or of a run."""

    campaign_id: str
    version: int
    run_id: str | None = None
    test: bool = False
    computed_at: datetime
    activities: list[ActivityCount]
    transitions: list[TransitionCount]
