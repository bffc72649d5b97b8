"""The content of a campaign for its channel, with templates checked by the engine as they are typed.

Each change (debounced) sends the channel's fields to ``client.check_content`` in an exclusive
worker; errors come back as ``{"field": "draft.content.email.subject", "message": "line 1, column 7: …"}``
and are shown under the field they name. Fields of the other channels are kept while hidden, so
switching the channel back and forth loses nothing.
"""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from store.errors import ValidationFailed

from ..host import host

# channel -> (field name, label, multi-line height or 0 for one line)
CHANNEL_FIELDS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "email": (("subject", "Subject", 0), ("preheader", "Preheader", 0), ("body", "Body", 8)),
    "sms": (("text", "Text", 4),),
    "push": (("title", "Title", 0), ("body", "Body", 4)),
}
HELP = 'Personalize: {{profile.person.name.firstName | default: "friend"}} · {{context.orderId}}'
DEBOUNCE_SECONDS = 0.15


def field_id(channel: str, name: str) -> str:
    return f"content-{channel}-{name}"


class ContentEditor(Vertical):
    """``channel`` selects which fields show; ``values()`` gives them as the API's ``content`` wants."""

    DEFAULT_CSS = """
    ContentEditor { height: auto; }
    ContentEditor .content-help { color: $text-muted; margin-left: 16; }
    ContentEditor .content-channel { height: auto; }
    ContentEditor .form-row { height: auto; }
    ContentEditor .form-row.-current > .form-label { color: $accent; text-style: bold; }
    ContentEditor .form-label { width: 16; color: $text-muted; }
    ContentEditor .form-row > Input { width: 1fr; }
    ContentEditor .form-row > TextArea { width: 1fr; background: $boost; }
    ContentEditor .form-error { display: none; color: $error; margin-left: 16; height: auto; }
    ContentEditor .form-error.-shown { display: block; }
    ContentEditor #template-status { margin-left: 16; height: 1; color: $text-muted; }
    ContentEditor #template-status.-ok { color: $success; }
    ContentEditor #template-status.-bad { color: $error; }
    """

    def __init__(self, channel: str = "email", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._channel = channel
        self.last_errors: list[dict[str, str]] = []

    def compose(self) -> ComposeResult:
        yield Static(HELP, classes="content-help", markup=False)
        for channel, fields in CHANNEL_FIELDS.items():
            with Vertical(classes="content-channel", id=f"content-{channel}") as box:
                box.display = channel == self._channel
                for name, label, height in fields:
                    if height:
                        widget: Widget = TextArea(id=field_id(channel, name), soft_wrap=True, compact=True,
                                                  show_line_numbers=channel == "email", tab_behavior="focus")
                        widget.styles.height = height
                    else:
                        widget = Input(id=field_id(channel, name), compact=True)
                    yield Horizontal(Label(label, classes="form-label"), widget, classes="form-row")
                    yield Static("", id=f"error-{field_id(channel, name)}", classes="form-error", markup=False)
        yield Static("", id="template-status", markup=False)

    # values ------------------------------------------------------------------------------
    @property
    def channel(self) -> str:
        return self._channel

    def set_channel(self, channel: str) -> None:
        if channel == self._channel:
            return
        self._channel = channel
        for name in CHANNEL_FIELDS:
            self.query_one(f"#content-{name}").display = name == channel
        self.check()

    def _widget(self, channel: str, name: str) -> Input | TextArea:
        return self.query_one(f"#{field_id(channel, name)}")  # type: ignore[return-value]

    def _value(self, channel: str, name: str) -> str:
        widget = self._widget(channel, name)
        return widget.value if isinstance(widget, Input) else widget.text

    def load(self, content: dict | None) -> None:
        """Fill every channel present in a version's ``content``; the others stay as they are."""
        for channel, fields in (content or {}).items():
            if channel not in CHANNEL_FIELDS or not fields:
                continue
            for name, _label, _height in CHANNEL_FIELDS[channel]:
                widget = self._widget(channel, name)
                text = str(fields.get(name) or "")
                if isinstance(widget, Input):
                    widget.value = text
                else:
                    widget.load_text(text)

    def values(self) -> dict[str, dict[str, str]]:
        """The current channel's fields, as ``Content`` takes them: ``{"email": {"subject": …}}``."""
        return {self._channel: {name: self._value(self._channel, name) for name, _l, _h in CHANNEL_FIELDS[self._channel]}}

    def state(self) -> tuple:
        """Everything typed, in every channel (for "are there unsaved changes")."""
        return tuple(self._value(c, n) for c, fields in CHANNEL_FIELDS.items() for n, _l, _h in fields)

    # errors ------------------------------------------------------------------------------
    def show_errors(self, errors: list[dict[str, str]]) -> list[dict[str, str]]:
        """Show template errors under their fields; returns the errors that name no field of ours."""
        shown: dict[str, list[str]] = {}
        rest = []
        for error in errors:
            path = error.get("field", "").removeprefix("draft.").removeprefix("version.")
            parts = path.split(".")
            if len(parts) >= 3 and parts[0] == "content" and parts[1] in CHANNEL_FIELDS and any(
                    parts[2] == n for n, _l, _h in CHANNEL_FIELDS[parts[1]]):
                shown.setdefault(field_id(parts[1], parts[2]), []).append(error["message"])
            else:
                rest.append(error)
        for channel, fields in CHANNEL_FIELDS.items():
            for name, _l, _h in fields:
                fid = field_id(channel, name)
                messages = shown.get(fid, [])
                error_line = self.query_one(f"#error-{fid}", Static)
                error_line.update("\n".join(f"✗ {m}" for m in messages))
                error_line.set_class(bool(messages), "-shown")
        return rest

    def first_error_widget(self) -> Widget | None:
        for name, _l, _h in CHANNEL_FIELDS[self._channel]:
            if self.query_one(f"#error-{field_id(self._channel, name)}").has_class("-shown"):
                return self._widget(self._channel, name)
        return None

    def _status(self, text: str, state: str = "") -> None:
        status = self.query_one("#template-status", Static)
        status.update(text)
        status.set_class(state == "ok", "-ok")
        status.set_class(state == "bad", "-bad")

    # the live check ----------------------------------------------------------------------
    @on(Input.Changed)
    @on(TextArea.Changed)
    def _typed(self) -> None:
        self.check()

    async def _errors(self) -> list[dict[str, str]]:
        """Template errors; a field over the content limit is refused (422) and shown under it the same way."""
        try:
            return (await host(self).client.check_content(self.values())).errors
        except ValidationFailed as error:
            return error.errors or [{"field": "draft.content", "message": error.detail}]

    @work(exclusive=True, group="content-check", description="check templates")
    async def check(self) -> None:
        """Ask the engine whether the current channel's templates parse (a newer keystroke cancels this)."""
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self._status("checking templates…")
        errors = await host(self).call_api(self._errors(), quiet=True)
        if errors is None:
            self._status("templates not checked: the engine did not answer (they are checked again on save)", "bad")
            return
        self.last_errors = errors
        rest = self.show_errors(errors)
        if not errors:
            self._status("✓ templates OK", "ok")
        else:
            count = f"{len(errors)} template error{'s' if len(errors) > 1 else ''}"
            self._status(f"✗ {count}" + (": " + "; ".join(e["message"] for e in rest) if rest else ""), "bad")
