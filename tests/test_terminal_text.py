"""Text that cannot take over a terminal (issue 8 item 6): names, descriptions and tags refuse control
and bidirectional characters, naming the character and its position; what an older version stored
anyway is printed escaped by the CLI and shown escaped by the console, never as markup."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
from textual.screen import ModalScreen

from console.cli import main
from console.screens.campaign_detail import CampaignDetailScreen
from console.screens.compare import CompareScreen
from store.models import Campaign, Version
from store.text import printable
from store.workspace import Workspace

from .admin_http import http  # noqa: F401  (fixture)
from .console_support import console, frozen, screen_text, settle, wait_for

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
HOSTILE_NAME = "Sale\x1b[2J [bold]now[/bold]\r\x00\u202eLIVE"
SHOWN_NAME = "Sale\\x1b[2J [bold]now[/bold]\\r\\x00<U+202E>LIVE"
HOSTILE_DESCRIPTION = "First line\nsecond line\x1b]0;owned\x07"
HOSTILE_BODY = "<p>Hello</p>\x1b[31mred\x9b"
RAW = ("\x1b", "\r", "\x00", "\u202e", "\x07", "\x9b")


def campaign_body(name: str = "Spring sale", description: str = "", tags: list[str] | None = None) -> dict:
    return {"campaign": {"name": name, "description": description, "tags": tags or [], "type": "action",
                         "category": "marketing"},
            "version": {"channel": "email", "content": {"email": {"subject": "Hi", "body": "<p>Sale</p>"}}}}


def only_error(response: httpx.Response) -> dict:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    return error


# refused on the way in -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "named"), [
    ("Sale\x1b[2J", "U+001B (ESCAPE) at character 5"),
    ("Sa\x00le", "U+0000 (NUL) at character 3"),
    ("Sale\r", "U+000D (CARRIAGE RETURN) at character 5"),
    ("\u202eelaS", "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 1"),
    ("Sale\u2066x", "U+2066 (LEFT-TO-RIGHT ISOLATE) at character 5"),
    ("Sale\x85", "U+0085"),
    ("Sale\nnew line", "U+000A (LINE FEED) at character 5"),
])
async def test_a_name_with_a_control_or_bidi_character_is_refused_naming_it_and_where(http, name, named):
    error = only_error(await http.post("/v1/campaigns", json=campaign_body(name)))
    assert error["field"] == "campaign.name" and named in error["message"]


async def test_a_description_keeps_its_lines_and_tabs_but_no_other_control(http):
    assert (await http.post("/v1/campaigns", json=campaign_body(description="One\n\tTwo"))).status_code == 201
    error = only_error(await http.post("/v1/campaigns", json=campaign_body(description="One\nTwo\x07")))
    assert error["field"] == "campaign.description" and "U+0007 (a control character) at character 8" in error["message"]
    error = only_error(await http.post("/v1/campaigns", json=campaign_body(tags=["ok", "b\u202ead"])))
    assert error["field"] == "campaign.tags" and "tag 2 contains U+202E" in error["message"]


async def test_audience_configuration_and_display_names_refuse_them_too(http):
    error = only_error(await http.put("/v1/audiences/all", json={"id": "all", "name": "All\u202e", "rule": {"kind": "all"}}))
    assert error["field"] == "name" and "U+202E" in error["message"]
    error = only_error(await http.put("/v1/audiences/all", json={
        "id": "all", "name": "All", "description": "x\x1b", "rule": {"kind": "all"}}))
    assert error["field"] == "description" and "U+001B" in error["message"]
    error = only_error(await http.put("/v1/channel-configurations/sms", json={
        "id": "sms", "name": "SMS\x1b[2J", "channel": "sms", "category": "marketing", "sender": "SHOP"}))
    assert error["field"] == "name" and "U+001B (ESCAPE) at character 4" in error["message"]
    error = only_error(await http.post("/v1/users", json={"name": "eve", "role": "viewer", "display_name": "Eve\r"}))
    assert error["field"] == "display_name" and "U+000D" in error["message"]


def test_the_cli_refuses_such_a_name_in_one_line(tmp_path, capsys):
    path = tmp_path / "campaign.json"
    path.write_text(json.dumps({"name": "\u202eelaS", "type": "action", "category": "marketing",
                                "draft": {"channel": "email", "content": {"email": {"subject": "Hi", "body": "x"}}}}))
    assert main(["--data", str(tmp_path / "ws"), "--user", "root", "create", "--file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name: contains U+202E (RIGHT-TO-LEFT OVERRIDE) at character 1" in err


# escaped on the way out --------------------------------------------------------------------------------------
@pytest.fixture
def stored(tmp_path) -> tuple:
    """A workspace holding a Live campaign with a draft beside it, whose text an older version let in:
    written straight into the catalogue, as that version would have."""
    data = tmp_path / "ws"
    ws = Workspace(data, founder="root")
    try:
        stamp = {"created_by": "root", "created_at": T0, "updated_by": "root", "updated_at": T0}
        live = Version(number=1, channel="email", content={"email": {"subject": "Hi", "body": "<p>Hello</p>"}},
                       activated_by="root", activated_at=T0, **stamp)
        draft = Version(number=2, channel="email", content={"email": {"subject": "Hi", "body": HOSTILE_BODY}}, **stamp)
        campaign = Campaign(id=ws.catalogue.allocate_campaign_id(), name=HOSTILE_NAME, description=HOSTILE_DESCRIPTION,
                            tags=["spring\u202e"], type="action", category="marketing", status="Live", live=live,
                            draft=draft, **stamp)
        ws.catalogue.save_campaign(campaign)
    finally:
        ws.close()
    return data, campaign.id


def cli(data, capsys, *argv: str) -> tuple[str, str]:
    capsys.readouterr()
    assert main(["--data", str(data), "--user", "root", *argv]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def clean(text: str) -> bool:
    return not any(char in text for char in RAW)


def test_list_and_show_print_what_was_stored_escaped_and_never_as_markup(stored, capsys):
    data, campaign_id = stored
    out, err = cli(data, capsys, "list")
    assert SHOWN_NAME in out and clean(out + err)
    out, err = cli(data, capsys, "show", campaign_id)
    assert SHOWN_NAME in out and "second line\\x1b]0;owned\\x07" in out and "spring<U+202E>" in out
    assert "\\x1b[31mred\\x9b" in out and clean(out + err)
    out, _ = cli(data, capsys, "list", "--json")  # JSON escapes, and stays the same data for a program
    assert clean(out) and json.loads(out)[0]["name"] == HOSTILE_NAME


async def test_the_console_shows_it_escaped_in_the_table_detail_compare_dialog_and_notification(stored):
    data, campaign_id = stored
    with console(data, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            await settle(pilot)
            shown = screen_text(app)
            assert SHOWN_NAME in shown and clean(shown)

            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "the detail screen")
            await settle(pilot)
            shown = screen_text(app)
            assert SHOWN_NAME in shown and "second line\\x1b]0;owned\\x07" in shown and clean(shown)

            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "the compare screen")
            await settle(pilot)
            shown = screen_text(app)
            assert SHOWN_NAME in shown and "\\x1b[31mred\\x9b" in shown and clean(shown)

            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen), "the archive confirmation")
            await pilot.pause()
            shown = screen_text(app)
            assert f"Archive {SHOWN_NAME}?" in shown and clean(shown)
            await pilot.press("enter")
            await wait_for(pilot, lambda: f"{SHOWN_NAME}: archived" in screen_text(app), "the notification")
            assert clean(screen_text(app))


def test_printable_makes_every_control_and_bidi_character_visible():
    assert printable(HOSTILE_NAME) == SHOWN_NAME
    assert printable("a\tb\nc\x7f", multiline=True) == "a\tb\nc\\x7f"
    assert printable("Zoé 東京 ✓") == "Zoé 東京 ✓"  # nothing else is touched
