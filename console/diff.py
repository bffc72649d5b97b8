"""What changes between the live version and the draft beside it, field by field (no Textual here).

``compare_versions`` gives one ``FieldDiff`` per field an approver reads: the version's audience,
channel, channel configuration, schedule, rate control and approval state, then each content field
of the channel(s) involved. Content fields carry a line diff (``difflib``) with the changed words of
a rewritten line marked, so a one-word edit in a long body stands out. Campaign-level fields
(name, description, tags) are not versioned: ``campaign_fields`` lists them once, for both sides.
An orchestrated campaign's versions are compared activity by activity instead (``workflow_changes``): each
activity added, removed or changed, with its settings as a line diff, then the transitions.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Literal

from store.models import ApprovalState, Campaign, Channel, Version, Workflow
from store.models.workflow import KIND_LABELS, ActivityKind

from .display import approval_step

LineKind = Literal["same", "removed", "added"]
Scope = Literal["campaign", "version", "approval", "content"]

CONTENT_FIELDS: dict[Channel, tuple[str, ...]] = {
    Channel.email: ("subject", "preheader", "body"),
    Channel.sms: ("text",),
    Channel.push: ("title", "body"),
}
MARKS: dict[LineKind, str] = {"same": " ", "removed": "-", "added": "+"}
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
_WORD_DIFF_MIN_RATIO = 0.3  # below this, two lines are different lines, not one line edited


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    text: str
    # For a line rewritten in place: the line in pieces, each flagged when it is what changed.
    spans: tuple[tuple[str, bool], ...] = ()

    @property
    def mark(self) -> str:
        return MARKS[self.kind]


@dataclass(frozen=True)
class FieldDiff:
    name: str  # stable key: "audience", "schedule", "content.email.body", "campaign.name"...
    label: str  # what a person reads
    live: str | None  # None: there is no live version (or the field does not exist on that side)
    draft: str | None
    changed: bool
    scope: Scope = "version"
    lines: tuple[DiffLine, ...] = field(default=())  # content fields: the unified line diff, live → draft

    @property
    def multiline(self) -> bool:
        return bool(self.lines) and (len(self.lines) > 1 or "\n" in (self.live or "") + (self.draft or ""))

    def side_by_side(self) -> list[tuple[DiffLine | None, DiffLine | None]]:
        return side_by_side(self.lines)


# lines ---------------------------------------------------------------------------------------
def line_diff(old: str, new: str) -> list[DiffLine]:
    """The lines of ``old`` and ``new`` in order: same, removed (only in old), added (only in new).

    Where a block of lines is replaced by as many lines, each pair that is still alike gets word
    spans marking what changed inside it.
    """
    a, b = old.splitlines(), new.splitlines()
    out: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [DiffLine("same", line) for line in a[i1:i2]]
            continue
        removed, added = a[i1:i2], b[j1:j2]
        if tag == "replace" and len(removed) == len(added):
            pairs = [word_spans(x, y) for x, y in zip(removed, added)]
            out += [DiffLine("removed", x, p[0]) for x, p in zip(removed, pairs)]
            out += [DiffLine("added", y, p[1]) for y, p in zip(added, pairs)]
        else:
            out += [DiffLine("removed", line) for line in removed]
            out += [DiffLine("added", line) for line in added]
    return out


def word_spans(old: str, new: str) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
    """Both lines cut into (text, changed) pieces, by words; empty when the lines have little in common."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < _WORD_DIFF_MIN_RATIO:
        return (), ()
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _append(left, "".join(a[i1:i2]), tag != "equal")
        _append(right, "".join(b[j1:j2]), tag != "equal")
    return tuple(left), tuple(right)


