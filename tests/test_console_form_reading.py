"""The campaign form reads right: a refused save focuses the first error on screen, and a date-time's message
points to the time zone field where it is (below the start, above the end)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from textual.widgets import Input, Select, Static

from console.widgets.content_editor import ContentEditor

from .console_support import settle, wait_for
from .test_console_form import console, demo_dir, error_text, open_form, set_input, workspace_dir  # noqa: F401


async def test_a_refused_save_focuses_the_first_error_on_screen_and_points_to_the_zone(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        set_input(form, "name", "Reads right")
        set_input(form, "rate", "abc")  # on screen above the start
        form.query_one("#f-frequency", Select).value = "daily"
        await pilot.pause()
        set_input(form, "start", "soon")
        set_input(form, "end", "later")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#f-rate").has_focus
        assert error_text(form, "start").endswith("in the time zone below")
        assert error_text(form, "end").endswith("in the time zone above")


async def test_the_problem_count_includes_template_errors(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        form = await open_form(pilot)
        set_input(form, "name", "Counted")
        set_input(form, "rate", "abc")
        form.query_one("#content-email-subject", Input).value = "Hello {{profile.person.name.firstName"
        await wait_for(pilot, lambda: form.query_one(ContentEditor).last_errors, "the live template check")
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = str(form.query_one("#form-status", Static).render())
        assert status.startswith("2 problems:"), status
        assert error_text(form, "content-email-subject") and error_text(form, "rate")


async def test_a_start_typed_in_the_past_is_flagged_before_anything_is_sent(workspace_dir):
    async with console(workspace_dir) as (app, pilot, client):
        before = len(await client.list_campaigns())
        form = await open_form(pilot)
        set_input(form, "name", "Yesterday's news")
        past = (app.now() - timedelta(days=1)).astimezone(ZoneInfo("UTC"))
        form.query_one("#f-zone", Input).value = "UTC"
        set_input(form, "start", f"{past:%Y-%m-%d %H:%M}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "is in the past" in error_text(form, "start")
        assert "leave it empty to start when activated" in error_text(form, "start")
        assert len(await client.list_campaigns()) == before
