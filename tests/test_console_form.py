"""The campaign form, driven with Textual's Pilot over a real demo workspace."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from textual.widgets import Input, Select, Static, TextArea

from console.app import CampaignsApp
from console.dialogs.confirm import ConfirmDialog
from console.screens.campaign_form import CampaignFormScreen, WeekdayPicker, form_field
from console.screens.campaign_list import CampaignListScreen
from console.widgets.campaign_table import CampaignTable
from store.api.identity import USER_HEADER
from store.client import CampaignsClient, edit_from_file_document
from store.embedded import connect
from store.listing import CampaignFilter
from store.models import editable_document

from .console_support import copy_workspace, seeded_by_cli, settle


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    return seeded_by_cli(tmp_path_factory.mktemp("console-form") / "demo")


@pytest.fixture
async def workspace_dir(demo_dir, tmp_path):
    return copy_workspace(demo_dir, tmp_path / "ws")


def as_user(client: CampaignsClient, name: str) -> CampaignsClient:
    """Another person on the same in-process engine (the workspace is open once per process)."""
    return CampaignsClient(httpx.AsyncClient(transport=client.http._transport, base_url=client.http.base_url,
                                             headers={USER_HEADER: name}))


@asynccontextmanager
async def console(workspace_dir, user="alice", size=(120, 36)):
    async with connect(workspace_dir, user) as client:
        app = CampaignsApp(client, refresh_seconds=3600)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            yield app, pilot, client


async def campaign_id(client: CampaignsClient, name: str) -> str:
    rows = await client.list_campaigns(CampaignFilter(all=True))
    return next(r.id for r in rows if r.name == name)


async def open_form(pilot, key: str = "n") -> CampaignFormScreen:
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, CampaignFormScreen)
    assert form.loaded
    return form


def error_text(form, key: str) -> str:
    line = form.query_one(f"#error-{key}", Static)
    return str(line.render()) if line.has_class("-shown") else ""


def set_input(form, key: str, value: str) -> None:
    form.query_one(f"#f-{key}", Input).value = value


async def fill_valid(form, pilot, name: str) -> None:
    set_input(form, "name", name)
    set_input(form, "tags", "spring, test")
    form.query_one("#f-audience", Select).value = "everyone"
    await pilot.pause()
    form.query_one("#content-email-subject", Input).value = 'Hello {{profile.person.name.firstName | default: "friend"}}'
    form.query_one("#content-email-body", TextArea).load_text("Our spring news.\n\nThe Shop team")
    await settle(pilot)


async def test_invalid_input_shows_field_messages_and_stays(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        assert form.query_one("#f-name").has_focus
        set_input(form, "rate", "5000")
        set_input(form, "zone", "Europe/Pariss")
        form.query_one("#f-frequency", Select).value = "daily"
        await pilot.pause()
        set_input(form, "start", "2026-12-10 09:00")
        set_input(form, "end", "2026-12-01 09:00")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert app.screen is form
        assert "required" in error_text(form, "name")
        assert "between 1 and 2000" in error_text(form, "rate")
        assert "unknown time zone 'Europe/Pariss'" in error_text(form, "zone")
        assert "not after start" in error_text(form, "end")
        assert "problems" in str(form.query_one("#form-status", Static).render())
        assert form.query_one("#f-name").has_focus  # the first field in error
        # nothing typed is lost
        assert form.query_one("#f-rate", Input).value == "5000"
        assert form.query_one("#f-end", Input).value == "2026-12-01 09:00"
        assert app.unsaved_edit

        # fixing a field clears its message as it is typed; formats are explained in words
        set_input(form, "rate", "200")
        set_input(form, "start", "next tuesday")
        form.query_one("#f-frequency", Select).value = "weekly"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_text(form, "rate") == ""
        assert "write YYYY-MM-DD HH:MM" in error_text(form, "start")
        assert "at least one weekday" in error_text(form, "weekdays")
        assert error_text(form, "end") == ""  # the recurrence is what is wrong
        assert len([c for c in await client.list_campaigns(CampaignFilter(all=True))]) == 43


async def test_valid_new_campaign_is_created_and_selected(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        await fill_valid(form, pilot, "Spring news")
        form.query_one("#f-frequency", Select).value = "weekly"
        await pilot.pause()
        form.query_one(WeekdayPicker).focus()
        await pilot.press("space", "right", "right", "space")  # MO and WE
        set_input(form, "start", "2026-12-07 08:00")
        set_input(form, "zone", "Europe/Paris")
        set_input(form, "at", "8:30")
        set_input(form, "rate", "150")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(app.screen, CampaignListScreen)
        assert not app.unsaved_edit
        created = await client.campaign(await campaign_id(client, "Spring news"))
        assert created.status.value == "Draft" and created.tags == ["spring", "test"]
        draft = created.draft
        assert draft.channel_configuration == "email-marketing"  # the only one serving marketing email
        assert draft.audience == "everyone" and draft.rate_control.messages_per_second == 150
        assert [d.value for d in draft.schedule.recurrence.weekdays] == ["MO", "WE"]
        assert draft.schedule.recurrence.at.strftime("%H:%M") == "08:30"
        assert draft.schedule.start.isoformat() == "2026-12-07T08:00:00+01:00"
        assert draft.content.email.subject.startswith("Hello {{profile")
        assert app.screen.query_one(CampaignTable).selected.name == "Spring news"


async def test_channel_and_type_change_the_fields(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        form.query_one("#f-channel", Select).value = "sms"
        form.query_one("#f-category", Select).value = "transactional"
        await pilot.pause()
        assert form.query_one("#f-config", Select).value == "sms-transactional"
        assert form.query_one("#content-sms").display and not form.query_one("#content-email").display
        form.query_one("#f-type", Select).value = "api"
        await pilot.pause()
        assert not form.query_one("#field-frequency").display  # recurrence is for action campaigns
        set_input(form, "name", "Order code")
        form.query_one("#content-sms-text", TextArea).load_text("Your code: {{context.code}}")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        created = await client.campaign(await campaign_id(client, "Order code"))
        assert created.type.value == "api" and created.draft.content.sms.text == "Your code: {{context.code}}"
        assert created.draft.content.email is None


async def test_edit_on_live_campaign_creates_the_draft_beside_it(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        cid = await campaign_id(client, "Daily deals SMS")
        before = await client.campaign(cid)
        assert before.status.value == "Live" and before.draft is None
        app.screen.query_one(CampaignTable).select_id(cid)
        form = await open_form(pilot, "e")
        assert "creates a draft beside the Live version" in str(form.query_one("#form-status", Static).render())
        assert form.query_one("#f-name", Input).value == "Daily deals SMS"
        assert form.query_one("#f-zone", Input).value == "America/New_York"
        assert form.query_one("#f-frequency", Select).value == "daily"
        assert form.query_one("#f-at", Input).value == "08:30"
        assert form.query_one("#f-rate", Input).value == "50"
        assert "marketing" in str(form.query_one("#f-category", Static).render())  # fixed, shown read-only
        assert not app.unsaved_edit
        text = form.query_one("#content-sms-text", TextArea)
        text.load_text("SHOP: today's deals, {{profile.person.name.firstName | default: \"friend\"}}. STOP to opt out")
        await settle(pilot)
        assert app.unsaved_edit
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(app.screen, CampaignListScreen)
        after = await client.campaign(cid)
        assert after.status.value == "Live" and after.live.number == before.live.number
        assert after.draft is not None and after.draft.content.sms.text.startswith("SHOP: today's deals")
        assert after.draft.schedule == before.live.schedule  # what was not touched stays as it was
        table = app.screen.query_one(CampaignTable)
        assert table.selected.id == cid and table.selected.has_draft


async def test_template_typo_is_shown_live_with_line_and_column(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        subject = form.query_one("#content-email-subject", Input)
        subject.focus()
        await pilot.press(*"Hi {{profil.x}}")
        await settle(pilot)
        assert subject.value == "Hi {{profil.x}}"
        error = error_text(form, "content-email-subject")
        assert "line 1, column 6" in error and "unknown root 'profil'" in error
        assert "1 template error" in str(form.query_one("#template-status", Static).render())

        body = form.query_one("#content-email-body", TextArea)
        body.load_text("Hello\n{{ profile.person | }}")
        await settle(pilot)
        assert "line 2, column" in error_text(form, "content-email-body")

        subject.value = "Hi {{profile.person.name.firstName}}"
        body.load_text("Hello")
        await settle(pilot)
        assert error_text(form, "content-email-subject") == ""
        assert "templates OK" in str(form.query_one("#template-status", Static).render())


async def test_stale_revision_is_refused_with_who_changed_it(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        cid = await campaign_id(client, "Q1 product survey")
        app.screen.query_one(CampaignTable).select_id(cid)
        form = await open_form(pilot, "e")
        set_input(form, "description", "Survey of our beta testers")
        await pilot.pause()

        bruno = as_user(client, "bruno")
        doc = editable_document(await bruno.campaign(cid))
        doc["draft"]["rate_control"] = {"messages_per_second": 10}
        await bruno.edit_draft(cid, edit_from_file_document(doc))

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        status = str(form.query_one("#form-status", Static).render())
        assert "changed by bruno" in status and "Ctrl+R" in status
        assert form.query_one("#f-description", Input).value == "Survey of our beta testers"
        assert (await client.campaign(cid)).description != "Survey of our beta testers"

        await pilot.press("ctrl+r")  # reload: asks, since the form has changes
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("left", "enter")  # Reload (Cancel is focused: the changes would be replaced)
        await settle(pilot)
        assert form.query_one("#f-rate", Input).value == "10"
        set_input(form, "description", "Survey of our beta testers")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await client.campaign(cid)).description == "Survey of our beta testers"
        await bruno.aclose()


async def test_engine_refusal_lands_under_its_field(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        await fill_valid(form, pilot, "Beta digest")
        form.query_one("#f-audience", Select).value = "beta-testers"
        root = as_user(client, "root")
        await root.remove_audience("beta-testers")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "no audience 'beta-testers'" in error_text(form, "audience")
        assert form.query_one("#f-name", Input).value == "Beta digest"
        await root.aclose()


async def test_escape_with_changes_asks_before_discarding(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        await pilot.press("escape")  # nothing typed: leaves at once
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)

        form = await open_form(pilot)
        await pilot.press(*"Draft")
        await pilot.pause()
        assert app.unsaved_edit
        assert "unsaved changes" in str(form.query_one("#form-title", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert app.screen.title_text == "Discard changes?"
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-name", Input).value == "Draft"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("left", "enter")  # discard (Cancel is focused)
        await settle(pilot)
        assert isinstance(app.screen, CampaignListScreen)
        assert not app.unsaved_edit


async def test_tab_moves_between_fields(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        await pilot.press("tab")
        assert form.query_one("#f-description").has_focus
        await pilot.press("tab", "tab")
        assert form.query_one("#f-type").has_focus
        await pilot.press("shift+tab")
        assert form.query_one("#f-tags").has_focus


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_form_fits_small_terminals(workspace_dir, size, tmp_path):
    async with console(workspace_dir, size=size) as (app, pilot, client):
        cid = await campaign_id(client, "Weekly newsletter")
        app.screen.query_one(CampaignTable).select_id(cid)
        form = await open_form(pilot, "e")
        assert form.query_one("#f-frequency", Select).value == "weekly"
        assert form.query_one(WeekdayPicker).selected() == ["MO"]
        assert "draft version" in str(form.query_one("#form-title", Static).render())
        app.save_screenshot(str(tmp_path / "form.svg"))
        scroll = form.query_one("#form")
        assert scroll.size.height >= size[1] - 6
        form.query_one("#content-email-body").focus()
        await pilot.pause()
        assert scroll.scroll_y > 0  # the focused field is scrolled into view


def test_error_paths_map_to_form_fields():
    assert form_field("draft.schedule.end", "x") == "end"
    assert form_field("draft.rate_control.messages_per_second", "x") == "rate"
    assert form_field("tags.2", "x") == "tags"
    assert form_field("schedule.recurrence", "a recurrence only applies to action campaigns") == "frequency"
    assert form_field("draft.schedule.recurrence", "a weekly recurrence needs at least one weekday") == "weekdays"
    assert form_field("draft.schedule.recurrence", "a monthly recurrence needs month_day (1..31)") == "month_day"
    assert form_field("draft.audience", "x") == "audience"
    assert form_field("(document)", "x") is None
