"""How the console and the CLI show a campaign's status, an approval state and a time: one home for the words and
colours, so every screen and command says the same thing and a new status is displayed by editing one map.

Plain strings only (Textual markup where a name says so): the CLI uses these without loading Textual.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from store.models import ApprovalState, Campaign, ChannelConfiguration, Status
from store.text import printable

# Status tones: what a status asks of the operator. Screens turn a tone into their own colour.
STATUS_TONES = {Status.draft: "plain", Status.in_review: "attention", Status.activating: "passing",
                Status.scheduled: "live", Status.live: "live", Status.stopped: "muted", Status.completed: "muted",
                Status.failed: "failed", Status.archived: "muted"}
_TONE_MARKUP = {"live": "$text-success", "failed": "$text-error", "attention": "$text-warning",
                "passing": "$text-warning"}

# Where a draft's approval stands, as the operator reads it next to the status.
APPROVAL_WORDS = {ApprovalState.requested: "in review", ApprovalState.approved: "approved",
                  ApprovalState.changes_requested: "changes requested"}
_APPROVAL_MARKS = {ApprovalState.requested: (" (in review)", "·in review"),
                   ApprovalState.approved: (" ✓ approved", "·approved"),
                   ApprovalState.changes_requested: (" ⚠ changes requested", "·changes")}


def approval_step(state: ApprovalState) -> str:
    """An approval state as the step that led to it: "requested", "approved", "changes requested"."""
    return state.value.replace("_", " ")


def status_label(status: Status, has_draft: bool, draft_approval: ApprovalState | None = None, *,
                 compact: bool = False) -> str:
    """Status words always readable without colour; the open-draft and approval marks follow the status."""
    label = status.value + ((" ✎draft" if compact else " ✎ open draft") if has_draft else "")
    if draft_approval and status is not Status.in_review:
        label += _APPROVAL_MARKS[draft_approval][compact]
    return label


def status_markup(campaign: Campaign) -> str:
    """The status in words (readable without colour) with the open-draft mark, coloured by theme variables."""
    colour = _TONE_MARKUP.get(STATUS_TONES[campaign.status], "")
    status = campaign.status.value
    text = f"[bold {colour}]{status}[/]" if colour else f"[bold]{status}[/]"
    if campaign.has_draft and campaign.draft is not None:
        approval = campaign.draft.approval
        state = f", {APPROVAL_WORDS[approval.state]}" if approval else ""
        text += f"  [$text-warning]✎ open draft (version {campaign.draft.number}{state})[/]"
    return text


def when(value: datetime | str | None) -> str:
    """A date-time in the operator's local zone, or a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone().strftime("%a %d %b %Y %H:%M %Z")


def short_when(value: datetime | str | None) -> str:
    """A compact local date-time for table cells (the zone is in the column title)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone()
    return local.strftime("%d %b %H:%M" if local.year == datetime.now().year else "%d %b %Y %H:%M")


def local_zone() -> str:
    return datetime.now().astimezone().strftime("%Z")


def zoned(title: str) -> str:
    """A column title over local times, with the zone they are in: "Next run (CET)"."""
    return f"{title} ({local_zone()})"


def cell_text(value: str) -> Text:
    """Someone's text (a user name, an audit detail, a provider's error) for a DataTable cell, which would
    read a string as markup: plain text, control characters made visible."""
    return Text(printable(value))


def configuration_text(config_id: str | None, configurations: dict[str, ChannelConfiguration]) -> str:
    """Plain text (printable, never markup): the sender's name is someone's text."""
    if config_id is None:
        return "— (none selected)"
    config = configurations.get(config_id)
    if config is None:
        return f"{config_id} (not found among the workspace's configurations)"
    sender = f"{config.sender_name} <{config.sender}>" if config.sender_name else config.sender
    return printable(f"{config.id}: {config.channel.value} via {config.provider.value}, from {sender} "
                     f"({config.category.value})")
