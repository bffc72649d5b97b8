"""The campaign list in the console, driven with Pilot: filters, search, sorting, actions, roles."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from console.screens.campaign_list import CampaignListScreen
from console.screens.help import HelpScreen
from console.widgets.campaign_table import CampaignTable
from console.widgets.filter_bar import FilterBar
from store.models import CampaignAction, Status

from .console_support import console, copy_workspace, frozen, open_dialog, screen_text, seed_demo, settle, wait_for


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    return seed_demo(tmp_path_factory.mktemp("console-list") / "demo", frozen())


@pytest.fixture
def data(demo, tmp_path):
    return copy_workspace(demo, tmp_path / "ws")


def table(app) -> CampaignTable:
    return app.screen.query_one(CampaignTable)


def statuses(app) -> set[Status]:
    return {r.status for r in table(app).rows}


async def select(pilot, name: str) -> None:
    t = table(pilot.app)
    t.select_id(next(r.id for r in t.rows if r.name == name))
    await pilot.pause()


def highlighted_command(app) -> str:
    """The command the palette would run on Enter ("" while it searches)."""
    from textual.command import CommandList

    commands = app.screen.query_one(CommandList)
    if commands.highlighted is None:
        return ""
    prompt = commands.get_option_at_index(commands.highlighted).prompt
    return getattr(prompt, "plain", str(prompt))


def row(app, name: str):
    return next(r for r in app.screen.all_rows if r.name == name)


async def test_default_filter_hides_finished_statuses_and_one_key_shows_all(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert not statuses(app) & {Status.stopped, Status.completed, Status.archived}
            bar = str(app.screen.query_one(FilterBar).render())
            assert "hiding Stopped, Completed, Archived" in bar and "31 of 43" in bar
            await pilot.press("0")
            assert {Status.stopped, Status.completed, Status.archived} <= statuses(app)
            assert "43 of 43" in str(app.screen.query_one(FilterBar).render())
            await pilot.press("0")
            assert not statuses(app) & {Status.stopped, Status.completed, Status.archived}


async def test_search_filters_names_and_tags_as_you_type(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("slash", "w", "e", "e")
            assert [r.name for r in table(app).rows] == ["Weekly newsletter"]
            await pilot.press("backspace", "backspace", "backspace", "v", "i", "p")  # a tag
            assert {r.name for r in table(app).rows} >= {"Black Friday early access", "VIP private sale"}
            await pilot.press("escape")
            assert len(table(app).rows) == 31 and app.focused is table(app)


async def test_filter_by_status_and_sort(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await open_dialog(pilot, "f")
            await pilot.press("down", "down", "down", "space", "enter")  # the 4th status: Scheduled
            assert statuses(app) == {Status.scheduled}
            assert "status Scheduled" in str(app.screen.query_one(FilterBar).render())
            before = table(app).sort_key
            await pilot.press("o")
            assert table(app).sort_key != before
            names = [r.name for r in table(app).rows]
            await pilot.press("O")
            assert [r.name for r in table(app).rows] == list(reversed(names)) or table(app).sort_reverse


async def test_activate_asks_with_audience_exclusions_and_schedule_then_goes_live(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, "Win a trip contest")
            dialog = await open_dialog(pilot, "g")
            text = screen_text(app)
            assert "Activate Win a trip contest?" in text
            assert "profiles" in text and "excluded, no_consent" in text and "once, on activation" in text
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CampaignListScreen)
            assert row(app, "Win a trip contest").status is Status.live


async def test_escape_cancels_a_confirmation_and_nothing_changes(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, "Daily deals SMS")
            dialog = await open_dialog(pilot, "S")
            text = screen_text(app)
            assert "This is final" in text
            await pilot.press("escape")
            await settle(pilot)
            assert row(app, "Daily deals SMS").status is Status.live


async def test_stop_is_final_and_the_campaign_leaves_the_default_list(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, "Daily deals SMS")
            await open_dialog(pilot, "S")
            await pilot.press("left", "enter")  # Cancel is focused: stopping takes a move to its button
            await settle(pilot)
            assert row(app, "Daily deals SMS").status is Status.stopped
            assert "Daily deals SMS" not in [r.name for r in table(app).rows]


async def test_a_refusal_is_shown_and_the_screen_stays_as_it_was(data):
    with console(data, "alice", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, "Win a trip contest")  # sms: no approval policy applies
            before = row(app, "Win a trip contest")
            assert CampaignAction.request_approval not in before.actions
            assert app.screen.check_action("request_approval", ()) is False  # the server does not list it: hidden
            await pilot.press("r")
            await settle(pilot)  # nothing is sent, the key only says why (tests/test_console_hidden_keys.py)
            assert [n.message for n in app._notifications] == [
                "Request approval is not possible on Win a trip contest now (Draft)"]
            app.screen.action_request_approval()  # as from a row gone stale: the engine refuses
            await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), "the request-approval dialog")
            await pilot.press("enter")  # no message: it is optional
            await settle(pilot)
            notes = [n.message for n in app._notifications]
            assert any("needs no approval" in n for n in notes)
            assert row(app, "Win a trip contest") == before and table(app).selected.name == "Win a trip contest"


async def test_activation_blocked_by_a_policy_says_why(data):
    with console(data, "alice", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await select(pilot, "Q1 product survey")  # marketing email: approval required
            # "Request approval" replaces "Activate" (DESIGN 2): the server lists the one, not the other
            assert app.screen.check_action("request_approval", ()) is True
            assert app.screen.check_action("activate", ()) is False
            app.screen.action_activate()  # as from a row gone stale: the preview says why not
            await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), "the activate confirmation")
            await pilot.pause()
            text = screen_text(app)
            assert "Cannot activate" in text and "request approval first" in text
            assert app.screen.query_one("#confirm").disabled
            await pilot.press("enter")  # Cancel has the focus
            await settle(pilot)
            assert row(app, "Q1 product survey").status is Status.draft


async def test_a_viewer_does_not_get_actions_the_role_may_not_do(data):
    with console(data, "eve", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            screen = app.screen
            for action in ("new_campaign", "activate", "stop", "edit_draft", "approve"):
                assert screen.check_action(action, ()) is False, action
            assert screen.check_action("search", ()) is True
            footer = screen_text(app).splitlines()[-1]
            assert "Open" in footer and "New campaign" not in footer and "Activate" not in footer
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, CampaignListScreen)


async def test_header_shows_workspace_user_role_and_how_that_was_proven(data):
    with console(data, "chloe", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(160, 36)) as pilot:
            await settle(pilot)
            header = str(app.screen.query_one("#header").render())
            assert "chloe · approver · OS account " in header and "the workspace owner, playing chloe" in header
            assert "ws" in header


async def test_palette_runs_actions_by_name(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.pause()
            for ch in "Show all statuses":
                await pilot.press("space" if ch == " " else ch)
            await wait_for(pilot, lambda: highlighted_command(app).startswith("Show all statuses"),
                           "the palette to offer the command")
            await pilot.press("enter")
            await settle(pilot)
            assert Status.archived in statuses(app)


async def test_every_action_is_in_the_palette_under_its_name(data):
    from console.actions import ALL_ACTIONS

    names = {a.name for a in ALL_ACTIONS}
    for required in ("Show all statuses", "Show default statuses", "Filter by status", "Search", "Open campaign",
                     "Compare draft with live", "Edit draft", "Request approval", "Approve", "Request changes",
                     "Activate", "Stop", "Archive", "Duplicate", "Delete draft", "New campaign", "Awaiting my approval"):
        assert required in names


async def test_help_lists_every_key_and_escape_closes_it(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            for name in ("Search", "Show all statuses", "Awaiting my approval"):  # the campaign's: test_console_keys
                assert name in text
            await pilot.press("escape")
            assert isinstance(app.screen, CampaignListScreen)


async def test_quit(data):
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0


async def test_someone_who_is_not_a_user_is_told_why_and_the_console_exits(data):
    with console(data, "mallory", clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
        assert app.return_code == 1


# thousands of campaigns --------------------------------------------------------------------
MANY = 3_000


@pytest.fixture(scope="session")
def many(tmp_path_factory):
    """3,000 campaigns as the benchmark makes them: two thirds Draft, the rest Scheduled or Completed."""
    from bench.store_bench import _fill_workspace

    path = tmp_path_factory.mktemp("console-many") / "ws"
    _fill_workspace(path, MANY)
    return path


@pytest.fixture
def many_data(many, tmp_path):
    return copy_workspace(many, tmp_path / "ws")


async def loaded(pilot) -> None:
    await wait_for(pilot, lambda: f"of {MANY:,} campaigns" in str(pilot.app.screen.query_one(FilterBar).render()),
                   "the whole list")
    await settle(pilot)


def shown_by_default(app) -> list:
    hidden = {Status.stopped, Status.completed, Status.archived}
    return [r for r in app.screen.all_rows if r.status not in hidden]


async def test_search_among_thousands_keeps_the_sort_order_and_matches_names_and_tags(many_data):
    with console(many_data, "bench") as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            visible = shown_by_default(app)
            assert len(table(app).rows) == len(visible) < MANY
            await pilot.press("slash", *"SALE 12")
            expected = [r for r in visible if "sale 12" in r.name.casefold()]
            assert [r.id for r in table(app).rows] == [r.id for r in sorted(expected, key=lambda r: r.updated_at,
                                                                              reverse=True)]
            assert f"{len(expected):,} of {MANY:,}" in str(app.screen.query_one(FilterBar).render())
            for _ in "SALE 12":
                await pilot.press("backspace")
            await pilot.press(*"t17")  # a tag: no name holds it
            assert {r.id for r in table(app).rows} == {r.id for r in visible if "t17" in r.tags}
            await pilot.press("escape")
            assert len(table(app).rows) == len(visible)


async def test_sorting_thousands_by_each_key_and_back(many_data):
    with console(many_data, "bench") as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            assert table(app).sort_key == "updated" and table(app).sort_reverse
            await pilot.press("o")  # the next column: id, newest first
            numbers = [int(r.id.rsplit("-", 1)[1]) for r in table(app).rows]
            assert table(app).sort_key == "id" and numbers == sorted(numbers, reverse=True)
            await pilot.press("O")
            assert [int(r.id.rsplit("-", 1)[1]) for r in table(app).rows] == sorted(numbers)
            await pilot.press("o")  # round to the first column: name
            names = [r.name.casefold() for r in table(app).rows]
            assert table(app).sort_key == "name" and names == sorted(names)
            await pilot.press("slash", *"sale", "space", "1", "enter")  # a search keeps the order
            names = [r.name.casefold() for r in table(app).rows]
            assert names and names == sorted(names) and all("sale 1" in n for n in names)


async def test_cursor_keys_move_through_thousands_and_the_view_follows(many_data):
    with console(many_data, "bench") as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            t = table(app)
            await pilot.press("down", "down", "down")
            assert t.cursor == 3 and t.selected is t.rows[3]
            await pilot.press("end")
            assert t.cursor == len(t.rows) - 1
            await pilot.pause()
            assert t.rows[-1].name in screen_text(app)
            await pilot.press("pageup")
            assert t.cursor == len(t.rows) - 1 - (t.scrollable_content_region.height - 2)
            await pilot.press("home", "up")
            assert t.cursor == 0 and t.rows[0].name in screen_text(app)


async def test_the_selected_campaign_stays_selected_when_a_refresh_moves_it(many_data):
    with console(many_data, "bench") as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            t = table(app)
            await pilot.press(*["down"] * 10)
            chosen = t.selected_id
            await app.client.duplicate(t.rows[20].id)  # a new Draft: first in the list, newest change
            app.screen.load_rows()
            await wait_for(pilot, lambda: len(app.screen.all_rows) == MANY + 1, "the refreshed list")
            await settle(pilot)
            assert t.selected_id == chosen and t.cursor == 11
            assert app.screen.current_campaign().id == chosen


async def test_only_the_visible_rows_are_drawn(many_data):
    with console(many_data, "bench") as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            t = table(app)
            drawn: list[int] = []
            render_line = t.render_line

            def counted(y):
                drawn.append(y)
                return render_line(y)

            t.render_line = counted
            await pilot.press("end")  # scrolls to the last of thousands: a whole new screenful
            await pilot.pause()
            height = t.scrollable_content_region.height
            assert len(t.rows) > 10 * height
            assert 0 < len(drawn) <= 2 * height and max(drawn) < height
            assert t.rows[-1].name in screen_text(app)


async def test_what_lives_after_the_first_load_is_frozen_out_of_collections_until_the_list_goes(data):
    import gc

    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0, "the heap frozen after the first list")
    assert gc.get_freeze_count() == 0
