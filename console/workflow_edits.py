"""What the canvas's keys do to a workflow, as pure functions over its JSON: add an activity after another,
delete one (reconnecting around it), connect two. Each keeps ids and transition names unique and, where it can,
the workflow valid, so that the draft saves; the server still checks everything at save."""

from __future__ import annotations

from typing import Any

from store.models.workflow import ACTIVITY_ID_CHARS, CHANNELS, SOURCES, ActivityKind

FIRST_NAME = "{{profile.person.name.firstName | default: \"there\"}}"
CONTENT = {
    ActivityKind.email: {"subject": f"Hello {FIRST_NAME}", "body": f"Hello {FIRST_NAME},\n\n…\n\nThe team"},
    ActivityKind.sms: {"text": f"Hello {FIRST_NAME}, …"},
    ActivityKind.push: {"title": "Hello", "body": f"Hello {FIRST_NAME}, …"},
}
SETTINGS: dict[ActivityKind, dict[str, Any]] = {
    ActivityKind.build_audience: {"rule": {"kind": "all"}},
    ActivityKind.combine: {"operation": "union"},
    ActivityKind.deduplication: {"attr": "identities.email"},
    ActivityKind.enrichment: {"csv": "id,offer.code\n"},
    ActivityKind.split: {"segments": [{"transition": "half", "percent": 50}]},
    ActivityKind.wait: {"duration": "1d"},
    ActivityKind.save_audience: {"list": "saved"},
}
"""Each kind's settings when added: what saves cleanly and is easy to change (Enter opens them)."""


def addable_kinds(workflow: dict, after: str | None) -> list[ActivityKind]:
    """After an activity, anything that takes an input (not after an end); and always a source, which starts a
    branch of its own (a second audience to combine, or the first one of an empty workflow)."""
    sources = [k for k in ActivityKind if k in SOURCES]
    if after is None or _activity(workflow, after)["kind"] == ActivityKind.end.value:
        return sources
    return [k for k in ActivityKind if k not in SOURCES] + sources


def unique(base: str, taken: set[str], limit: int = ACTIVITY_ID_CHARS) -> str:
    """``base``, else ``base-2``, ``base-3``… within ``limit`` characters."""
    base = base[:limit].rstrip("-")
    n = 1
    name = base
    while name in taken:
        n += 1
        suffix = f"-{n}"
        name = base[:limit - len(suffix)].rstrip("-") + suffix
    return name


def new_activity(workflow: dict, kind: ActivityKind, channel_configuration: str | None = None,
                 audience: str | None = None) -> dict:
    """An activity of ``kind`` with settings that save (a channel's needs its configuration, a read audience an
    audience)."""
    taken = {a["id"] for a in workflow.get("activities", [])}
    activity: dict[str, Any] = {"id": unique(kind.value.replace("_", "-"), taken), "kind": kind.value}
    settings = {k: (list(v) if isinstance(v, list) else v) for k, v in SETTINGS.get(kind, {}).items()}
    if kind is ActivityKind.save_audience:
        settings["list"] = unique("saved", {a.get("list") for a in workflow.get("activities", [])}, 64)
    activity.update(settings)
    if kind is ActivityKind.read_audience and audience:
        activity["audience"] = audience
    if kind in CHANNELS:
        activity["content"] = dict(CONTENT[kind])
        if channel_configuration:
            activity["channel_configuration"] = channel_configuration
    return activity


def add_after(workflow: dict, after: str | None, activity: dict, second_input: str | None = None) -> dict:
    """A copy of ``workflow`` with ``activity`` after ``after`` (and after ``second_input`` too: a merge needs
    two). A new split's segment leads to an End of its own, so that it saves; what is added after the split
    then takes its remainder."""
    out = _copy(workflow)
    out["activities"].append(activity)
    for source in (after, second_input):
        if source is not None and ActivityKind(activity["kind"]) not in SOURCES:  # a source starts its own branch
            out["transitions"].append({"from": source, "to": activity["id"],
                                       "name": outlet_name(out, source, activity["id"])})
    if activity["kind"] == ActivityKind.split.value:
        segment = activity["segments"][0]
        segment["transition"] = unique(segment["transition"], {t["name"] for t in out["transitions"]})
        end = {"id": unique(f"{activity['id']}-end", {a["id"] for a in out["activities"]}), "kind": "end"}
        out["activities"].append(end)
        out["transitions"].append({"from": activity["id"], "to": end["id"], "name": segment["transition"]})
    return out


