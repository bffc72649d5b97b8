"""The campaign form: create a campaign, or edit its draft (created beside a Live or Scheduled version).

The form builds the same document ``campaigns show --json`` prints and checks it with the models
(``edit_from_file_document``) before anything is sent: every problem is shown under its field and
the screen stays. The engine has the last word (unknown audience, a revision changed meanwhile by
someone else); its refusals land under the field they name, else in the status line and a
notification. Nothing typed is lost on an error.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from store.client import edit_from_file_document
from store.errors import CampaignsError, ValidationFailed
from store.models import Weekday, editable_document
from store.text import printable

from ..dialogs.confirm import ConfirmDialog
from ..host import host
from ..widgets.content_editor import ContentEditor
from ..widgets.header import ConnectionBanner, WorkspaceHeader

TYPES = [("action: a scheduled send to an audience", "action"), ("api: each API call sends", "api"),
         ("orchestrated: a multi-step workflow", "orchestrated")]
CATEGORIES = [("marketing: needs the channel's consent", "marketing"),
              ("transactional: no consent needed", "transactional")]
CHANNELS = [("email", "email"), ("sms", "sms"), ("push", "push")]
FREQUENCIES = [("none: send once", "none"), ("hourly: every N hours", "hourly"), ("daily: every N days", "daily"),
               ("weekly: every N weeks, on weekdays", "weekly"), ("monthly: every N months, on a day", "monthly")]
UNITS = {"hourly": "hours", "daily": "days", "weekly": "weeks", "monthly": "months"}
WHEN_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
ZONES = sorted(available_timezones())

# A field path of the document (without "draft.") -> the form field showing its errors.
FIELD_OF_PATH = {
    "name": "name", "description": "description", "tags": "tags", "type": "type", "category": "category",
    "channel": "channel", "channel_configuration": "config", "audience": "audience",
    "schedule": "start", "schedule.start": "start", "schedule.time_zone": "zone", "schedule.end": "end",
    "schedule.recurrence": "frequency", "schedule.recurrence.frequency": "frequency",
    "schedule.recurrence.interval": "interval", "schedule.recurrence.weekdays": "weekdays",
    "schedule.recurrence.month_day": "month_day", "schedule.recurrence.at": "at",
    "rate_control": "rate", "rate_control.messages_per_second": "rate",
}
# The fields in the order they are on screen: a refused save focuses the first error there.
FIELD_ORDER = ("name", "description", "tags", "type", "category", "channel", "config", "audience", "rate", "start",
               "zone", "frequency", "interval", "weekdays", "month_day", "at", "end")


def form_field(path: str, message: str) -> str | None:
    """Which form field an error path belongs to (the longest known prefix), or None."""
    path = path.removeprefix("draft.").removeprefix("version.")
    if path == "schedule.recurrence":  # the recurrence as a whole: point at the part that is missing
        for word, field in (("weekday", "weekdays"), ("month_day", "month_day"), ("N hours", "interval")):
            if word in message:
                return field
    parts = path.split(".")
    while parts:
        name = FIELD_OF_PATH.get(".".join(parts))
        if name:
            return name
        parts.pop()
    return None


def _when_text(value: str | None, zone: str) -> str:
    """A stored date-time as the form shows it: wall time in the schedule's zone."""
    if not value:
        return ""
    when = datetime.fromisoformat(value)
    if when.tzinfo is not None:
        try:
            when = when.astimezone(ZoneInfo(zone))
        except Exception:  # an unknown zone cannot be stored; keep the value as it is
            pass
    return when.strftime("%Y-%m-%d %H:%M")


async def _refusal(call):
    """Await an API call, handing back an engine refusal as a value (field errors are shown in place)."""
    try:
        return await call
    except CampaignsError as error:
        return error


