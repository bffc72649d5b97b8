"""Keys never lose work: every way to quit asks about an unsaved edit, and an irreversible action's confirmation
opens on Cancel, so a key typed on (`S` then Enter) does nothing final. Driven with Pilot over a seeded demo."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from console.dialogs.confirm import ConfirmDialog
from console.screens.campaign_form import CampaignFormScreen
from console.screens.campaign_list import CampaignListScreen
from console.widgets.campaign_table import CampaignTable
from store.models import Status

from .console_support import console, copy_workspace, frozen, open_dialog, seed_demo, settle, wait_for


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("console-keys") / "demo", frozen())


@pytest.fixture
def data(demo, tmp_path):
    return copy_workspace(demo, tmp_path / "ws")


def status_of(app, name: str) -> Status:
    return next(r.status for r in app.screen.all_rows if r.name == name)


async def select(pilot, name: str) -> None:
    table = pilot.app.screen.query_one(CampaignTable)
    table.select_id(next(r.id for r in table.rows if r.name == name))
    await pilot.pause()


async def open_form_with_an_edit(pilot) -> CampaignFormScreen:
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CampaignFormScreen) and pilot.app.screen.loaded,
                   "the new-campaign form")
    form = pilot.app.screen
    form.query_one("#f-name", Input).value = "Half typed"
    await wait_for(pilot, lambda: pilot.app.unsaved_edit, "the form to count as an unsaved edit")
    return form


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_ctrl_q_and_ctrl_c_ask_before_dropping_an_edit_and_enter_keeps_it(data, key):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            form = await open_form_with_an_edit(pilot)
            form.query_one("#f-name", Input).focus()  # over an input, Ctrl+C would otherwise only copy
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the quit question")
            assert app.screen.title_text == "Quit with an unsaved edit?"
            await pilot.press(key)  # asked again: no second dialog on top
            await pilot.pause()
            assert len([s for s in app.screen_stack if isinstance(s, ConfirmDialog)]) == 1
            await pilot.press("enter")  # Cancel is focused
            await settle(pilot)
            assert app.screen is form and form.query_one("#f-name", Input).value == "Half typed"
            assert app.return_code is None
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the quit question again")
            await pilot.press("left", "enter")  # a deliberate move to "Quit without saving"
            await wait_for(pilot, lambda: app.return_code == 0, "the console to quit")


async def test_ctrl_q_quits_at_once_when_nothing_is_unsaved(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: app.return_code == 0, "the console to quit")


async def test_the_palette_has_one_quit_and_it_asks_too(data):
    from textual.command import CommandList, CommandPalette

    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await open_form_with_an_edit(pilot)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
            await pilot.press(*"quit")

            def quits() -> list[str]:
                commands = app.screen.query_one(CommandList)
                prompts = [commands.get_option_at_index(i).prompt for i in range(commands.option_count)]
                titles = (getattr(p, "plain", str(p)).split("\n")[0] for p in prompts)
                return [t for t in titles if t.startswith("Quit")]

            await wait_for(pilot, lambda: bool(quits()), "the palette's answer to 'quit'")
            assert quits() == ["Quit"]
            assert "Quit" not in [c.title for c in app.get_system_commands(app.screen)]  # Textual's would not ask
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the quit question")
            assert app.return_code is None


@pytest.mark.parametrize("key, name, status", [("S", "Daily deals SMS", Status.live),
                                                ("D", "Birthday coupon", Status.draft)])
async def test_stop_and_delete_open_on_cancel_so_key_then_enter_does_nothing(data, key, name, status):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, name)
            assert status_of(app, name) is status
            dialog = await open_dialog(pilot, key)
            assert isinstance(dialog, ConfirmDialog)
            assert isinstance(dialog.focused, Button) and dialog.focused.id == "cancel"
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CampaignListScreen)
            assert status_of(app, name) is status


def burst(app, *keys: str) -> None:
    """Keys as a paste or a laggy link delivers them: all queued at once, none waiting for the last to be handled
    (Pilot's ``press`` waits for the app to go idle between keys, which hides the problem)."""
    from textual import events

    named = {"/": ("slash", "/"), "enter": ("enter", "\r"), "tab": ("tab", "\t"), " ": ("space", " ")}
    for key in keys:
        name, char = named.get(key, (key, key if len(key) == 1 else None))
        app.post_message(events.Key(name, char))


async def test_a_search_typed_as_one_burst_searches_for_all_of_it(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            burst(app, *"/weekly", "enter")
            await wait_for(pilot, lambda: isinstance(app.focused, CampaignTable), "Enter to go back to the list")
            await settle(pilot)
            assert app.screen_stack == [app.screen] and isinstance(app.screen, CampaignListScreen)
            assert app.screen.query_one("#search", Input).value == "weekly"
            assert [r.name for r in app.screen.query_one(CampaignTable).rows] == ["Weekly newsletter"]


async def test_name_tab_description_typed_as_one_burst_fills_two_fields_of_the_new_form(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            burst(app, "n", *"Name", "tab", *"Description")
            await wait_for(pilot, lambda: [i.value for i in app.screen.query("#f-description").results(Input)]
                           == ["Description"], "the burst to land in the form")
            await settle(pilot)
            form = app.screen
            assert form.query_one("#f-name", Input).value == "Name"
            assert [type(s) for s in app.screen_stack] == [CampaignListScreen, CampaignFormScreen]


async def open_help(pilot) -> str:
    from console.screens.help import HelpScreen

    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help")
    await pilot.pause()
    return help_text(pilot.app)


def help_text(app) -> str:
    from .console_support import screen_text

    return screen_text(app)


async def test_help_lists_what_the_user_may_do_to_the_selected_campaign_each_key_once(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 60)) as pilot:
            await settle(pilot)
            await select(pilot, "Daily deals SMS")  # live: stop, not approve nor delete
            text = await open_help(pilot)
            assert "Stop — " in text and "Approve — " not in text and "Delete draft — " not in text
            assert text.count("Show all statuses") == 1 and "Show default statuses" not in text  # "0" once
            assert "Last row" in text and "g activates" in text
            await pilot.press("escape")
            await select(pilot, "Birthday coupon")  # a draft: delete, not stop
            text = await open_help(pilot)
            assert "Delete draft — " in text and "Stop — " not in text


async def test_a_viewer_s_help_leaves_out_what_the_role_may_not_do(data):
    with console(data, "eve", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 60)) as pilot:
            await settle(pilot)
            text = await open_help(pilot)
            for name in ("New campaign", "Activate", "Stop", "Edit draft"):
                assert f"{name} — " not in text, name
            assert "Search — " in text and "Open campaign — " in text


async def test_typing_in_the_help_narrows_it(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 60)) as pilot:
            await settle(pilot)
            await select(pilot, "Daily deals SMS")
            await open_help(pilot)
            await pilot.press(*"stop")
            await wait_for(pilot, lambda: "Search — " not in help_text(app), "the help to narrow")
            assert "Stop — " in help_text(app)
            await pilot.press(*"zzzz")
            await wait_for(pilot, lambda: "No key matches" in help_text(app), "no match said in words")


async def test_lists_take_home_end_and_capital_g(data):
    from console.screens.campaign_detail import CampaignDetailScreen
    from textual.widgets import DataTable

    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(CampaignTable)
            await pilot.press("G")
            assert table.cursor == len(table.rows) - 1 > 0
            await pilot.press("home")
            assert table.cursor == 0
            await pilot.press("end")
            assert table.cursor == len(table.rows) - 1
            await select(pilot, "Daily deals SMS")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "the detail")
            await settle(pilot)
            await pilot.press("3")
            audit = app.screen.query_one("#audit-table", DataTable)
            await wait_for(pilot, lambda: audit.row_count > 1 and audit.has_focus, "the audit trail")
            await pilot.press("G")
            assert audit.cursor_row == audit.row_count - 1
            await pilot.press("home")
            assert audit.cursor_row == 0
            await pilot.press("end")
            assert audit.cursor_row == audit.row_count - 1
