"""The campaign detail and the draft-vs-live compare screens, driven with Textual's Pilot over a real demo workspace."""

from __future__ import annotations

import io
import shutil
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from rich.console import Console
from textual.content import Content
from textual.widgets import DataTable, Static, TabbedContent

from console.app import CampaignsApp
from console.cli import main
from console.dialogs.confirm import ConfirmDialog
from console.screens.campaign_detail import CampaignDetailScreen, ProfileDialog
from console.screens.campaign_list import CampaignListScreen
from console.screens.compare import CompareScreen, FieldRow
from console.widgets.campaign_table import CampaignTable
from store.embedded import connect
from store.listing import CampaignFilter

from .approval_support import approve_current
from .console_support import settle, wait_for

SIZE = (120, 36)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("console") / "demo"
    assert main(["--data", str(path), "--user", "root", "seed-demo"]) == 0
    return path


@pytest.fixture
def open_app(demo_dir, tmp_path):
    """A console on a fresh copy of the demo, acting as a given user; the engine does not tick."""

    @asynccontextmanager
    async def opened(user: str = "root"):
        data = tmp_path / f"ws-{user}"
        shutil.copytree(demo_dir, data)
        async with connect(data, user) as client:
            yield CampaignsApp(client, refresh_seconds=3600)

    return opened


@pytest.fixture
async def app(open_app):
    async with open_app("root") as app:
        yield app


# helpers -------------------------------------------------------------------------------------------------
def text_of(widget) -> str:
    """What a widget shows, as plain text (markup and Rich tables alike)."""
    renderable = widget.render() if isinstance(widget, FieldRow) else widget.content
    if isinstance(renderable, str):
        return Content.from_markup(renderable).plain
    if isinstance(renderable, Content):
        return renderable.plain
    console = Console(width=200, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def shown(screen, selector: str) -> str:
    return text_of(screen.query_one(selector, Static))


async def campaign_id(app, name: str) -> str:
    rows = await app.client.list_campaigns(CampaignFilter(all=True))
    return next(r.id for r in rows if r.name == name)


async def open_detail(pilot, name: str) -> CampaignDetailScreen:
    """From the list, as a person would: put the cursor on the campaign and press Enter."""
    await settle(pilot)
    assert isinstance(pilot.app.screen, CampaignListScreen)
    table = pilot.app.screen.query_one(CampaignTable)
    table.select_id(next(r.id for r in table.rows if r.name == name))
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CampaignDetailScreen)
    return screen


async def open_compare(pilot, name: str) -> CompareScreen:
    await open_detail(pilot, name)
    await pilot.press("c")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    return screen


def rows_text(screen: CompareScreen) -> list[str]:
    return [text_of(row) for row in screen.query("#compare-body FieldRow")]


# the detail screen --------------------------------------------------------------------------------------
async def test_enter_opens_the_live_version_with_its_audience_size_and_rendered_content(app):
    cid = await campaign_id(app, "Weekly newsletter")
    campaign = await app.client.campaign(cid)
    size = await app.client.audience_size(campaign.live.audience)
    rendered = await app.client.render(cid)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Weekly newsletter")
        assert screen.campaign_id == cid
        assert "Weekly newsletter" in shown(screen, "#detail-title") and cid in shown(screen, "#detail-title")
        status = shown(screen, "#detail-status")
        assert "action · marketing · email" in status and "Live" in status and "✎ open draft (version 2)" in status
        assert "newsletter" in shown(screen, "#detail-description")
        assert "c: compare with the draft" in shown(screen, "#draft-note")
        assert shown(screen, "#version-title").startswith("Live version 1")
        facts = shown(screen, "#version-facts")
        assert f"{campaign.live.audience}: {size:,} profiles" in facts
        assert campaign.live.schedule.describe() in facts
        assert "email-marketing: email via outbox" in facts and "500 messages per second" in facts
        assert "Next runs" in facts
        assert f"Content as {rendered.profile_id} gets it" in shown(screen, "#render-title")
        content = shown(screen, "#rendered")
        assert rendered.content is not None and rendered.content["subject"] in content and "— updated" not in content  # the live one, not the draft
        assert screen.query_one(TabbedContent).active == "overview"
        await pilot.press("escape")
        assert isinstance(app.screen, CampaignListScreen)


