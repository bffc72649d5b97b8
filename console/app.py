"""The Textual app: thin. Screens do the work; this holds the client, who is acting, and API errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from store.client import CampaignsClient
from store.errors import CampaignsError
from store.models.workspace_info import WorkspaceInfo
from store.text import printable

from .actions import APP_ACTIONS, bindings
from .commands import CampaignCommands
from .engine_lost import lost_engine
from .key_order import OrderedKeysApp
from .screens.campaign_list import CampaignListScreen


class CampaignsApp(OrderedKeysApp):
    CSS_PATH = "app.tcss"
    TITLE = "Campaigns"
    # Ctrl+Q and Ctrl+C (over an input too, where Textual would copy) ask like `q`: no key quits past an unsaved edit.
    BINDINGS = bindings(APP_ACTIONS) + [Binding("ctrl+q,ctrl+c", "quit_console", "Quit", show=False, priority=True,
                                                id="app.quit_keys")]
    COMMANDS = App.COMMANDS | {CampaignCommands}

    identity: reactive[dict | None] = reactive(None)
    connection_problem = reactive("")

    def __init__(self, client: CampaignsClient, *, refresh_seconds: float = 1.0) -> None:
        super().__init__()
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.permissions: set[str] = set()
        self.unsaved_edit = False
        self.clock_offset = timedelta(0)  # the engine's clock minus ours (a test engine runs on a frozen clock)
        self.data_dir = "DIR"  # the workspace's directory, once the engine said it
        self.granted_to: dict[str, list[str]] = {}  # permission → roles holding it (why a key is hidden)
        self.ready = asyncio.Event()  # set once we know who is acting: screens load their data after it

    def get_default_screen(self) -> CampaignListScreen:
        return CampaignListScreen()

    async def on_mount(self) -> None:
        try:
            me = await self.client.me()
        except CampaignsError as error:  # not a member of this workspace: nothing to show, say why and leave
            self.exit(return_code=1, message=f"error: {printable(error.detail)}")
            return
        if me is not None:
            self._identified(me)
        for notice in self.client.notices:  # e.g. modes tightened on open: the terminal is ours, so say it here
            self.notify(notice, title="Privacy", severity="warning", timeout=15)
        self.ready.set()

    def _identified(self, me: WorkspaceInfo) -> None:
        """Who is acting, and which engine answers: the header shows them."""
        self.permissions = set(me.permissions)
        self.clock_offset = me.now - datetime.now(timezone.utc)
        self.data_dir = me.data_dir
        self.granted_to = me.granted_to
        self.identity = {"workspace": _short(me.data_dir), "user": me.user.name, "role": me.user.role.value,
                         "proof": me.proof, "engine": self._engine(me)}
        self.screen.refresh_bindings()

    def _engine(self, me: WorkspaceInfo) -> str:
        """Where the engine runs; over a socket, the PID of the process that answered (store.embedded names the
        lock holder's "engine process PID (socket)"), so a restarted engine shows its new PID."""
        remote = self.client.remote
        if remote is None:
            return "here" if self.client.engine_here else "in this process"
        if me.engine_pid is None:
            return remote
        return re.sub(r"^engine process \S+", f"engine process {me.engine_pid}", remote, count=1)

    async def _reconnected(self) -> None:
        me = await self.call_api(self.client.me(), quiet=True)
        if me is not None:
            self._identified(me)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification as plain text: they carry campaign names, refusals and provider errors,
        which are someone's text (never markup; control characters shown escaped, ``store.text``)."""
        super().notify(printable(message, multiline=True), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("approvals", "policies") and self.unsaved_edit:
            return False  # no screen on top of a half-filled form
        return True

    def now(self) -> datetime:
        """Now on the engine's clock: "today", "next run" and ages are relative to it."""
        return datetime.now(timezone.utc) + self.clock_offset

    def allowed(self, permission: str) -> bool:
        return permission in self.permissions

    async def call_api(self, call, *, quiet: bool = False, none_is_success: bool = False) -> Any:
        """Await a client call: a refusal becomes a notification, a lost engine a banner; never a crash."""
        try:
            result = await call
        except CampaignsError as error:
            if not quiet:
                self.notify(error.detail, title=error.title, severity="error", timeout=8)
            return False if none_is_success else None
        except httpx.TransportError as error:
            self.connection_problem = lost_engine(error, remote=self.client.remote, data_dir=self.data_dir)
            return False if none_is_success else None
        if self.connection_problem:  # back: perhaps another engine, with another PID, for the header
            self.connection_problem = ""
            self.run_worker(self._reconnected(), group="reconnected", exclusive=True)
        return result

    def action_help(self) -> None:
        from .commands import available_actions
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(available_actions(self, self.screen)))

    def action_approvals(self) -> None:
        from .screens.approvals import ApprovalsScreen

        self.push_screen(ApprovalsScreen())

    def action_policies(self) -> None:
        from .screens.policies import PoliciesScreen

        self.push_screen(PoliciesScreen())

    def open_compare(self, campaign_id: str) -> None:
        """Live and draft side by side. The app opens it, above every screen: the compare screen acts on its
        campaign through CampaignActions, which therefore cannot import it."""
        from .screens.compare import CompareScreen

        self.push_screen(CompareScreen(campaign_id))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands but its Quit, which would skip the unsaved-edit question: ours is in the palette."""
        return (c for c in super().get_system_commands(screen) if c.title != "Quit")

    async def action_quit(self) -> None:
        """Any other way to ask Textual to quit asks the question too."""
        self.action_quit_console()

    def action_quit_console(self) -> None:
        from .dialogs.confirm import ConfirmDialog

        if not self.unsaved_edit:
            self.exit()
            return
        if isinstance(self.screen, ConfirmDialog) and self.screen.id == "quit-question":
            return  # asked already: a second Ctrl+C does not stack another

        def answer(leave: bool | None) -> None:
            if leave:
                self.exit()

        self.push_screen(ConfirmDialog("Quit with an unsaved edit?", "The draft you are editing has changes that are "
                                       "not saved. Quit anyway and lose them?", "Quit without saving", danger=True,
                                       id="quit-question"),
                         answer)


def _short(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home):] if path.startswith(home) else path
