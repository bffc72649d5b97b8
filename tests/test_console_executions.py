"""An api campaign's detail: the curl that triggers it (copied with k), its executions and their outcomes, driven
with Pilot over the real demo (whose api campaigns have a history of executions)."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent

from console.screens.executions import ExecutionOutcomes, server_url
from store.models.execution import Outcome

from .console_support import settle, wait_for
from .test_console_detail import SIZE, app, campaign_id, demo_dir, open_app, open_detail, shown  # noqa: F401


async def test_a_live_api_campaign_shows_its_curl_and_copies_it(app):  # noqa: F811
    cid = await campaign_id(app, "Order shipped")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Order shipped")
        await pilot.press("4")
        assert screen.query_one(TabbedContent).active == "executions"
        curl = shown(screen, "#curl")
        assert "POST 'http://127.0.0.1:8765/ajo/im/executions/unitary'" in curl and f'"campaignId": "{cid}"' in curl
        assert '"namespace": "phone"' in curl and "$CAMPAIGNS_TOKEN" in curl and '"requestId": "$(uuidgen)"' in curl
        assert '"orderId"' in curl  # the {{context.*}} the content reads
        assert "campaigns serve" in shown(screen, "#curl-note")
        await pilot.press("k")
        assert pilot.app.clipboard == screen.curl()
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_detail(pilot, "Weekly newsletter")  # not an api campaign: no executions tab
        assert not screen.query_one(TabbedContent).get_tab("executions").display


async def test_the_executions_table_lists_the_history_and_enter_shows_outcomes(app):  # noqa: F811
    cid = await campaign_id(app, "Cart reminder")
    history = await app.client.executions(cid)
    assert history
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, "Cart reminder")
        assert '"namespace": "email"' in shown(screen, "#curl")
        await pilot.press("4")
        table = screen.query_one("#execution-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == len(history), "the executions")
        assert [row.key.value for row in table.ordered_rows] == [e.id for e in history]  # newest first
        first = history[0]
        row = [str(cell) for cell in table.get_row(first.id)]
        assert first.request_id in row and "storefront" in row
        assert row[5:] == [f"{sum(o.outcome is k for o in first.outcomes)}" for k in (Outcome.sent, Outcome.excluded, Outcome.failed)]
        shown_one = next(e for e in history if {o.outcome for o in e.outcomes} >= {Outcome.sent, Outcome.excluded})
        table.move_cursor(row=[e.id for e in history].index(shown_one.id))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExecutionOutcomes), "the outcomes")
        outcomes = pilot.app.screen.query_one("#outcome-table", DataTable)
        lines = [[str(cell) for cell in outcomes.get_row_at(i)] for i in range(outcomes.row_count)]
        for o, line in zip(shown_one.outcomes, lines, strict=True):
            detail = o.message_id if o.outcome is Outcome.sent else getattr(o.reason, "value", o.reason) if o.outcome is Outcome.excluded else o.error
            assert line == [o.user_id, o.outcome.value, detail]
        await pilot.press("escape")
        assert pilot.app.screen is screen


def test_the_curl_names_the_connected_server_or_the_local_default():
    assert server_url("https://campaigns.example.com:8765/")[0] == "https://campaigns.example.com:8765"
    assert server_url("engine pid 42 (/data/campaigns.sock)") == server_url(None)
    assert server_url(None)[0] == "http://127.0.0.1:8765" and "campaigns serve" in server_url(None)[1]


def test_the_curl_pasted_into_a_shell_sends_one_json_call_with_a_fresh_request_id():
    """What the shell makes of the copied text: curl's standard input is the body (curl itself replaced by cat)."""
    import json
    import subprocess
    from types import SimpleNamespace

    from console.screens.executions import unitary_curl
    from store.models import Channel

    campaign = SimpleNamespace(id="cmp-20", channel=Channel.sms, live=None)
    text = unitary_curl("http://127.0.0.1:8765", campaign)
    shell = "curl() { cat; }\nuuidgen() { echo 5f0c; }\n" + text
    body = json.loads(subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True).stdout)
    assert body == {"requestId": "5f0c", "campaignId": "cmp-20", "context": {},
                    "recipients": [{"type": "aep", "userId": "+33612345678", "namespace": "phone"}]}