async def test_key_2_shows_the_runs_with_their_counters_and_the_totals(app):
    cid = await campaign_id(app, "Daily deals SMS")
    runs = await app.client.runs(cid)
    report = await app.client.report(cid)
    assert runs, "the demo gives Daily deals SMS some runs"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Daily deals SMS")
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "runs"
        table = screen.query_one("#run-table", DataTable)
        assert table.has_focus
        assert table.row_count == len(runs)
        newest = max(runs, key=lambda r: r.occurrence or r.started_at)
        assert table.ordered_rows[0].key.value == newest.id  # newest first
        row = dict(zip([c.key.value for c in table.ordered_columns], table.get_row(newest.id)))
        c = newest.counters
        assert (row["trigger"], row["status"]) == (newest.trigger.value, newest.status.value)
        assert (row["targeted"], row["sent"], row["failed"]) == (f"{c.targeted:,}", f"{c.sent:,}", f"{c.failed:,}")
        assert row["excluded"] == f"{c.excluded_total:,}"
        for reason, count in c.excluded.items():
            assert f"{reason.value} {count:,}" in row["reasons"]
        totals = shown(screen, "#run-totals")
        t = report.totals
        assert f"Totals over {len(runs)} runs" in totals
        assert f"targeted {t.targeted:,}" in totals and f"sent {t.sent:,}" in totals
        assert f"excluded {t.excluded_total:,}" in totals


async def test_key_3_shows_the_audit_trail_oldest_first_with_how_each_user_was_proven(app):
    cid = await campaign_id(app, "Weekly newsletter")
    await app.client.duplicate(cid)  # a change made now, by this OS account
    events = await app.client.audit_trail(cid)
    assert events[-1].proof and events[-1].proof.startswith("OS account ")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Weekly newsletter")
        await pilot.press("3")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "audit"
        table = screen.query_one("#audit-table", DataTable)
        assert table.has_focus and table.row_count == len(events)
        assert [table.get_row_at(i)[2] for i in range(len(events))] == [e.action for e in events]
        assert [str(cell) for cell in table.get_row_at(0)[1:3]] == [events[0].user, "created"]
        assert table.cursor_row == len(events) - 1  # on the newest event
        assert str(table.get_row_at(len(events) - 1)[5]) == events[-1].proof
        assert "newest event is at the bottom" in shown(screen, "#audit-note")
        await pilot.press("1")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "overview"


async def test_p_renders_the_content_for_another_profile_and_escape_cancels(app):
    cid = await campaign_id(app, "Weekly newsletter")
    default = await app.client.render(cid)
    other_id = "p0000001" if default.profile_id != "p0000001" else "p0000002"
    other = await app.client.render(cid, profile_id=other_id)
    assert other.content is not None and default.content is not None
    assert other.content["subject"] != default.content["subject"]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Weekly newsletter")
        await pilot.press("2")  # p works from any view and comes back to the overview
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileDialog), "the profile dialog")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and f"as {default.profile_id} gets it" in shown(screen, "#render-title")

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileDialog), "the profile dialog")
        await pilot.press(*other_id, "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one(TabbedContent).active == "overview"
        assert f"Content as {other_id} gets it" in shown(screen, "#render-title")
        assert other.content["subject"] in shown(screen, "#rendered")

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileDialog), "the profile dialog")
        app.screen.query_one("Input").value = "nobody-here"
        await pilot.press("enter")
        await settle(pilot)
        assert shown(screen, "#rendered").startswith("Cannot render for nobody-here")
        assert screen.query_one("#rendered").has_class("-error")


async def test_v_shows_the_draft_in_the_overview_and_back(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Weekly newsletter")
        await pilot.press("v")
        await settle(pilot)
        assert shown(screen, "#version-title").startswith("Draft version 2 — not live")
        assert "— updated" in shown(screen, "#rendered")
        assert "v: back to the live version" in shown(screen, "#draft-note")
        await pilot.press("v")
        await settle(pilot)
        assert shown(screen, "#version-title").startswith("Live version 1")
        assert "— updated" not in shown(screen, "#rendered")


async def test_the_refresh_keeps_the_view_and_the_cursor_and_waits_for_dialogs(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Daily deals SMS")
        await pilot.press("2", "down", "down")
        table = screen.query_one("#run-table", DataTable)
        assert table.cursor_row == 2
        selected = table.ordered_rows[2].key.value
        screen._tick()
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "runs" and table.cursor_row == 2 and table.has_focus

        # a new run comes in: it goes on top and the cursor stays on the run it was on
        cid = screen.campaign_id
        runs = await app.client.runs(cid)
        latest = max(runs, key=lambda r: r.occurrence)
        new = latest.model_copy(update={"id": f"{cid}-r99", "occurrence": latest.occurrence + timedelta(days=1)})
        screen.show_runs(runs + [new], await app.client.report(cid))
        await pilot.pause()
        assert table.row_count == len(runs) + 1 and table.ordered_rows[0].key.value == new.id
        assert table.ordered_rows[table.cursor_row].key.value == selected

        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ProfileDialog), "the profile dialog")
        screen._tick()  # under a dialog: no refresh
        assert not [w for w in app.workers if w.group == "detail-load" and w.is_running]
        await pilot.press("escape")