def connect(workflow: dict, source: str, target: str) -> dict:
    out = _copy(workflow)
    out["transitions"].append({"from": source, "to": target, "name": outlet_name(out, source, target)})
    return out


def outlet_name(workflow: dict, source: str, target: str) -> str:
    """A unique name for a new transition from ``source`` (this may change ``workflow``'s split): from a split,
    an outlet no transition takes yet (a segment's, else the remainder, named here when it has none; when every
    outlet is taken, a new 1% segment the person then edits)."""
    taken = {t["name"] for t in workflow["transitions"]}
    activity = _activity(workflow, source)
    if activity["kind"] != ActivityKind.split.value:
        return unique(target, taken)
    used = {t["name"] for t in workflow["transitions"] if t["from"] == source}
    free = [s["transition"] for s in activity.get("segments", [])] + [activity.get("remainder")]
    name = next((n for n in free if n and n not in used), None)
    if name is not None:
        return name
    if not activity.get("remainder"):
        activity["remainder"] = unique("others", taken)
        return activity["remainder"]
    name = unique(target, taken)
    activity["segments"].append({"transition": name, "percent": 1})
    return name


def delete(workflow: dict, activity_id: str) -> dict:
    """Without ``activity_id``; with exactly one input, its outputs come from that input instead (the first
    keeps the input's name, so a split's outlet stays taken)."""
    out = _copy(workflow)
    out["activities"] = [a for a in out["activities"] if a["id"] != activity_id]
    inbound = [t for t in out["transitions"] if t["to"] == activity_id]
    outbound = [t for t in out["transitions"] if t["from"] == activity_id]
    out["transitions"] = [t for t in out["transitions"] if activity_id not in (t["from"], t["to"])]
    if len(inbound) == 1:
        source = inbound[0]["from"]
        for index, t in enumerate(outbound):
            name = inbound[0]["name"] if index == 0 else t["name"]
            out["transitions"].append({"from": source, "to": t["to"], "name": name})
    kept = {t["name"] for t in out["transitions"]}
    for a in out["activities"]:
        _release_outlets(a, kept)
    for a in out["activities"]:  # an exclusion that kept this one's profiles keeps another input's
        if a.get("primary") == activity_id:
            a["primary"] = next((t["from"] for t in out["transitions"] if t["to"] == a["id"]), None)
    return out


def _release_outlets(activity: dict, kept: set[str]) -> None:
    """A split whose outlet lost its transition forgets it: the remainder goes (those profiles stay at the
    split, counted as unrouted); a segment goes unless it is the last one."""
    if activity["kind"] != ActivityKind.split.value:
        return
    if activity.get("remainder") and activity["remainder"] not in kept:
        activity["remainder"] = None
    segments = [s for s in activity.get("segments", []) if s["transition"] in kept]
    activity["segments"] = segments or activity.get("segments", [])


def rename(workflow: dict, old_id: str, activity: dict) -> dict:
    """``activity`` in place of ``old_id`` (its settings edited); transitions follow a changed id."""
    out = _copy(workflow)
    out["activities"] = [activity if a["id"] == old_id else a for a in out["activities"]]
    new_id = activity.get("id", old_id)
    for t in out["transitions"]:
        t["from"] = new_id if t["from"] == old_id else t["from"]
        t["to"] = new_id if t["to"] == old_id else t["to"]
    return out


def _activity(workflow: dict, activity_id: str) -> dict:
    return next(a for a in workflow["activities"] if a["id"] == activity_id)


def _copy(workflow: dict) -> dict:
    import copy

    out = copy.deepcopy(workflow)
    out.setdefault("activities", [])
    out.setdefault("transitions", [])
    return out
