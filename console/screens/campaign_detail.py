"""Everything about one campaign: the live version (or the draft) with its rendered content, the runs,
and the audit trail. Every campaign action key works here as on the list; the screen refreshes on
the console's tick without leaving the view or the scroll position the operator is at."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Static, TabbedContent, TabPane

from store.models import Campaign, CampaignSummary, CampaignType, ChannelConfiguration, Run, Status, Version
from store.models.execution import Execution
from store.models.report import Report
from store.text import printable

from ..actions import CAMPAIGN_ACTIONS, WORKFLOW_ACTIONS, bindings
from ..campaign_actions import CampaignActions
from ..diff import describe_approval, describe_rate
from ..display import APPROVAL_WORDS, cell_text, configuration_text, short_when, status_markup, when, zoned
from ..host import host
from ..run_pace import duration_text, rate_text
from ..widgets.header import ConnectionBanner, WorkspaceHeader
from ..widgets.list_table import ListTable
from .executions import EXECUTION_COLUMNS, ExecutionOutcomes, execution_cells, server_url, unitary_curl

RUN_COLUMNS = (("run", "Run"), ("trigger", "Trigger"), ("when", "Occurrence/start"), ("status", "Status"),
               ("targeted", "Targeted"), ("sent", "Sent"), ("failed", "Failed"), ("excluded", "Excluded"),
               ("rate", "Rate"), ("left", "Time left"), ("reasons", "Excluded by reason"), ("error", "Error"))
NUMERIC = {"targeted", "sent", "failed", "excluded"}
AUDIT_COLUMNS = (("at", "Time"), ("user", "User"), ("action", "Action"), ("version", "Ver."), ("detail", "Detail"),
                 ("proof", "Proven by"))
ZONED = {"when", "at"}  # column titles that get the local zone
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# the runs tab's counts, and the row the campaign actions act on ------------------------------------
def excluded_by_reason(excluded: dict) -> str:
    items = sorted(((getattr(k, "value", k), v) for k, v in excluded.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{reason} {count:,}" for reason, count in items) or "—"


def failed_by_reason(failures: dict[str, int]) -> str:
    """" (provider_unavailable 4)" after the failed count: a gateway that was down reads apart from refusals."""
    return f" ({excluded_by_reason(failures)})" if failures else ""


def summary_of(campaign: Campaign) -> CampaignSummary:
    approval = campaign.draft.approval if campaign.draft else None
    return CampaignSummary(
        id=campaign.id, name=campaign.name, type=campaign.type, category=campaign.category, status=campaign.status,
        channel=campaign.channel, has_draft=campaign.has_draft, draft_approval=approval.state if approval else None,
        tags=campaign.tags, updated_by=campaign.updated_by, updated_at=campaign.updated_at,
        actions=campaign.actions or [])


def _grid() -> Table:
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(style="bold", no_wrap=True, width=14)
    table.add_column(ratio=1)
    return table


# the test-profile question --------------------------------------------------------------------------
class ProfileDialog(ModalScreen[str | None]):
    """Which profile to render for: Enter renders (empty: the audience's first profile), Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="profile.cancel")]

    def __init__(self, current: str | None) -> None:
        super().__init__(classes="dialog")
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static("Render for another test profile", classes="dialog-title")
            yield Static("Profile id. Enter renders the content as that person would get it; leave it empty "
                         "for the audience's first profile. Esc cancels.", classes="dialog-body")
            yield Input(value=self.current, placeholder="p0000042", id="profile-id")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Render", variant="primary", id="render")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value.strip() if event.button.id == "render" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


# the screen -------------------------------------------------------------------------------------------
class CampaignDetailScreen(CampaignActions, Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back", tooltip="Back to the campaign list"),
        Binding("1", "show_view('overview')", "Overview", show=False, id="detail.overview",
                tooltip="The live version (or the draft), rendered for a test profile"),
        Binding("2", "show_view('runs')", "Runs", show=False, id="detail.runs", tooltip="Every run with its counters"),
        Binding("3", "show_view('audit')", "Audit", show=False, id="detail.audit", tooltip="Who did what, and when"),
        Binding("4", "show_view('executions')", "Executions", show=False, id="detail.executions",
                tooltip="An api campaign's call to copy, its recent executions and their outcomes"),
        Binding("k", "copy_curl", "Copy curl", id="detail.copy_curl",
                tooltip="Copy the curl that triggers this Live api campaign"),
        Binding("c", "compare", "Compare", id="compare", tooltip="Live and draft side by side, changes highlighted"),
        Binding("v", "toggle_version", "Live/draft", id="detail.toggle_version",
                tooltip="Show the draft in the overview, or back to the live version"),
        Binding("p", "render_profile", "Test profile", id="detail.profile",
                tooltip="Render the content for another profile"),
    ] + bindings(CAMPAIGN_ACTIONS) + bindings(WORKFLOW_ACTIONS[:1])

    DEFAULT_CSS = """
    CampaignDetailScreen #detail-head { height: auto; padding: 0 1; background: $boost; }
    CampaignDetailScreen #detail-title { text-style: bold; }
    CampaignDetailScreen #detail-reason { color: $text-warning; }
    CampaignDetailScreen #detail-description { color: $text-muted; }
    CampaignDetailScreen TabbedContent { height: 1fr; }
    CampaignDetailScreen TabPane { padding: 0; height: 1fr; }
    CampaignDetailScreen #overview-scroll { height: 1fr; padding: 0 1; }
    CampaignDetailScreen .note { color: $text-warning; margin-top: 1; }
    CampaignDetailScreen .section { text-style: bold; color: $text-accent; margin-top: 1; }
    CampaignDetailScreen #rendered.-error { color: $text-error; }
    CampaignDetailScreen #rendered.-drawing { text-wrap: nowrap; text-overflow: clip; }
    CampaignDetailScreen .table-note { height: auto; padding: 0 1; color: $text-muted; }
    CampaignDetailScreen DataTable { height: 1fr; }
    CampaignDetailScreen #curl { height: auto; padding: 0 1; margin: 0 1; border: round $primary; }
    """

    def __init__(self, campaign_id: str) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.campaign: Campaign | None = None
        self.showing = "live"  # which version the overview shows: "live" or "draft"
        self.profile_id: str | None = None  # None: the audience's first profile
        self.configurations: dict[str, ChannelConfiguration] = {}
        self.audience_sizes: dict[str, int | None] = {}
        self.next_runs: list[datetime] = []
        self._rendered_key: tuple | None = None
        self._need_full = True  # configurations and audience sizes are (re)read on the first load and after actions
        self._loading = False
        self._audit_count = 0
        self._executions: dict[str, Execution] = {}

    def compose(self) -> ComposeResult:
        yield WorkspaceHeader(id="header")
        yield ConnectionBanner()
        with Vertical(id="detail-head"):
            yield Static(f"Loading {escape(self.campaign_id)}…", id="detail-title")
            yield Static("", id="detail-status")
            yield Static("", id="detail-reason")
            yield Static("", id="detail-description")
        with TabbedContent(id="views", initial="overview"):
            with TabPane("1 Overview", id="overview"):
                with VerticalScroll(id="overview-scroll"):
                    yield Static("", id="draft-note", classes="note")
                    yield Static("", id="version-title", classes="section")
                    yield Static("", id="version-facts")
                    yield Static("", id="render-title", classes="section")
                    yield Static("", id="rendered")
            with TabPane("2 Runs", id="runs"):
                yield Static("", id="run-totals", classes="table-note")
                yield ListTable(id="run-table")
            with TabPane("3 Audit trail", id="audit"):
                yield Static("Oldest first: the newest event is at the bottom.", id="audit-note", classes="table-note")
                yield ListTable(id="audit-table")
            with TabPane("4 Executions", id="executions"):
                yield Static("", id="curl-note", classes="table-note")
                yield Static("", id="curl")
                yield Static("", id="executions-note", classes="table-note")
                yield ListTable(id="execution-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        runs = self.query_one("#run-table", DataTable)
        for key, label in RUN_COLUMNS:
            runs.add_column(zoned(label) if key in ZONED else label, key=key)
        audit = self.query_one("#audit-table", DataTable)
        for key, label in AUDIT_COLUMNS:
            audit.add_column(zoned(label) if key in ZONED else label, key=key)
        executions = self.query_one("#execution-table", DataTable)
        for key, label in EXECUTION_COLUMNS:
            executions.add_column(zoned(label) if key in ZONED else label, key=key)
        self.query_one("#detail-reason").display = False
        self.query_one("#draft-note").display = False
        self.query_one("#overview-scroll").focus()
        self.set_interval(host(self).refresh_seconds, self._tick)

    def on_screen_resume(self) -> None:
        self.load()  # first display, and back from a dialog or another screen that may have changed things

    def _tick(self) -> None:
        if self.app.screen is self and not self._loading:  # not under a dialog; never two loads at once
            self.load()

    # loading ----------------------------------------------------------------------------------------------
    @work(exclusive=True, group="detail-load")
    async def load(self) -> None:
        self._loading = True
        try:
            await self._load()
        finally:
            self._loading = False

    async def _load(self) -> None:
        client, api = host(self).client, host(self).call_api
        first = self.campaign is None
        campaign = await api(client.campaign(self.campaign_id), quiet=not first)
        if campaign is None:
            if first:
                self.query_one("#detail-title", Static).update(f"Campaign {escape(self.campaign_id)} could not be read")
            return
        full = self._need_full
        if full:
            configs = await api(client.channel_configurations(), quiet=True)
            if configs is not None:
                self.configurations = {c.id: c for c in configs}
        runs = await api(client.runs(self.campaign_id), quiet=True)
        report = await api(client.report(self.campaign_id), quiet=True)
        audit = await api(client.audit_trail(self.campaign_id), quiet=True)
        executions = (await api(client.executions(self.campaign_id), quiet=True)
                      if campaign.type is CampaignType.api else None)
        if (self.showing == "draft" and campaign.draft is None) or campaign.live is None:
            self.showing = "draft" if campaign.live is None else "live"
        shown = self.shown_version(campaign)
        if shown.audience and (full or shown.audience not in self.audience_sizes):
            self.audience_sizes[shown.audience] = await api(client.audience_size(shown.audience), quiet=True)
        self.campaign = campaign
        self._need_full = False
        if report is not None:
            self.next_runs = report.next_runs
        self.show_campaign()
        if runs is not None:
            self.show_runs(runs, report)
        if audit is not None:
            self.show_audit(audit)
        if executions is not None:
            self.show_executions(executions)
        key = (self.showing, shown.number, shown.revision, self.profile_id)
        if full or key != self._rendered_key:
            self._rendered_key = key
            await self._render_for_profile()
        self.refresh_bindings()

    def shown_version(self, campaign: Campaign) -> Version:
        version = campaign.draft if self.showing == "draft" else campaign.live
        return version or campaign.current

    async def _render_for_profile(self) -> None:
        if self.campaign is not None and self.shown_version(self.campaign).workflow is not None:
            await self._draw_workflow(self.campaign)
            return
        rendered = await host(self).call_api(
            host(self).client.render(self.campaign_id, profile_id=self.profile_id, version=self.showing), quiet=True)
        title, body = self.query_one("#render-title", Static), self.query_one("#rendered", Static)
        body.remove_class("-drawing")
        hint = "  [$text-muted](p: another profile)[/]"
        if rendered is None:
            title.update("Content" + hint)
            body.update("The content could not be rendered (the engine did not answer).")
            body.add_class("-error")
            return
        who = rendered.profile_id
        title.update(Content.from_markup(("Content as $who gets it" if who else "Content") + hint, who=printable(who or "")))
        if rendered.error:
            body.add_class("-error")
            body.update(Text(printable(f"Cannot render{f' for {who}' if who else ''}: {rendered.error}")))
            return
        body.remove_class("-error")
        grid = _grid()
        for field, text in (rendered.content or {}).items():  # profile data: shown as text, never markup
            grid.add_row(field.capitalize(), Text(printable(text, multiline=True)) if text else Text("(empty)", style="italic"))
        body.update(grid)

    async def _draw_workflow(self, c: Campaign) -> None:
        """An orchestrated version: its workflow drawn where an action campaign's content is rendered, with the
        latest run's counts on the live one (the canvas, W, is where it is navigated and edited)."""
        from ..workflow_drawing import draw

        version = self.shown_version(c)
        assert version.workflow is not None
        counts = None
        if version is c.live:
            counts = await host(self).call_api(host(self).client.workflow_counts(c.id), quiet=True)
        shown = counts if counts is not None and counts.version == version.number else None
        title = "Workflow" + (f", counts of run {shown.run_id}" if shown is not None else "")
        self.query_one("#render-title", Static).update(
            Content.from_markup(title + "  [$text-muted](W: open the canvas)[/]"))
        body = self.query_one("#rendered", Static)
        body.remove_class("-error")
        body.add_class("-drawing")  # as wide as it is, cut at the edge: the canvas scrolls it
        body.update(Text("\n").join(draw(version.workflow, shown)))

    # showing ----------------------------------------------------------------------------------------------
    def show_campaign(self) -> None:
        c = self.campaign
        assert c is not None
        self.query_one("#detail-title", Static).update(
            Content.from_markup("$name  [$text-muted]$id[/]", name=printable(c.name), id=c.id))
        self.query_one("#detail-status", Static).update(
            f"{c.type.value} · {c.category.value} · {c.channel.value} · {status_markup(c)}")
        reason = self.query_one("#detail-reason", Static)
        reason.display = bool(c.status_reason)
        reason.update(Text(f"Why: {printable(c.status_reason)}" if c.status_reason else ""))
        tags = "  ·  tags: " + printable(", ".join(c.tags)) if c.tags else ""
        description = printable(c.description, multiline=True) if c.description else "No description."
        self.query_one("#detail-description", Static).update(Text(description + tags))

        version = self.shown_version(c)
        note = self.query_one("#draft-note", Static)
        note.display = c.has_draft
        if c.draft is not None and c.live is not None:  # an open draft (Campaign.has_draft)
            if self.showing == "live":
                state = APPROVAL_WORDS[c.draft.approval.state] if c.draft.approval else "not sent for approval"
                note.update(Content.from_markup(
                    f"✎ A draft (version {c.draft.number}, {state}, by $who) stands beside this live version.  "
                    "c: compare with the draft · v: show the draft", who=printable(c.draft.updated_by)))
            else:
                note.update(f"✎ Showing the draft (version {c.draft.number}); version {c.live.number} is the one "
                            "that runs.  v: back to the live version · c: compare")
        if c.live is not None and version is c.live:
            title = f"Live version {version.number}"
        elif c.status is Status.activating:
            title = f"Version {version.number} — activating"
        else:
            title = f"Draft version {version.number} — not live"
        self.query_one("#version-title", Static).update(f"{title}  [$text-muted]revision {version.revision}[/]")
        self.query_one("#version-facts", Static).update(self._facts(c, version))
        self.show_call(c)

    def curl(self) -> str | None:
        """The call that triggers this campaign now, or None when it would be refused (not a Live api campaign)."""
        c = self.campaign
        if c is None or c.type is not CampaignType.api or c.status is not Status.live:
            return None
        return unitary_curl(server_url(host(self).client.remote)[0], c)

    def show_call(self, c: Campaign) -> None:
        tabs = self.query_one(TabbedContent)
        if c.type is not CampaignType.api:
            tabs.hide_tab("executions")
            return
        tabs.show_tab("executions")
        curl, note = self.curl(), self.query_one("#curl-note", Static)
        self.query_one("#curl").display = curl is not None
        if curl is None:
            note.update(f"Only a Live api campaign accepts calls; this one is {c.status.value}.")
            return
        note.update(Text(f"Trigger it (k copies; {server_url(host(self).client.remote)[1]}; "
                         "$CAMPAIGNS_TOKEN holds a token, e.g. an api-client's):"))
        self.query_one("#curl", Static).update(Text(curl))

    def show_executions(self, executions: list[Execution]) -> None:
        """Newest first, as the engine answers; Enter on one shows its recipients' outcomes."""
        self._executions = {e.id: e for e in executions}
        self.query_one("#executions-note", Static).update(
            f"Recent executions, newest first ({len(executions)}) · Enter: each recipient's outcome"
            if executions else "No executions yet.")
        table = self.query_one("#execution-table", DataTable)
        keys = [e.id for e in executions]
        if [row.key.value for row in table.ordered_rows] == keys:
            for e in executions:  # the same executions: patch what changed (a status, counts), cursor stays
                for (column, _), value in zip(EXECUTION_COLUMNS, execution_cells(e)):
                    if table.get_cell(e.id, column) != value:
                        table.update_cell(e.id, column, value, update_width=True)
            return
        selected = table.ordered_rows[table.cursor_row].key.value if table.row_count else None
        with self.app.batch_update():
            table.clear()
            for e in executions:
                table.add_row(*execution_cells(e), key=e.id)
            if selected in self._executions:
                table.move_cursor(row=keys.index(selected), animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "execution-table" and event.row_key.value in self._executions:
            self.app.push_screen(ExecutionOutcomes(self._executions[event.row_key.value]))

    def action_copy_curl(self) -> None:
        curl = self.curl()
        if curl is not None:
            self.app.copy_to_clipboard(curl)
            self.notify("The curl is copied: set $CAMPAIGNS_TOKEN, then paste it in a shell.")

    def _facts(self, c: Campaign, v: Version) -> Table:
        grid = _grid()
        if v.workflow is not None:  # its activities carry the audiences, configurations, contents and rates
            channels = ", ".join(channel.value for channel in v.workflow.channels()) or "none"
            grid.add_row("Workflow", f"{len(v.workflow.activities)} activities, {len(v.workflow.transitions)} "
                                     f"transitions · channels: {channels}")
        elif v.audience:
            size = self.audience_sizes.get(v.audience)
            grid.add_row("Audience", f"{v.audience}: {size:,} profiles" if size is not None else f"{v.audience} (size unknown)")
        else:
            grid.add_row("Audience", "— (none selected)")
        if v.workflow is None:
            grid.add_row("Channel", v.channel.value)
            grid.add_row("Configuration", Text(configuration_text(v.channel_configuration, self.configurations)))
        grid.add_row("Schedule", v.schedule.describe())
        if v is c.live and self.next_runs:
            grid.add_row("Next runs", "\n".join(when(n) for n in self.next_runs[:3])
                         + (f"\n… and {len(self.next_runs) - 3} more" if len(self.next_runs) > 3 else ""))
        elif v is c.live and c.status in (Status.live, Status.scheduled):
            grid.add_row("Next runs", "none planned")
        if v.workflow is None:
            grid.add_row("Rate control", describe_rate(v))
        grid.add_row("Approval", Text(printable(describe_approval(v), multiline=True)))
        if v.activated_at:
            grid.add_row("Activated", Text(f"{when(v.activated_at)} by {printable(v.activated_by or '')}"))
        grid.add_row("Last edit", Text(f"{when(v.updated_at)} by {printable(v.updated_by)}"))
        return grid

    def show_runs(self, runs: list[Run], report: Report | None) -> None:
        totals_widget = self.query_one("#run-totals", Static)
        if report is not None and runs:
            t = report.totals
            totals_widget.update(Text(
                f"Totals over {len(runs)} run{'s' if len(runs) != 1 else ''}: targeted {t.targeted:,} · sent "
                f"{t.sent:,} · failed {t.failed:,}{failed_by_reason(report.failures)} · excluded "
                f"{t.excluded_total:,} ({excluded_by_reason(t.excluded)})"
                " · newest first"))
        elif not runs:
            totals_widget.update("No runs yet.")
        table = self.query_one("#run-table", DataTable)
        ordered = sorted(runs, key=lambda r: (r.occurrence or r.started_at or _EPOCH, r.id),
                         reverse=True)
        cells = {r.id: self._run_cells(r) for r in ordered}
        keys = [r.id for r in ordered]
        if [row.key.value for row in table.ordered_rows] == keys:
            for key, row in cells.items():  # same runs in the same order: patch what changed, cursor stays
                for (column, _), value in zip(RUN_COLUMNS, row):
                    if table.get_cell(key, column) != value:  # a value grown wider widens its column
                        table.update_cell(key, column, value, update_width=True)
            return
        selected = table.ordered_rows[table.cursor_row].key.value if table.row_count else None
        scroll = table.scroll_y
        with self.app.batch_update():
            table.clear()
            for key in keys:
                table.add_row(*cells[key], key=key)
            if selected in cells:
                table.move_cursor(row=keys.index(selected), animate=False)
            table.scroll_to(y=scroll, animate=False)

    @staticmethod
    def _run_cells(run: Run) -> list:
        c = run.counters
        start = run.occurrence or run.started_at
        numbers = [f"{n:,}" for n in (c.targeted, c.sent, c.failed, c.excluded_total)]
        rate = rate_text(run.rate) if run.rate else "—"
        left = duration_text(run.eta_seconds) if run.eta_seconds is not None else "—"
        return [run.id, run.trigger.value, short_when(start), run.status.value, *numbers, rate, left,
                excluded_by_reason(c.excluded), cell_text(run.error or "")]

    def show_audit(self, events) -> None:
        table = self.query_one("#audit-table", DataTable)
        if len(events) < self._audit_count:  # the log only grows; a shorter one is another campaign's: rebuild
            table.clear()
            self._audit_count = 0
        at_end = table.row_count == 0 or table.cursor_row == table.row_count - 1
        for index, e in enumerate(events[self._audit_count:], start=self._audit_count):
            table.add_row(short_when(e.at), cell_text(e.user), e.action, "" if e.version is None else str(e.version),
                          cell_text(e.detail), cell_text(e.proof or ""), key=str(index))
        if len(events) > self._audit_count and at_end:
            table.move_cursor(row=len(events) - 1, animate=False)
        self._audit_count = len(events)

    # campaign actions -------------------------------------------------------------------------------------
    def current_campaign(self) -> CampaignSummary | None:
        return summary_of(self.campaign) if self.campaign is not None else None

    def reviewed_revision(self) -> int | None:
        return self.campaign.current.revision if self.campaign is not None else None

    def campaign_changed(self, campaign_id: str | None) -> None:
        if campaign_id is None:  # the Draft campaign was deleted: nothing left to show
            if self.app.screen is self:
                self.app.pop_screen()
            return
        self._need_full = True
        self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "toggle_version":
            return self.campaign is not None and self.campaign.has_draft
        if action == "copy_curl":
            return self.curl() is not None
        if action == "render_profile":  # a workflow's channel activities are previewed on its canvas (W, then p)
            return None if self.campaign is None else self.shown_version(self.campaign).workflow is None
        if action == "open_workflow":
            return self.campaign is not None and self.campaign.type is CampaignType.orchestrated
        return self.check_campaign_action(action)

    # keys ---------------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_show_view(self, view: str) -> None:
        self.query_one(TabbedContent).active = view
        self._focus_view(view)

    def _focus_view(self, view: str) -> None:
        target = {"overview": "#overview-scroll", "runs": "#run-table", "audit": "#audit-table",
                  "executions": "#execution-table"}[view]
        self.query_one(target).focus()

    def action_open_workflow(self) -> None:
        from .workflow import WorkflowScreen

        self.app.push_screen(WorkflowScreen(self.campaign_id))

    def action_toggle_version(self) -> None:
        c = self.campaign
        if c is None or not c.has_draft:
            return
        self.showing = "draft" if self.showing == "live" else "live"
        self.action_show_view("overview")
        self._need_full = True  # the other version may use another audience
        self.load()

    @work(group="detail-profile")
    async def action_render_profile(self) -> None:
        profile = await self.app.push_screen_wait(ProfileDialog(self.profile_id))
        if profile is None:
            return
        self.profile_id = profile or None
        self.action_show_view("overview")
        self._rendered_key = None
        await self._render_for_profile()