async def test_a_campaign_without_draft_has_compare_disabled_and_nothing_to_compare(app):
    cid = await campaign_id(app, "Daily deals SMS")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Daily deals SMS")
        assert "✎" not in shown(screen, "#detail-status")
        assert not screen.query_one("#draft-note").display
        assert screen.check_action("compare", ()) is False  # the server does not list it: hidden
        await pilot.press("c")
        await settle(pilot)
        assert app.screen is screen

        app.push_screen(CompareScreen(cid))
        await settle(pilot)
        compare = app.screen
        assert "Nothing to compare" in shown(compare, "#compare-status")
        assert "no draft beside its live version" in shown(compare, "#compare-status")
        header = text_of(compare.query_one("#compare-header", FieldRow))
        assert "Live · version 1" in header and "Draft" not in header
        assert compare.stops == [] and compare.check_action("next_change", ()) is None
        assert any("SHOP: Daily deals SMS" in t for t in rows_text(compare))
        await pilot.press("n")
        assert compare.current == -1
        await pilot.press("escape")
        assert app.screen is screen


# the compare screen ---------------------------------------------------------------------------------------
async def test_compare_marks_the_changed_fields_and_diffs_the_content_lines(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot, "Weekly newsletter")
        header = text_of(screen.query_one("#compare-header", FieldRow))
        assert "Live · version 1" in header and "Draft · version 2 · not sent for approval · bruno" in header
        rows = list(screen.query("#compare-body FieldRow"))
        by_label = {r.block.field.label: r for r in rows if r.block.first}
        assert by_label["Subject"].has_class("-changed") and by_label["Body"].block.field.changed
        for unchanged in ("Name", "Audience", "Channel", "Configuration", "Schedule", "Rate control", "Preheader"):
            assert not by_label[unchanged].has_class("-changed"), unchanged
        assert not by_label["Approval"].has_class("-changed")  # shown, but a state, not a change to review
        assert text_of(by_label["Subject"]).lstrip().startswith("≠ Subject")
        assert text_of(by_label["Audience"]).lstrip().startswith("Audience")

        body = [r for r in rows if r.block.field.label == "Body"]
        changed_block = next(r for r in body if r.block.changed)
        text = text_of(changed_block)
        assert "- Weekly newsletter: see what's new." in text
        assert "+ Weekly newsletter — updated: see what's new." in text
        assert any("The Shop team" in text_of(r) and not r.block.changed for r in body)  # context lines too
        added = changed_block.block.pairs[0][1]
        assert [piece for piece, changed in added.spans if changed] == [" — updated"]

        status = shown(screen, "#compare-status")
        assert "2 changes" in status and "in 2 fields: Subject, Body" in status
        assert [s.block.field.label for s in screen.stops] == ["Subject", "Body"]


async def test_n_and_N_walk_the_changes_and_scroll_to_them(open_app):
    async with open_app("root") as app:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_compare(pilot, "Weekly newsletter")
            body = screen.query_one("#compare-body")

            def visible(row) -> bool:
                top = body.scroll_y
                return top <= row.virtual_region.y < top + body.scrollable_content_region.height

            assert screen.current == -1
            await pilot.press("n")
            await pilot.pause()
            assert "change 1 of 2: Subject" in shown(screen, "#compare-status")
            assert screen.stops[0].has_class("-current") and visible(screen.stops[0])
            assert text_of(screen.stops[0]).lstrip().startswith("▶ Subject")
            await pilot.press("n")
            await pilot.pause()
            assert "change 2 of 2: Body" in shown(screen, "#compare-status")
            assert screen.stops[1].has_class("-current") and not screen.stops[0].has_class("-current")
            assert visible(screen.stops[1]) and body.scroll_y > 0
            await pilot.press("n")  # wraps round to the first change
            await pilot.pause()
            assert "change 1 of 2" in shown(screen, "#compare-status") and visible(screen.stops[0])
            await pilot.press("N")
            await pilot.pause()
            assert "change 2 of 2" in shown(screen, "#compare-status") and visible(screen.stops[1])
            await pilot.press("N", "N")
            await pilot.pause()
            assert "change 2 of 2" in shown(screen, "#compare-status")
            await pilot.press("escape")
            assert isinstance(app.screen, CampaignDetailScreen)


