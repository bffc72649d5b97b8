"""Add or edit one approval policy: each list is typed comma-separated; Save sends it, Escape cancels.

The dialog saves through the client itself, so a refused save (an id that exists, an unknown role, a role
that may not manage policies) is shown here in the engine's words and everything typed stays to be fixed.
"""

from __future__ import annotations

import httpx
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from store.errors import CampaignsError
from store.models import ApprovalPolicy
from store.text import printable

from ..host import host
from ..policy_commands import policy_from_document

# (input id, label, where it goes in the policy document, placeholder)
LIST_FIELDS = (
    ("types", "Types", "conditions", "any type; else action, api, orchestrated"),
    ("categories", "Categories", "conditions", "any category; else marketing, transactional"),
    ("channels", "Channels", "conditions", "any channel; else email, sms, push"),
    ("tags", "Tags", "conditions", "any tags; else campaigns with one of: vip, sale"),
    ("users", "Approver users", "approvers", "user names: dmitri, fatima"),
    ("roles", "Approver roles", "approvers", "any user with a role: approver, admin"),
)


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _joined(values: list) -> str:
    return ", ".join(str(getattr(v, "value", v)) for v in values)


class PolicyDialog(ModalScreen[ApprovalPolicy | None]):
    """``policy`` None adds a new one (its id typed here); otherwise edits it (the id cannot change)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
                Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True)]
    DEFAULT_CSS = """
    PolicyDialog .policy-row { height: 1; margin-bottom: 1; }
    PolicyDialog .policy-label { width: 16; color: $text-muted; }
    PolicyDialog .policy-row > Input { width: 1fr; }
    PolicyDialog Checkbox { margin-left: 16; }
    """

    def __init__(self, policy: ApprovalPolicy | None = None) -> None:
        super().__init__(classes="dialog")
        self.policy = policy
        self.saving = False

    def compose(self) -> ComposeResult:
        p = self.policy
        with Vertical(classes="dialog-box"):
            yield Static("New approval policy" if p is None else printable(f"Edit approval policy {p.id}"),
                         classes="dialog-title", markup=False)
            if p is None:
                yield self._row("Id", Input(id="policy-id", compact=True, placeholder="lowercase, digits, dashes"))
            yield self._row("Name", Input("" if p is None else p.name, id="policy-name", compact=True))
            for key, label, part, hint in LIST_FIELDS:
                values = [] if p is None else getattr(getattr(p, part), key)
                yield self._row(label, Input(_joined(values), id=f"policy-{key}", compact=True, placeholder=hint))
            yield Checkbox("Block self-approval (by the requester or last editor)",
                           True if p is None else p.block_self_approval, id="policy-block-self", compact=True)
            yield Checkbox("Enabled", True if p is None else p.enabled, id="policy-enabled", compact=True)
            yield Static("", id="policy-error", classes="field-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save  Ctrl+S", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @staticmethod
    def _row(label: str, field: Input) -> Horizontal:
        return Horizontal(Label(label, classes="policy-label"), field, classes="policy-row")

    def on_mount(self) -> None:
        self.query_one("#policy-id" if self.policy is None else "#policy-name", Input).focus()

    def _value(self, key: str) -> str:
        return self.query_one(f"#policy-{key}", Input).value

    def document(self) -> dict:
        """The policy as typed, in the shape ``campaigns policies add --file`` reads."""
        document: dict = {"id": self._value("id").strip() if self.policy is None else self.policy.id,
                          "name": self._value("name").strip(), "conditions": {}, "approvers": {},
                          "block_self_approval": self.query_one("#policy-block-self", Checkbox).value,
                          "enabled": self.query_one("#policy-enabled", Checkbox).value}
        for key, _label, part, _hint in LIST_FIELDS:
            document[part][key] = _items(self._value(key))
        return document

    def _refused(self, message: str) -> None:
        self.query_one("#policy-error", Static).update(printable(message))

    @work(exclusive=True, group="policy-save", description="save the approval policy")
    async def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        client = host(self).client
        try:
            policy = policy_from_document(self.document())
            saved = await (client.add_approval_policy(policy) if self.policy is None
                           else client.put_approval_policy(policy))
        except CampaignsError as error:
            self._refused(error.detail)
            return
        except httpx.TransportError as error:
            self._refused(f"the engine cannot be reached ({error or type(error).__name__}); try Save again")
            return
        finally:
            self.saving = False
        self.dismiss(saved)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
