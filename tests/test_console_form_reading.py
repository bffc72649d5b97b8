"""The campaign form reads right: a refused save focuses the first error on screen, and a date-time's message
points to the time zone field where it is (below the start, above the end)."""

from __future__ import annotations

from textual.widgets import Select

from .console_support import settle
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