async def test_an_approver_approves_from_compare_through_the_activate_confirmation(open_app):
    async with open_app("chloe") as app:
        cid = await campaign_id(app, "Winter sale teaser")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_compare(pilot, "Winter sale teaser")
            assert "in review" in text_of(screen.query_one("#compare-header", FieldRow))
            assert "y" in screen.active_bindings and screen.check_action("approve", ()) is True
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the activate confirmation")
            dialog = app.screen
            assert "Activate Winter sale teaser?" in text_of(dialog.query(Static).first())
            await pilot.press("enter")  # the Activate button has the focus
            await settle(pilot)
            assert app.screen is screen
            campaign = await app.client.campaign(cid)
            assert campaign.draft is None and campaign.live.number == 2
            events = [(e.user, e.action) for e in await app.client.audit_trail(cid)]
            assert ("chloe", "approved") in events and ("chloe", "activated") in events
            # the screen followed: the draft is now the live version, nothing left to compare
            assert "Nothing to compare" in shown(screen, "#compare-status")
            assert "Live · version 2" in text_of(screen.query_one("#compare-header", FieldRow))
            assert screen.check_action("approve", ()) is False


async def test_cancelling_the_activation_leaves_the_draft_approved(open_app):
    async with open_app("chloe") as app:
        cid = await campaign_id(app, "Winter sale teaser")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_compare(pilot, "Winter sale teaser")
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the activate confirmation")
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            campaign = await app.client.campaign(cid)
            assert campaign.draft.approval.state.value == "approved" and campaign.live.number == 1
            assert "approved" in text_of(screen.query_one("#compare-header", FieldRow))
            assert len(screen.stops) == 2


async def test_a_viewer_does_not_even_see_approve(open_app):
    async with open_app("eve") as app:
        cid = await campaign_id(app, "Winter sale teaser")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_compare(pilot, "Winter sale teaser")
            assert "y" not in screen.active_bindings and screen.check_action("approve", ()) is False
            assert "g" not in screen.active_bindings and "e" not in screen.active_bindings
            before = rows_text(screen)
            await pilot.press("y", "g", "x")
            await settle(pilot)
            assert app.screen is screen and rows_text(screen) == before
            assert (await app.client.campaign(cid)).draft.approval.state.value == "requested"


async def test_an_engine_refusal_leaves_the_screen_as_it_was(open_app):
    async with open_app("chloe") as app:
        cid = await campaign_id(app, "Winter sale teaser")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_compare(pilot, "Winter sale teaser")
            await pilot.press("n")
            before = (rows_text(screen), shown(screen, "#compare-status"), screen.current)
            await approve_current(app.client, cid)  # decided meanwhile, behind this screen's back: the screen is stale
            await pilot.press("y")
            await settle(pilot)
            assert app.screen is screen  # no activate dialog
            errors = [n for n in app._notifications if n.severity == "error"]
            assert errors, "the refusal is shown as a notification"
            assert (rows_text(screen), shown(screen, "#compare-status"), screen.current) == before


async def test_compare_diffs_a_workflow_draft_activity_by_activity(app):
    """An orchestrated campaign's draft beside its live workflow: each activity added, removed or changed."""
    from store.models import edit_from_document, editable_document

    cid = await campaign_id(app, "Quarterly lookbook")
    document = editable_document(await app.client.campaign(cid))
    workflow = document["draft"]["workflow"]
    email = next(a for a in workflow["activities"] if a["id"] == "lookbook-email")
    email["content"]["subject"] = "The winter lookbook: forty looks"
    workflow["activities"].append({"id": "thanks", "kind": "end", "label": "Thanked"})
    workflow["transitions"].append({"from": "lookbook-email", "to": "thanks", "name": "thanked"})
    await app.client.edit_draft(cid, edit_from_document(document))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot, "Quarterly lookbook")
        rows = list(screen.query("#compare-body FieldRow"))
        by_label = {r.block.field.label: r for r in rows if r.block.first}
        assert "Audience" not in by_label and "Subject" not in by_label  # the activities carry them
        assert by_label["Email lookbook-email · changed"].block.field.changed
        assert by_label["End thanks · added"].has_class("-changed")
        assert not by_label["Fork fork"].block.field.changed and not by_label["Fork fork"].has_class("-changed")
        changed = next(r for r in rows if r.block.field.label == "Email lookbook-email · changed" and r.block.changed)
        assert '"subject": "The winter lookbook: forty looks",' in text_of(changed)
        assert any("lookbook-email → thanks  (thanked)" in text_of(r) for r in rows
                   if r.block.field.label == "Transitions")
        assert len(screen.stops) >= 3  # n / N walk the changes: two activities and the transitions


async def test_an_orchestrated_campaign_shows_its_workflow_not_an_audience(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Quarterly lookbook")
        cid = screen.campaign_id
        facts = shown(screen, "#version-facts")
        assert "9 activities, 8 transitions · channels: email, push" in facts
        assert "Audience" not in facts and "Configuration" not in facts  # its activities carry them
        assert f"counts of run {cid}-r1" in shown(screen, "#render-title")
        drawing = shown(screen, "#rendered")
        assert "Europe newsletter" in drawing and "readers" in drawing and "sent 199" in drawing
        assert screen.check_action("render_profile", ()) is False  # its messages are previewed on the canvas
