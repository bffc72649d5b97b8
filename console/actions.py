"""One registry of the console's actions: keys, footer, help and the command palette all read it.

``permission`` is the API's permission word (see ``/v1/me``): an action the user's role lacks is
hidden from the footer and palette and refused by the engine anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class ConsoleAction:
    name: str  # as the command palette lists it
    key: str
    action: str  # the ``action_*`` method, on the screen (campaign actions) or the app
    help: str
    permission: str | None = None
    campaign: bool = True  # needs a selected campaign
    footer: bool = True
    key_action: str | None = None  # what the key does when it differs (one key toggling two palette entries)
    label: str | None = None  # the footer's word when the palette's name is too long for 80 columns


LIST_ACTIONS = (
    ConsoleAction("Open campaign", "enter", "open", "Everything about the campaign: versions, runs, audit trail"),
    ConsoleAction("Compare draft with live", "c", "compare", "Live and draft side by side, changes highlighted",
                  footer=False),
    ConsoleAction("Search", "slash", "search", "Search names and tags as you type", campaign=False),
    ConsoleAction("Filter by status", "f", "filter_status", "Show only some statuses", campaign=False, footer=False),
    ConsoleAction("Filter by type, channel or tag", "F", "filter_other", "Narrow by type, channel or tag",
                  campaign=False, footer=False),
    ConsoleAction("Show all statuses", "0", "show_all", "Also show Stopped, Completed and Archived (0 again: back)",
                  campaign=False, key_action="toggle_statuses", label="All/default"),
    ConsoleAction("Show default statuses", "0", "show_default", "Hide Stopped, Completed and Archived again",
                  campaign=False, footer=False),
    ConsoleAction("Sort by next column", "o", "sort_next", "Sort by the next column (O reverses)", campaign=False,
                  footer=False),
    ConsoleAction("Reverse sort", "O", "sort_reverse", "Reverse the sort order", campaign=False, footer=False),
)

CAMPAIGN_ACTIONS = (
    ConsoleAction("New campaign", "n", "new_campaign", "Create a campaign (a form checked field by field)", "create",
                  campaign=False),
    ConsoleAction("Edit draft", "e", "edit_draft", "Edit the draft, creating it beside the live version", "edit"),
    ConsoleAction("Request approval", "r", "request_approval", "Send the draft to the approvers", "request approval",
                  footer=False),
    ConsoleAction("Cancel request", "R", "cancel_request", "Withdraw your approval request", "cancel approval request",
                  footer=False),
    ConsoleAction("Approve", "y", "approve", "Approve the draft (and activate it)", "approve"),
    ConsoleAction("Request changes", "x", "request_changes", "Send the draft back with a message", "request changes",
                  footer=False),
    ConsoleAction("Activate", "g", "activate", "Activate: shows audience, expected exclusions and schedule first",
                  "activate an approved version"),
    ConsoleAction("Stop", "S", "stop", "Stop for good: future runs are cancelled", "stop", footer=False),
    ConsoleAction("Archive", "b", "archive", "Archive a campaign that is not a draft", "archive", footer=False),
    ConsoleAction("Duplicate", "d", "duplicate", "Copy into a new Draft", "duplicate", footer=False),
    ConsoleAction("Delete draft", "D", "delete_draft", "Delete a Draft, or discard the draft beside a live version",
                  "delete", footer=False),
)

APP_ACTIONS = (
    ConsoleAction("Awaiting my approval", "w", "approvals", "Drafts waiting for your decision", campaign=False,
                  footer=False),
    ConsoleAction("Approval policies", "P", "policies", "Which campaigns need whose approval (admins change them)",
                  campaign=False, footer=False),
    ConsoleAction("Help", "question_mark", "help", "The keys you may use here", campaign=False),
    ConsoleAction("Quit", "q", "quit_console", "Quit, also Ctrl+Q or Ctrl+C (asks if an edit is unsaved)", campaign=False, footer=False),
)

WORKFLOW_ACTIONS = (
    ConsoleAction("Open workflow", "W", "open_workflow", "An orchestrated campaign's activities on a canvas"),
    ConsoleAction("Activity settings", "enter", "open_settings", "The selected activity's settings, as JSON",
                  label="Settings"),
    ConsoleAction("Add activity", "a", "add_activity", "Add an activity after the selected one", "edit", label="Add"),
    ConsoleAction("Delete activity", "d", "delete_activity", "Delete the selected activity (its input takes over)",
                  "edit", label="Delete"),
    ConsoleAction("Connect activities", "c", "connect_activities", "Connect the selected activity to another", "edit",
                  label="Connect"),
    ConsoleAction("Test workflow", "t", "test_workflow", "Count every transition without sending or saving",
                  label="Test"),
    ConsoleAction("Show transition counts", "n", "show_counts", "The latest run's counts on the transitions",
                  label="Run counts"),
    ConsoleAction("Preview activity", "p", "preview", "Sample profiles leaving the selected activity (after a test)",
                  label="Preview"),
)

ALL_ACTIONS = LIST_ACTIONS + CAMPAIGN_ACTIONS + WORKFLOW_ACTIONS + APP_ACTIONS


def bindings(actions: tuple[ConsoleAction, ...]) -> list[BindingType]:
    """Bindings with ids (so a keymap can rebind them) from registry entries; one binding per key."""
    seen: set[str] = set()
    out: list[BindingType] = []
    for a in actions:
        if a.key in seen:
            continue
        seen.add(a.key)
        out.append(Binding(a.key, a.key_action or a.action, a.label or a.name, show=a.footer, id=a.key_action or a.action,
                           tooltip=a.help))
    return out


def key_label(key: str) -> str:
    return {"slash": "/", "question_mark": "?", "enter": "Enter", "escape": "Esc"}.get(key, key)
