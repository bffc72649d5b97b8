"""The console while a run sends: the list's Sent/excl column and the detail's runs tab (with rate and time
left) grow before the run completes; the runs tab widens its columns as the values grow."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from textual.widgets import DataTable

from console.screens.campaign_detail import CampaignDetailScreen
from console.widgets.campaign_table import CampaignTable

from .console_support import _client, console, screen_text, settle, wait_for
from .engine_setup import email_campaign, prepare
from .gated_clock import GatedClock
from .test_live_runs import PROFILES, RATE, many_profiles

SIZE = (140, 30)


async def test_the_list_and_the_runs_tab_show_a_run_growing_with_its_rate_and_time_left(tmp_path):
    clock = GatedClock(datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc))
    with console(tmp_path / "ws", clock=clock, refresh_seconds=0.1) as (app, ws, engine):
        root = _client(ws, engine, "root")
        await prepare(root)
        await root.import_profiles_chunk("jsonl", many_profiles(), 1)
        campaign = await root.create_campaign(email_campaign("Flash sale", rate=RATE))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                engine.start()
                await root.activate(campaign.id)
                shown: list[int] = []

                def sent_in_list() -> int | None:
                    line = next((l for l in screen_text(app).splitlines() if "Flash sale" in l), "")
                    match = re.search(r"(\d+)/\d+ ▸", line)
                    return int(match[1]) if match else None

                for _ in range(3):
                    clock.grant(1.0)
                    await wait_for(pilot, lambda: (sent_in_list() or 0) > (shown[-1] if shown else 0),
                                   "the list's Sent/excl to grow")
                    shown.append(sent_in_list() or 0)
                assert shown[-1] < PROFILES  # grew while the run was far from done

                app.screen.query_one(CampaignTable).select_id(campaign.id)
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, CampaignDetailScreen), "the detail")
                await pilot.press("2")
                table = app.screen.query_one("#run-table", DataTable)

                def cell(column: str) -> str:
                    return str(table.get_cell(f"{campaign.id}-r1", column)) if table.row_count else ""

                await wait_for(pilot, lambda: "msg/s" in cell("rate"), "the runs tab's rate")
                before = int(cell("sent").replace(",", ""))
                clock.grant(2.0)
                await wait_for(pilot, lambda: int(cell("sent").replace(",", "") or 0) > before, "the runs tab to grow")
                assert cell("status") == "running" and re.fullmatch(r"\d+s|\dm \d\ds", cell("left"))
                clock.release()
                await wait_for(pilot, lambda: cell("status") == "completed", "the run to complete", timeout=60)
                await pilot.pause()
                widths = {c.key.value: c.content_width for c in table.columns.values()}
                assert widths["status"] >= len("completed") and widths["sent"] >= len(cell("sent"))
                assert re.search(rf"{campaign.id}-r1 .* completed .* {cell('sent')} ", screen_text(app))
                assert cell("rate") == "—" and cell("left") == "—"
        finally:
            clock.release()
