"""What can be done to the campaign on screen, shared by the list, detail and compare screens.

The server says which actions the user may take on each campaign now (``actions`` of its row or payload,
from its role, the campaign's state and the approval policy): the others are hidden. Each action asks for
confirmation where it cannot be undone, then calls the API; a refusal from the engine (the campaign changed
meanwhile) is shown as a notification and the screen stays as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from textual import events, work

from store.limits import MESSAGE_CHARS
from store.models import CampaignAction, CampaignSummary, Status

from .actions import CAMPAIGN_ACTIONS
from .dialogs.activate import activate_dialog
from .dialogs.confirm import ConfirmDialog
from .dialogs.message import MessageDialog
from .hidden_reason import hidden_reason
from .host import host

if TYPE_CHECKING:
    from textual.screen import Screen

    _Screen = Screen  # what the mixin is mixed into, so mypy knows ``app`` and ``notify``
else:
    _Screen = object

T = TypeVar("T")

# The console's action (its ``action_*`` method) → the server's word for it in ``actions``.
SERVER_ACTIONS = {
    "edit_draft": CampaignAction.edit, "request_approval": CampaignAction.request_approval,
    "cancel_request": CampaignAction.cancel_approval_request, "approve": CampaignAction.approve,
    "request_changes": CampaignAction.request_changes, "activate": CampaignAction.activate,
    "stop": CampaignAction.stop, "archive": CampaignAction.archive, "duplicate": CampaignAction.duplicate,
    "delete_draft": CampaignAction.delete, "compare": CampaignAction.compare,
}


_BY_ACTION = {a.action: a for a in CAMPAIGN_ACTIONS}


class CampaignActions(_Screen):
    """Mixin for screens showing one campaign; ``current_campaign`` says which."""

    def current_campaign(self) -> CampaignSummary | None:
        raise NotImplementedError

    def campaign_changed(self, campaign_id: str | None) -> None:
        """Called after an action changed (or created) a campaign: screens refresh what they show."""

    def reviewed_revision(self) -> int | None:
        """The revision of the draft on screen, which an approver's decision is on (a draft changed since is
        refused); None where the screen shows no draft (the list): the decision is then on the current one."""
        return None

    async def _revision_of(self, row: CampaignSummary) -> int | None:
        shown = self.reviewed_revision()
        if shown is not None:
            return shown
        campaign = await self._call(host(self).client.campaign(row.id))
        return None if campaign is None else campaign.current.revision

    def check_campaign_action(self, action: str) -> bool | None:
        """Shown when the server lists the action for the selected campaign, dimmed when none is selected,
        hidden otherwise."""
        if action == "new_campaign":
            return host(self).allowed("create")  # no campaign to ask about: the role's permission says
        server_action = SERVER_ACTIONS.get(action)
        if server_action is None:
            return True
        row = self.current_campaign()
        if row is None:
            return None
        return server_action in row.actions

    def on_key(self, event: events.Key) -> None:
        """A key whose action is hidden here (no binding took it) says why in one line, instead of nothing."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            action = _BY_ACTION.get(binding.action)
            if action is not None and self.check_campaign_action(action.action) is False:
                me = host(self)
                identity = me.identity or {}
                self.notify(hidden_reason(action, self.current_campaign(), user=identity.get("user", ""),
                                          role=identity.get("role", ""), permissions=me.permissions,
                                          granted_to=me.granted_to), title="Not available", severity="warning")
                event.stop()
                return

    async def _call(self, coro: Awaitable[T], done: str | None = None) -> T | None:
        result = await host(self).call_api(coro)
        if result is not None and done:
            self.notify(done, title="Done")
        return result

    # actions -----------------------------------------------------------------------------
    @work(group="campaign-action")
    async def action_request_approval(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        message = await self.app.push_screen_wait(MessageDialog(
            f"Request approval for {row.name}", "The approvers see your message with the request (optional).",
            "Send for approval", required=False, placeholder="A note for the approvers, or leave empty",
            max_length=MESSAGE_CHARS))
        if message is None:
            return
        sent = self._call(host(self).client.request_approval(row.id, message or None), f"{row.name}: sent for approval")
        if await sent is not None:
            self.campaign_changed(row.id)

    @work(group="campaign-action")
    async def action_cancel_request(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        withdrawn = await self._call(
            host(self).client.cancel_approval_request(row.id), f"{row.name}: request withdrawn")
        if withdrawn is not None:
            self.campaign_changed(row.id)

    @work(group="campaign-action")
    async def action_approve(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        revision = await self._revision_of(row)
        if revision is None:
            return
        approved = await self._call(host(self).client.approve(row.id, revision), f"{row.name}: approved")
        if approved is None:
            return
        self.campaign_changed(row.id)
        if CampaignAction.activate in (approved.actions or ()):
            await self._activate(row.id, row.name)

    @work(group="campaign-action")
    async def action_request_changes(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        message = await self.app.push_screen_wait(MessageDialog(
            f"Request changes to {row.name}", "The draft goes back to its author with your message.", "Send back"))
        revision = await self._revision_of(row) if message else None
        if not message or revision is None:
            return
        sent = self._call(host(self).client.request_changes(row.id, message, revision), f"{row.name}: sent back")
        if await sent is not None:
            self.campaign_changed(row.id)

    @work(group="campaign-action")
    async def action_activate(self) -> None:
        row = self.current_campaign()
        if row is not None:
            await self._activate(row.id, row.name)

    async def _activate(self, campaign_id: str, name: str) -> None:
        preview = await self._call(host(self).client.activation_preview(campaign_id))
        if preview is None or not await self.app.push_screen_wait(activate_dialog(name, preview)):
            return
        campaign = await self._call(host(self).client.activate(campaign_id))
        if campaign is not None:
            self.notify(f"{name} is {campaign.status.value}", title="Activated")
            self.campaign_changed(campaign_id)

    @work(group="campaign-action")
    async def action_stop(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        body = (f"{row.name} is {row.status.value}. Stopping cancels every future run and halts a run in flight. "
                "This is final: a stopped campaign can never be activated again (duplicate it instead).")
        if await self.app.push_screen_wait(ConfirmDialog(f"Stop {row.name}?", body, "Stop for good", danger=True)):
            if await self._call(host(self).client.stop(row.id), f"{row.name}: stopped"):
                self.campaign_changed(row.id)

    @work(group="campaign-action")
    async def action_archive(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        body = f"{row.name} ({row.status.value}) becomes read-only and is hidden from the default list."
        if await self.app.push_screen_wait(ConfirmDialog(f"Archive {row.name}?", body, "Archive")):
            if await self._call(host(self).client.archive(row.id), f"{row.name}: archived"):
                self.campaign_changed(row.id)

    @work(group="campaign-action")
    async def action_duplicate(self) -> None:
        row = self.current_campaign()
        copy = await self._call(host(self).client.duplicate(row.id)) if row else None
        if copy is not None:
            self.notify(f"{copy.name} ({copy.id}) is a new Draft", title="Duplicated")
            self.campaign_changed(copy.id)

    @work(group="campaign-action")
    async def action_delete_draft(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        whole = row.status is Status.draft
        title = f"Delete {row.name}?" if whole else f"Discard the draft of {row.name}?"
        body = ("The draft campaign is deleted. This cannot be undone." if whole else
                f"The draft beside the live version is discarded; the {row.status.value} version keeps running.")
        if await self.app.push_screen_wait(ConfirmDialog(title, body, "Delete" if whole else "Discard draft", danger=True)):
            if await host(self).call_api(host(self).client.delete_campaign(row.id), none_is_success=True) is not False:
                self.notify(f"{row.name}: {'deleted' if whole else 'draft discarded'}", title="Done")
                self.campaign_changed(None if whole else row.id)

    def action_edit_draft(self) -> None:
        row = self.current_campaign()
        if row is not None:
            from .screens.campaign_form import CampaignFormScreen

            self.app.push_screen(CampaignFormScreen(campaign_id=row.id), self._after_form)

    def action_new_campaign(self) -> None:
        from .screens.campaign_form import CampaignFormScreen

        self.app.push_screen(CampaignFormScreen(), self._after_form)

    def _after_form(self, campaign_id: str | None) -> None:
        if campaign_id:
            self.campaign_changed(campaign_id)

    def action_compare(self) -> None:
        row = self.current_campaign()
        if row is not None:
            host(self).open_compare(row.id)
