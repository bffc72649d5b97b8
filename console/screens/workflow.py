"""One orchestrated campaign's workflow on a canvas: the draft if there is one, else the live version.

Each edit (settings, add, delete, connect) saves the draft at once through the API with the revision it was
made on, as the campaign form does; a refusal names the problems by activity and nothing is lost. Test mode
and the latest run put counts on the transitions. Read only when the server does not list ``edit`` among the
campaign's actions for this user."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from store.errors import CampaignsError
from store.models import Campaign, CampaignAction, WorkflowCounts
from store.models.campaign import editable_document
from store.models.workflow import CHANNELS, KIND_LABELS, MERGES, ActivityKind, Workflow
from store.client import edit_from_file_document
from store.text import printable

from .. import workflow_edits as edits
from ..actions import WORKFLOW_ACTIONS, bindings
from ..dialogs.activity_pick import ActivityPickDialog
from ..dialogs.activity_settings import ActivitySettingsDialog
from ..dialogs.confirm import ConfirmDialog
from ..dialogs.workflow_preview import WorkflowPreviewDialog
from ..host import host
from ..widgets.header import ConnectionBanner, WorkspaceHeader
from ..widgets.workflow_canvas import WorkflowCanvas

EDITS = ("open_settings", "add_activity", "delete_activity", "connect_activities")


class WorkflowScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back", id="workflow.back", tooltip="Back to the campaign")] + \
        bindings(WORKFLOW_ACTIONS[1:])
    DEFAULT_CSS = """
    WorkflowScreen #workflow-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    WorkflowScreen #workflow-status { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
    WorkflowScreen #workflow-status.-error { color: $text-error; }
    """

    def __init__(self, campaign_id: str) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign: Campaign | None = None
        self.counts: WorkflowCounts | None = None

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader(id="header")
        yield ConnectionBanner()
        yield Static(f"Loading {self.campaign_id}…", id="workflow-title", markup=False)
        yield WorkflowCanvas(id="canvas")
        yield Static("", id="workflow-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(WorkflowCanvas).focus()
        self.load()

    # state ------------------------------------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.campaign is not None and CampaignAction.edit in (self.campaign.actions or [])

    @property
    def selected(self) -> str | None:
        return self.query_one(WorkflowCanvas).selected

    def workflow_json(self) -> dict:
        version = self.campaign.current if self.campaign else None
        workflow = version.workflow if version is not None else None
        return workflow.model_dump(mode="json", by_alias=True, exclude_none=True) if workflow else \
            {"activities": [], "transitions": []}

    def status(self, text: str, *, bad: bool = False) -> None:
        widget = self.query_one("#workflow-status", Static)
        widget.set_class(bad, "-error")
        widget.update(Text(printable(text, multiline=True)))

    @work(exclusive=True, group="workflow-load")
    async def load(self, select: str | None = None) -> None:
        campaign = await host(self).call_api(host(self).client.campaign(self.campaign_id))
        if campaign is None:
            self.status("The campaign could not be read.", bad=True)
            return
        self.show(campaign, select)
        if self.counts is None and campaign.draft is None and campaign.live is not None:
            self.action_show_counts()  # a live workflow opens with its latest run's counts, if it ran

    def show(self, campaign: Campaign, select: str | None = None) -> None:
        self.campaign = campaign
        version = campaign.current
        which = "draft" if campaign.draft is not None else "live"
        mode = "" if self.editable else " · read only"
        self.query_one("#workflow-title", Static).update(Text(printable(
            f"{campaign.name} · workflow of the {which} version {version.number}{mode}")))
        counts = self.counts if self.counts and self.counts.version == version.number else None
        self.query_one(WorkflowCanvas).show(version.workflow or Workflow(), counts, select)
        if not (version.workflow and version.workflow.activities):
            self.status("No activities yet: a to add a Build audience." if self.editable else "No activities.")
        self.refresh_bindings()

    @on(WorkflowCanvas.Selected)
    def _selected(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in EDITS and not self.editable:
            return None if action == "open_settings" and self.selected else False
        if action in ("open_settings", "delete_activity", "connect_activities", "preview"):
            return self.selected is not None
        return True

    # saving -------------------------------------------------------------------------------------------------
    async def save(self, workflow: dict, select: str | None = None) -> list[str] | None:
        """Save ``workflow`` as the draft's: None once saved, else the problems (by activity) to show."""
        assert self.campaign is not None
        document = editable_document(self.campaign)
        document["draft"]["workflow"] = workflow
        try:
            edit = edit_from_file_document(document)
            campaign = await host(self).client.edit_draft(self.campaign_id, edit)
        except CampaignsError as error:
            problems = [f"{e['field'].removeprefix('draft.workflow.')}: {e['message']}" for e in
                        (getattr(error, "errors", None) or [])] or [error.detail]
            self.status("Not saved: " + "; ".join(problems), bad=True)
            return problems
        self.counts = None  # counts of another revision would mislead
        self.show(campaign, select)
        self.status(f"Saved: draft version {campaign.current.number}, revision {campaign.current.revision}.")
        return None

    # keys -----------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open_settings(self) -> None:
        activity_id = self.selected
        if activity_id is None:
            return
        workflow = self.workflow_json()
        activity = next(a for a in workflow["activities"] if a["id"] == activity_id)

        async def save(edited: dict) -> list[str] | None:
            return await self.save(edits.rename(workflow, activity_id, edited), edited.get("id", activity_id))

        self.app.push_screen(ActivitySettingsDialog(f"Settings of {activity_id}", activity, save,
                                                    read_only=not self.editable))

    @work(exclusive=True, group="workflow-edit")
    async def action_add_activity(self) -> None:
        workflow, after = self.workflow_json(), self.selected
        kinds = edits.addable_kinds(workflow, after)
        choice = await self.app.push_screen_wait(ActivityPickDialog(
            "Add an activity" + (f" after {after}" if after else ""),
            "Its kind. Build audience and Read audience start a branch of their own.",
            [(KIND_LABELS[k], k.value) for k in kinds]))
        if choice is None:
            return
        kind = ActivityKind(choice)
        second = None
        if kind in MERGES:
            others = [(a["id"], a["id"]) for a in workflow["activities"] if a["id"] != after and a["kind"] != "end"]
            second = await self.app.push_screen_wait(ActivityPickDialog(
                f"{KIND_LABELS[kind]}: its second input", f"{KIND_LABELS[kind]} takes two inputs or more: "
                f"{after} and which other?", others))
            if second is None:
                return
        audience = None
        if kind is ActivityKind.read_audience:
            audiences = await host(self).call_api(host(self).client.audiences(), quiet=True) or []
            audience = audiences[0].id if audiences else None
        activity = edits.new_activity(workflow, kind, await self._configuration(kind), audience)
        await self.save(edits.add_after(workflow, after, activity, second), activity["id"])

    async def _configuration(self, kind: ActivityKind) -> str | None:
        """A channel activity's default configuration: the first for its channel and the campaign's category."""
        if kind not in CHANNELS or self.campaign is None:
            return None
        configurations = await host(self).call_api(host(self).client.channel_configurations(), quiet=True) or []
        return next((c.id for c in configurations if c.channel is CHANNELS[kind]
                     and c.category is self.campaign.category), None)

    @work(exclusive=True, group="workflow-edit")
    async def action_delete_activity(self) -> None:
        activity_id = self.selected
        if activity_id is None:
            return
        workflow = self.workflow_json()
        inbound = [t for t in workflow["transitions"] if t["to"] == activity_id]
        after = ("Its outputs will come from its input instead." if len(inbound) == 1 else
                 "Its transitions go with it.")
        if not await self.app.push_screen_wait(ConfirmDialog(f"Delete {activity_id}?", after, "Delete",
                                                             danger=True)):
            return
        await self.save(edits.delete(workflow, activity_id), inbound[0]["from"] if len(inbound) == 1 else None)

    @work(exclusive=True, group="workflow-edit")
    async def action_connect_activities(self) -> None:
        source = self.selected
        if source is None:
            return
        workflow = self.workflow_json()
        targets = [(f"{a.get('label') or KIND_LABELS[ActivityKind(a['kind'])]} ({a['id']})", a["id"])
                   for a in workflow["activities"] if a["id"] != source]
        target = await self.app.push_screen_wait(ActivityPickDialog(
            f"Connect {source} to…", "The activity its profiles go on to.", targets))
        if target is not None:
            await self.save(edits.connect(workflow, source, target), source)

    @work(exclusive=True, group="workflow-counts")
    async def action_test_workflow(self) -> None:
        self.status("Testing: counting every transition without sending or saving…")
        counts = await host(self).call_api(host(self).client.test_workflow(self.campaign_id))
        if counts is not None:
            self._show_counts(counts, f"Test of version {counts.version}: counts on every transition; "
                                      "p previews an activity's profiles.")

    @work(exclusive=True, group="workflow-counts")
    async def action_show_counts(self) -> None:
        counts = await host(self).call_api(host(self).client.workflow_counts(self.campaign_id),
                                           none_is_success=True)
        if counts is None:
            self.status("No run yet: t tests the workflow instead.")
        elif counts is not False:
            self._show_counts(counts, f"Run {counts.run_id} of version {counts.version}: counts on every transition.")

    def _show_counts(self, counts: WorkflowCounts, said: str) -> None:
        self.counts = counts
        if self.campaign is not None:
            self.show(self.campaign, self.selected)
        if self.campaign is not None and counts.version != self.campaign.current.number:
            said += f" (version {counts.version}; this is version {self.campaign.current.number})"
        self.status(said)

    @work(exclusive=True, group="workflow-preview")
    async def action_preview(self) -> None:
        activity_id = self.selected
        if activity_id is None:
            return
        if self.counts is None or not self.counts.test:
            self.status("Nothing to preview yet: t tests the workflow first.")
            return
        body = Text()
        for t in (t for t in self.counts.transitions if t.source == activity_id):
            body.append(f"{t.name} → {t.to}: {t.count or 0:,} profiles\n", style="bold")
            for profile_id in t.sample:
                body.append(f"  {await self._who(profile_id)}\n")
        count = next((a for a in self.counts.activities if a.id == activity_id), None)
        if count is not None and count.rendered:
            body.append(f"\nMessage as {count.sample_profile} gets it\n", style="bold")
            for field, text in count.rendered.items():
                body.append(f"{field}: ", style="bold")
                body.append(printable(text, multiline=True) + "\n")
        if not body.plain:
            body.append("No profiles leave this activity in the last test.")
        self.app.push_screen(WorkflowPreviewDialog(f"Preview of {activity_id}", body))

    async def _who(self, profile_id: str) -> str:
        profile = await host(self).call_api(host(self).client.profile(profile_id), quiet=True)
        if profile is None:
            return profile_id
        name = profile.attributes.get("person", {}).get("name", {})
        full = " ".join(str(n) for n in (name.get("firstName"), name.get("lastName")) if n)
        return printable(" · ".join(p for p in (profile_id, full, profile.identities.email or "") if p))