class WeekdayPicker(Widget, can_focus=True):
    """Seven days on one line: ←/→ move, Space toggles (1–7 toggle Monday–Sunday directly)."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous day", show=False, id="weekdays.left"),
        Binding("right", "move(1)", "Next day", show=False, id="weekdays.right"),
        Binding("space,enter", "toggle_day", "Toggle day", id="weekdays.toggle", tooltip="Add or remove the day"),
    ]
    DEFAULT_CSS = """
    WeekdayPicker { height: 1; width: 1fr; background: $boost; }
    WeekdayPicker:focus { background: $surface-lighten-1; }
    """
    DAYS = [d.value for d in Weekday]
    cursor = reactive(0)
    days: reactive[frozenset[str]] = reactive(frozenset())

    class Changed(Message):
        def __init__(self, picker: "WeekdayPicker") -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> "WeekdayPicker":
            return self.picker

    def render(self) -> Text:
        text = Text()
        for i, day in enumerate(self.DAYS):
            mark = "[x]" if day in self.days else "[ ]"
            style = "reverse" if self.has_focus and i == self.cursor else ""
            text.append(f" {mark} {day} ", style=style)
        return text

    def set_days(self, days: list[str]) -> None:
        self.days = frozenset(d for d in days if d in self.DAYS)

    def selected(self) -> list[str]:
        return [d for d in self.DAYS if d in self.days]

    def action_move(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % len(self.DAYS)

    def action_toggle_day(self, index: int | None = None) -> None:
        day = self.DAYS[self.cursor if index is None else index]
        self.days = self.days - {day} if day in self.days else self.days | {day}
        self.post_message(self.Changed(self))

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character in "1234567":
            event.stop()
            self.cursor = int(event.character) - 1
            self.action_toggle_day(self.cursor)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class CampaignFormScreen(Screen[str | None]):
    """Dismissed with the id of the campaign saved, or None when cancelled."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True,
                tooltip="Check every field, then create the campaign or save the draft"),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Leave the form (asks if there are changes)"),
        Binding("ctrl+r", "reload", "Reload", id="form.reload",
                tooltip="Load the campaign again as it is now (after someone else changed it)"),
    ]
    DEFAULT_CSS = """
    CampaignFormScreen #form-title { height: 1; padding: 0 1; text-style: bold; color: $accent; }
    CampaignFormScreen #form-status { height: auto; padding: 0 1; color: $text-muted; }
    CampaignFormScreen #form-status.-bad { color: $error; text-style: bold; }
    CampaignFormScreen #form { height: 1fr; padding: 0 1; }
    CampaignFormScreen .form-section { text-style: bold; color: $accent; margin-top: 1; }
    CampaignFormScreen .form-field { height: auto; }
    CampaignFormScreen .form-row { height: auto; }
    CampaignFormScreen .form-row.-current > .form-label { color: $accent; text-style: bold; }
    CampaignFormScreen .form-label { width: 16; color: $text-muted; }
    CampaignFormScreen .form-row > Input, CampaignFormScreen .form-row > Select { width: 1fr; }
    CampaignFormScreen .form-fixed { width: 1fr; }
    CampaignFormScreen .form-hint { color: $text-muted; margin-left: 16; }
    CampaignFormScreen .form-error { display: none; color: $error; margin-left: 16; height: auto; }
    CampaignFormScreen .form-error.-shown { display: block; }
    CampaignFormScreen #form-buttons { height: auto; margin: 1 0 0 16; }
    CampaignFormScreen #form-buttons Button { margin-right: 2; }
    """

    def __init__(self, campaign_id: str | None = None) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.base: dict = {}  # the editable document the form started from (edit), kept for what it does not show
        self.revision: int | None = None
        self.configs: list = []
        self.audiences: list = []
        self.loaded = False
        self.saving = False
        self._snapshot: tuple | None = None
        self._title = "New campaign" if campaign_id is None else f"Edit {campaign_id}"

    # layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield WorkspaceHeader()
        yield ConnectionBanner()
        yield Static(self._title, id="form-title", markup=False)
        yield Static("Loading…", id="form-status", markup=False)  # carries the engine's messages: never markup
        with VerticalScroll(id="form"):
            yield Static("Campaign", classes="form-section")
            yield self._field("name", "Name", Input(id="f-name", compact=True, placeholder="required"))
            yield self._field("description", "Description", Input(id="f-description", compact=True))
            yield self._field("tags", "Tags", Input(id="f-tags", compact=True, placeholder="comma separated: sale, vip"))
            if self.campaign_id is None:
                yield self._field("type", "Type", Select(TYPES, id="f-type", compact=True, allow_blank=False,
                                                         value="action"))
                yield self._field("category", "Category", Select(CATEGORIES, id="f-category", compact=True,
                                                                 allow_blank=False, value="marketing"))
            else:
                yield self._field("type", "Type", Static("", id="f-type", classes="form-fixed"))
                yield self._field("category", "Category", Static("", id="f-category", classes="form-fixed"))
            yield Static("Delivery", classes="form-section")
            yield self._field("channel", "Channel", Select(CHANNELS, id="f-channel", compact=True, allow_blank=False,
                                                           value="email"))
            yield self._field("config", "Configuration", Select([], id="f-config", compact=True,
                                                                prompt="(none yet: needed to activate)"))
            yield self._field("audience", "Audience", Select([], id="f-audience", compact=True,
                                                             prompt="(none yet: needed to activate)"))
            yield self._field("rate", "Rate (msg/s)", Input(id="f-rate", compact=True,
                                                            placeholder="empty: unthrottled; else 1..2000"))
            yield Static("Schedule", classes="form-section")
            yield self._field("start", "Start", Input(id="f-start", compact=True,
                                                      placeholder="empty: on activation; else YYYY-MM-DD HH:MM"))
            yield self._field("zone", "Time zone", Input(
                "UTC", id="f-zone", compact=True, placeholder="UTC, Europe/Paris, America/New_York…",
                suggester=SuggestFromList(ZONES, case_sensitive=False)))
            yield self._field("frequency", "Recurrence", Select(FREQUENCIES, id="f-frequency", compact=True,
                                                                allow_blank=False, value="none"))
            yield self._field("interval", "Every N", Input("1", id="f-interval", compact=True, type="integer"))
            yield self._field("weekdays", "On weekdays", WeekdayPicker(id="f-weekdays"))
            yield self._field("month_day", "On month day", Input(id="f-month_day", compact=True, type="integer",
                                                                 placeholder="1..31"))
            yield self._field("at", "At (HH:MM)", Input("09:00", id="f-at", compact=True))
            yield self._field("end", "End", Input(id="f-end", compact=True,
                                                  placeholder="empty: until stopped; else YYYY-MM-DD HH:MM"))
            yield Static("Content", classes="form-section")
            yield ContentEditor(id="content")
            with Horizontal(id="form-buttons"):
                yield Button("Save  Ctrl+S", id="save", variant="primary")
                yield Button("Cancel  Esc", id="cancel")
        yield Footer(compact=True)

    @staticmethod
    def _field(key: str, label: str, widget: Widget) -> Vertical:
        return Vertical(Horizontal(Label(label, classes="form-label"), widget, classes="form-row"),
                        Static("", id=f"error-{key}", classes="form-error", markup=False),
                        classes="form-field", id=f"field-{key}")

    def on_mount(self) -> None:
        self.query_one("#f-name").focus()
        self._show_schedule_fields()
        self.load()

    # loading -----------------------------------------------------------------------------
    @work(exclusive=True, group="form-load", description="load the campaign form")
    async def load(self) -> None:
        configs = await host(self).call_api(host(self).client.channel_configurations())
        audiences = await host(self).call_api(host(self).client.audiences())
        if configs is None or audiences is None:
            self._status("Could not load channel configurations and audiences: Ctrl+R tries again", bad=True)
            return
        self.configs, self.audiences = configs, audiences
        document = None
        if self.campaign_id is not None:
            campaign = await host(self).call_api(host(self).client.campaign(self.campaign_id))
            if campaign is None:
                self._status(f"Could not load {self.campaign_id}: Ctrl+R tries again, Esc leaves", bad=True)
                return
            document = editable_document(campaign)
            self._describe(campaign)
        self.fill(document)
        self.loaded = True

    def _describe(self, campaign) -> None:
        if campaign.draft is not None:
            what = f"draft version {campaign.draft.number}, revision {campaign.draft.revision}"
            note = "Ctrl+S saves the draft"
        else:
            what = f"{campaign.status.value} version {campaign.live.number}"
            running = campaign.status.value in ("Live", "Scheduled")
            note = (f"Ctrl+S creates a draft beside the {campaign.status.value} version, which keeps running"
                    if running else f"Ctrl+S creates a new draft from the {campaign.status.value} version")
        self._title = printable(f"Edit {campaign.name} ({campaign.id}) · {what}")
        self._status(note)

    def fill(self, document: dict | None) -> None:
        """Put a document in the form (None: a new campaign); remembers it as the unchanged state."""
        self.base = copy.deepcopy(document) if document else {}
        with self.prevent(Input.Changed, Select.Changed, TextArea.Changed, WeekdayPicker.Changed):
            self._fill_options()
            if document is not None:
                draft = document.get("draft") or {}
                self.revision = draft.get("revision")
                schedule = draft.get("schedule") or {}
                recurrence = schedule.get("recurrence") or {}
                zone = schedule.get("time_zone") or "UTC"
                # Stored by an older version, a name may hold control characters: shown (and saved) visible.
                self._set("name", printable(document.get("name", "")))
                self._set("description", printable(document.get("description", ""), multiline=True))
                self._set("tags", ", ".join(document.get("tags", [])))
                self.query_one("#f-type", Static).update(document["type"])
                self.query_one("#f-category", Static).update(f"{document['category']}  (fixed once created)")
                self.query_one("#f-channel", Select).value = draft.get("channel", "email")
                self._fill_configs(keep=draft.get("channel_configuration"), stored=True)
                self._select("#f-audience", draft.get("audience"), self._audience_options(draft.get("audience")))
                rate = (draft.get("rate_control") or {}).get("messages_per_second")
                self._set("rate", "" if rate is None else str(rate))
                self._set("start", _when_text(schedule.get("start"), zone))
                self._set("zone", zone)
                self.query_one("#f-frequency", Select).value = recurrence.get("frequency") or "none"
                self._set("interval", str(recurrence.get("interval", 1)))
                self.query_one(WeekdayPicker).set_days(recurrence.get("weekdays") or [])
                self._set("month_day", "" if recurrence.get("month_day") is None else str(recurrence["month_day"]))
                self._set("at", (recurrence.get("at") or "09:00")[:5])
                self._set("end", _when_text(schedule.get("end"), zone))
                editor = self.query_one(ContentEditor)
                editor.set_channel(draft.get("channel", "email"))
                editor.load(draft.get("content"))
            else:
                self._fill_configs(auto=True)
            self._show_schedule_fields()
        self.query_one(ContentEditor).check()
        self._snapshot = self._state()
        self._update_dirty()
        if document is None:
            self._status("Ctrl+S creates the campaign as a Draft · Tab / Shift+Tab move between fields · Esc cancels")

    def _fill_options(self) -> None:
        self._select("#f-audience", None, self._audience_options(None))

    def _audience_options(self, keep: str | None) -> list[tuple[str, str]]:
        options = [(f"{a.name} ({a.id})", a.id) for a in self.audiences]
        if keep and keep not in {a.id for a in self.audiences}:
            options.append((f"{keep} (no such audience)", keep))
        return options

    def _fill_configs(self, keep: str | None = None, auto: bool = False, stored: bool = False) -> None:
        """Configurations serving the channel and category; keeps the choice if it still fits (or is the
        ``stored`` one, which the engine will judge), and picks the only one when there is exactly one."""
        channel, category = self._value("channel"), self._category()
        fitting = [c for c in self.configs if c.channel.value == channel and c.category.value == category]
        options = [(f"{c.name} ({c.id}, {c.provider.value})", c.id) for c in fitting]
        if keep and not stored and keep not in {c.id for c in fitting}:
            keep = None
        if keep and keep not in {c.id for c in fitting}:
            options.append((f"{keep} (does not serve {category} {channel})", keep))
        if not keep and auto and len(fitting) == 1:
            keep = fitting[0].id
        self._select("#f-config", keep, options)
        hint = "" if fitting else f"no configuration serves {category} {channel}: an admin must create one"
        self._show_error("config", [hint] if hint and not keep else [])

    def _select(self, selector: str, value: str | None, options: list[tuple[str, str]]) -> None:
        select = self.query_one(selector, Select)
        select.set_options(options)
        select.value = value if value is not None else Select.NULL

    # reading the form --------------------------------------------------------------------
    def _set(self, key: str, value: str) -> None:
        self.query_one(f"#f-{key}", Input).value = value

    def _value(self, key: str) -> str:
        widget = self.query_one(f"#f-{key}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        if isinstance(widget, Input):
            return widget.value.strip()
        return ""

    def _category(self) -> str:
        return self.base["category"] if self.base else self._value("category")

    def _type(self) -> str:
        return self.base["type"] if self.base else self._value("type")

    def _state(self) -> tuple:
        inputs = tuple(w.value for w in self.query("#form Input").results(Input) if w.id and w.id.startswith("f-"))
        selects = tuple(str(w.value) for w in self.query("#form Select").results(Select))
        return inputs + selects + (self.query_one(WeekdayPicker).days,) + self.query_one(ContentEditor).state()

    @property
    def dirty(self) -> bool:
        return self._snapshot is not None and self._state() != self._snapshot

    def _update_dirty(self) -> None:
        host(self).unsaved_edit = self.dirty
        self.query_one("#form-title", Static).update(self._title + ("  · unsaved changes" if self.dirty else ""))

    def document(self) -> tuple[dict, list[dict[str, str]]]:
        """The create/edit document the form holds, and the problems found reading it (bad formats)."""
        problems: list[dict[str, str]] = []
        doc = copy.deepcopy(self.base)
        doc.pop("id", None)
        name = self._value("name")
        if not name:
            problems.append({"field": "name", "message": "required: a campaign needs a name"})
        doc.update(name=name, description=self._value("description"),
                   tags=[t.strip() for t in self._value("tags").split(",") if t.strip()],
                   type=self._type(), category=self._category())
        draft = doc.setdefault("draft", {})
        if self.revision is not None:
            draft["revision"] = self.revision
        channel = self._value("channel")
        content = dict(draft.get("content") or {})
        content.update(self.query_one(ContentEditor).values())
        zone = self._value("zone") or "UTC"
        schedule: dict = {"time_zone": zone, "start": self._when("start", problems)}
        self._flag_past_start(schedule["start"], zone, problems)
        frequency = self._value("frequency")
        if self._type() == "action" and frequency != "none":
            recurrence: dict = {"frequency": frequency, "interval": self._number("interval", problems, default=1)}
            if frequency == "weekly":
                recurrence["weekdays"] = self.query_one(WeekdayPicker).selected()
            if frequency == "monthly":
                recurrence["month_day"] = self._number("month_day", problems)
            if frequency != "hourly":
                recurrence["at"] = self._time("at", problems)
            schedule["recurrence"] = recurrence
            schedule["end"] = self._when("end", problems)
        rate = self._value("rate")
        rate_control = None
        if rate:
            number = self._number("rate", problems, "a whole number of messages per second, from 1 to 2000")
            rate_control = None if number is None else {"messages_per_second": number}
        draft.update(channel=channel, channel_configuration=self._value("config") or None,
                     audience=self._value("audience") or None, content=content,
                     schedule={k: v for k, v in schedule.items() if v is not None}, rate_control=rate_control)
        return doc, problems

    def _when(self, key: str, problems: list) -> str | None:
        text = self._value(key)
        if not text:
            return None
        for pattern in WHEN_FORMATS:
            try:
                return datetime.strptime(text, pattern).isoformat()
            except ValueError:
                continue
        side = "above" if FIELD_ORDER.index(key) > FIELD_ORDER.index("zone") else "below"
        problems.append({"field": key, "message": f"{text!r} is not a date-time: write YYYY-MM-DD HH:MM, "
                                                  f"e.g. 2026-12-01 09:00, in the time zone {side}"})
        return None

    def _flag_past_start(self, start: str | None, zone: str, problems: list) -> None:
        """A start typed now that is already past would be refused at activation: say so at once. A start kept
        from the stored draft is left alone (a live campaign's draft keeps the start it already had)."""
        kept = ((self.base.get("draft") or {}).get("schedule") or {}).get("start")
        if start is None or zone not in available_timezones() or (kept and kept[:16] == start[:16]):
            return
        when = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(zone))
        now = host(self).now()
        if when < now:
            problems.append({"field": "start", "message": f"{start[:16].replace('T', ' ')} is in the past (it is "
                             f"{now.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} in {zone}): choose a later time, "
                             "or leave it empty to start when activated"})

    def _time(self, key: str, problems: list) -> str | None:
        text = self._value(key) or "09:00"
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return f"{int(match[1]):02d}:{match[2]}"
        problems.append({"field": key, "message": f"{text!r} is not a time of day: write HH:MM, e.g. 09:30"})
        return None

    def _number(self, key: str, problems: list, what: str = "a whole number", default: int | None = None) -> int | None:
        text = self._value(key)
        if not text and default is not None:
            return default
        try:
            return int(text)
        except ValueError:
            problems.append({"field": key, "message": f"{text!r} is not {what}" if text else f"required: {what}"})
            return None

    # errors ------------------------------------------------------------------------------
    def _show_error(self, key: str, messages: list[str]) -> None:
        line = self.query_one(f"#error-{key}", Static)
        line.update("\n".join(f"✗ {m}" for m in messages))
        line.set_class(bool(messages), "-shown")

    def show_errors(self, errors: list[dict[str, str]]) -> list[dict[str, str]]:
        """Each message under its field; returns those that name no field on the form."""
        by_field: dict[str, list[str]] = {}
        rest = self.query_one(ContentEditor).show_errors(errors)
        unplaced = []
        for error in rest:
            key = form_field(error.get("field", ""), error.get("message", ""))
            key = error["field"] if key is None and error.get("field") in FIELD_ORDER else key
            if key is None:
                unplaced.append(error)
            elif error["message"] not in by_field.get(key, []):
                by_field.setdefault(key, []).append(error["message"])
        for key in FIELD_ORDER:
            self._show_error(key, by_field.get(key, []))
        first = next((k for k in FIELD_ORDER if k in by_field and self.query_one(f"#field-{k}").display), None)
        target = self.query_one(f"#f-{first}") if first else self.query_one(ContentEditor).first_error_widget()
        if target is not None and target.focusable:
            target.focus()
        elif target is not None:
            target.scroll_visible()
        return unplaced

    def _status(self, text: str, *, bad: bool = False) -> None:
        status = self.query_one("#form-status", Static)
        status.update(printable(text, multiline=True))
        status.set_class(bad, "-bad")

    # reacting to edits -------------------------------------------------------------------
    @on(Select.Changed, "#f-channel")
    def _channel_changed(self, event: Select.Changed) -> None:
        self._fill_configs(keep=self._value("config") or None, auto=True)
        self.query_one(ContentEditor).set_channel(self._value("channel"))

    @on(Select.Changed, "#f-category")
    def _category_changed(self) -> None:
        self._fill_configs(keep=self._value("config") or None, auto=True)

    @on(Select.Changed, "#f-type")
    @on(Select.Changed, "#f-frequency")
    def _schedule_shape_changed(self) -> None:
        self._show_schedule_fields()

    def _show_schedule_fields(self) -> None:
        action = self._type() == "action"
        frequency = self._value("frequency") if action else "none"
        shown = {
            "frequency": action, "interval": frequency != "none", "weekdays": frequency == "weekly",
            "month_day": frequency == "monthly", "at": frequency not in ("none", "hourly"), "end": frequency != "none",
        }
        for key, visible in shown.items():
            self.query_one(f"#field-{key}").display = visible
        if frequency in UNITS:
            self.query_one("#field-interval Label", Label).update(f"Every N {UNITS[frequency]}")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    @on(WeekdayPicker.Changed)
    def _edited(self, event: Message) -> None:
        if self._snapshot is None:
            return
        self._update_dirty()
        control = getattr(event, "control", None)
        key = (control.id or "").removeprefix("f-") if control is not None else ""
        if key in FIELD_ORDER and key != "config":
            self._show_error(key, [])  # what was wrong is being fixed

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The label of the field being edited stands out (``:focus-within`` is not re-evaluated on siblings)."""
        row = next((n for n in event.widget.ancestors_with_self if n.has_class("form-row")), None)
        for other in self.query(".form-row.-current"):
            if other is not row:
                other.remove_class("-current")
        if row is not None:
            row.add_class("-current")

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "reload":
            return self.campaign_id is not None
        if action == "save":
            return True if self.loaded else None
        return True

    @work(exclusive=True, group="form-save", description="save the campaign")
    async def action_save(self) -> None:
        if not self.loaded or self.saving:
            return
        doc, problems = self.document()
        try:
            edit = edit_from_file_document(doc)
        except ValidationFailed as error:
            problems = self._merge(problems, error.errors or [{"field": "(document)", "message": error.detail}])
            edit = None
        if problems or edit is None:  # a document that does not parse is among the problems
            problems = self._merge(problems, self.query_one(ContentEditor).last_errors)  # counted, and shown
            self._refused(problems, f"{len(problems)} problem{'s' if len(problems) > 1 else ''}: "
                                    "fix the fields marked ✗ and save again (Ctrl+S)")
            return
        self.saving = True
        self._status("Saving…")
        client = host(self).client
        call = client.create_campaign(edit) if self.campaign_id is None else client.edit_draft(self.campaign_id, edit)
        result = await host(self).call_api(_refusal(call))
        self.saving = False
        if result is None:
            self._status("Not saved: the engine cannot be reached. Nothing you typed is lost; Ctrl+S tries again.",
                         bad=True)
            return
        if isinstance(result, CampaignsError):
            errors = getattr(result, "errors", None) or []
            if errors:
                self._refused(errors, f"Not saved: {result.title.lower()}: fix the fields marked ✗ and save again")
            else:
                self.show_errors([])
                hint = " Ctrl+R reloads it (your changes are replaced)." if result.problem == "stale-revision" else ""
                self._status(f"Not saved: {result.detail}.{hint}", bad=True)
                self.notify(result.detail, title=result.title, severity="error", timeout=10)
            return
        version = result.draft or result.live
        done = "created as a Draft" if self.campaign_id is None else f"draft version {version.number} saved"
        self.notify(f"{result.name} ({result.id}) {done}", title="Saved")
        self._leave(result.id)

    def _merge(self, local: list[dict], model: list[dict]) -> list[dict]:
        """Local format problems win over the model's for the same field; a hidden consequence is dropped."""
        taken = {p["field"] for p in local}
        recurring = self._type() == "action" and self._value("frequency") != "none"
        out = list(local)
        for error in model:
            key = form_field(error.get("field", ""), error.get("message", "")) or error.get("field")
            if key in taken:
                continue
            if recurring and key == "end" and "only applies to a recurring campaign" in error["message"]:
                continue  # the recurrence itself is wrong, and says so
            out.append(error)
        return out

    def _refused(self, errors: list[dict], summary: str) -> None:
        unplaced = self.show_errors(errors)
        for error in unplaced:
            self.notify(f"{error['field']}: {error['message']}", title="Not saved", severity="error", timeout=10)
        self._status(summary + ("".join(f" · {e['field']}: {e['message']}" for e in unplaced)), bad=True)

    def action_cancel(self) -> None:
        if not self.dirty:
            self._leave(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self._leave(None)

        self.app.push_screen(ConfirmDialog("Discard changes?", "The form has changes that are not saved. "
                                           "Leave and lose them?", "Discard changes", danger=True), answer)

    def action_reload(self) -> None:
        if self.campaign_id is None:
            return

        def answer(reload: bool | None) -> None:
            if reload:
                self.show_errors([])
                self.loaded = False
                self._status("Loading…")
                self.load()

        if not self.dirty:
            answer(True)
            return
        self.app.push_screen(ConfirmDialog("Reload the campaign?", "The form is filled again with the campaign as "
                                           "it is now; your changes are replaced.", "Reload", danger=True), answer)

    def _leave(self, result: str | None) -> None:
        host(self).unsaved_edit = False
        self.dismiss(result)

    def on_unmount(self) -> None:
        host(self).unsaved_edit = False