def _append(spans: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if not text:
        return
    if spans and spans[-1][1] == changed:
        spans[-1] = (spans[-1][0] + text, changed)
    else:
        spans.append((text, changed))


def side_by_side(lines: tuple[DiffLine, ...] | list[DiffLine]) -> list[tuple[DiffLine | None, DiffLine | None]]:
    """Pair the unified lines into rows of (live, draft): removed lines face the lines added in their place."""
    rows: list[tuple[DiffLine | None, DiffLine | None]] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        rows.extend(zip_longest(removed, added))
        removed.clear()
        added.clear()

    for line in lines:
        if line.kind == "same":
            flush()
            rows.append((line, line))
        elif line.kind == "removed":
            if added:  # a new block starts
                flush()
            removed.append(line)
        else:
            added.append(line)
    flush()
    return rows


# fields --------------------------------------------------------------------------------------
def describe_rate(version: Version) -> str:
    rate = version.rate_control
    return "no limit" if rate is None else f"{rate.messages_per_second:,} messages per second"


def describe_approval(version: Version) -> str:
    approval = version.approval
    if approval is None:
        return "not requested"
    text = f"{approval_step(approval.state)} (policy {', '.join(approval.policies or [approval.policy])})"
    if approval.state is ApprovalState.requested and approval.approved_by:
        text += f", approved under {', '.join(approval.approved_by)}, waiting for {', '.join(approval.waiting)}"
    if approval.decided_by:
        text += f", by {approval.decided_by}"
    else:
        text += f", by {approval.requested_by}"
    if approval.message:
        text += f": {approval.message}"
    return text


def compare_versions(live: Version | None, draft: Version | None, *,
                     configurations: Mapping[str, str] | None = None,
                     audiences: Mapping[str, str] | None = None) -> list[FieldDiff]:
    """One entry per field of the two versions, in reading order.

    ``configurations`` and ``audiences`` optionally map an id to a longer description
    ("email-marketing" → "email-marketing: outbox, from news@shop.example"). A field only
    counts as changed when both versions exist and differ; the approval state is shown but
    never counts as a change (it always differs between a live version and a draft in review).
    """
    configurations, audiences = configurations or {}, audiences or {}
    both = live is not None and draft is not None
    workflows = [v.workflow for v in (live, draft) if v is not None and v.workflow is not None]

    def scalar(name: str, label: str, get, scope: Scope = "version") -> FieldDiff:
        left = None if live is None else get(live)
        right = None if draft is None else get(draft)
        return FieldDiff(name, label, left, right, both and scope != "approval" and left != right, scope)

    def named(ids: Mapping[str, str], value: str | None) -> str:
        return "—" if value is None else ids.get(value, value)

    if workflows:  # an orchestrated campaign: its activities carry audiences, configurations and contents
        return [scalar("schedule", "Schedule", lambda v: v.schedule.describe()),
                scalar("approval", "Approval", describe_approval, "approval"),
                *workflow_changes(None if live is None else live.workflow or Workflow(),
                                  None if draft is None else draft.workflow or Workflow())]
    out = [
        scalar("audience", "Audience", lambda v: named(audiences, v.audience)),
        scalar("channel", "Channel", lambda v: v.channel.value),
        scalar("channel_configuration", "Configuration", lambda v: named(configurations, v.channel_configuration)),
        scalar("schedule", "Schedule", lambda v: v.schedule.describe()),
        scalar("rate_control", "Rate control", describe_rate),
        scalar("approval", "Approval", describe_approval, "approval"),
    ]
    channels = list(dict.fromkeys(v.channel for v in (live, draft) if v is not None))
    for channel in channels:
        for name in CONTENT_FIELDS[channel]:
            left = None if live is None else _content(live, channel, name)
            right = None if draft is None else _content(draft, channel, name)
            label = name.capitalize() if len(channels) == 1 else f"{channel.value} {name}"
            if both:
                lines = tuple(line_diff(left or "", right or ""))
                changed = (left or "") != (right or "")
            else:
                shown = (right if right is not None else left) or ""
                lines = tuple(DiffLine("same", line) for line in shown.splitlines())
                changed = False
            out.append(FieldDiff(f"content.{channel.value}.{name}", label, left, right, changed, "content", lines))
    return out


def workflow_changes(live: Workflow | None, draft: Workflow | None) -> list[FieldDiff]:
    """One entry per activity (in the draft's order, then those the draft removed), its settings as JSON lines
    diffed, labelled added, removed or changed; then one for the transitions. With one side only, every
    activity is shown unchanged."""
    both = live is not None and draft is not None
    old = {a.id: a for a in (live.activities if live else [])}
    new = {a.id: a for a in (draft.activities if draft else [])}
    out = []
    for activity_id in [*new, *(i for i in old if i not in new)]:
        left, right = old.get(activity_id), new.get(activity_id)
        shown = right if right is not None else left
        assert shown is not None
        same = both and left == right  # an unchanged activity reads on one line; a changed one, setting by setting
        left_text = None if left is None else _settings(left, compact=same or not both)
        right_text = None if right is None else _settings(right, compact=same or not both)
        change = "" if not both or left_text == right_text else (
            " · added" if left is None else " · removed" if right is None else " · changed")
        label = f"{KIND_LABELS[ActivityKind(shown.kind)]} {activity_id}{change}"
        out.append(_lines_field(f"workflow.activities.{activity_id}", label, left_text, right_text, both))
    edges = [("\n".join(f"{t.source} → {t.to}  ({t.name})" for t in w.transitions) if w is not None else None)
             for w in (live, draft)]
    out.append(_lines_field("workflow.transitions", "Transitions", edges[0], edges[1], both))
    return out


def _settings(activity, *, compact: bool) -> str:
    """An activity's settings as a person reads them in a diff: indented JSON, one setting per line, or (for one
    that did not change) one line."""
    settings = {"kind": activity.kind, **activity.model_dump(mode="json", exclude={"id"}, exclude_defaults=True)}
    return json.dumps(settings, ensure_ascii=False, **({"separators": (", ", ": ")} if compact else {"indent": 2}))


def _lines_field(name: str, label: str, left: str | None, right: str | None, both: bool) -> FieldDiff:
    if both:
        lines = tuple(line_diff(left or "", right or ""))
        return FieldDiff(name, label, left, right, (left or "") != (right or "") or (left is None) != (right is None),
                         "content", lines)
    shown = (right if right is not None else left) or ""
    return FieldDiff(name, label, left, right, False, "content", tuple(DiffLine("same", x) for x in shown.splitlines()))


def _content(version: Version, channel: Channel, name: str) -> str | None:
    """The text of one content field; None when the version is on another channel."""
    if version.channel is not channel:
        return None
    content = version.content.for_channel(channel)
    return "" if content is None else getattr(content, name)


def campaign_fields(campaign: Campaign) -> list[FieldDiff]:
    """Name, description and tags: one value for the campaign, whichever version is live."""
    rows = (("name", "Name", campaign.name), ("description", "Description", campaign.description or "—"),
            ("tags", "Tags", ", ".join(campaign.tags) or "—"))
    return [FieldDiff(f"campaign.{name}", label, value, value, False, "campaign") for name, label, value in rows]


def changes(fields: list[FieldDiff]) -> list[FieldDiff]:
    return [f for f in fields if f.changed]
