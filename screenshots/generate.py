"""Regenerate the console's screenshots: ``python screenshots/generate.py`` from the repo root.

Runs the console headless on a demo workspace seeded on a frozen clock (so the pictures only change
when the console does) and saves one SVG per main screen into this directory.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.screen import ModalScreen  # noqa: E402

from console.widgets.campaign_table import CampaignTable  # noqa: E402
from tests.console_support import console, copy_workspace, frozen, seed_demo, settle, wait_for  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (120, 36)


async def select(pilot, name: str) -> None:
    table = pilot.app.screen.query_one(CampaignTable)
    table.select_id(next(r.id for r in table.rows if r.name == name))
    await pilot.pause()


async def modal(pilot, key: str) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModalScreen), "a dialog")
    await pilot.pause()


async def shoot(data: Path, name: str, steps, user: str = "root") -> None:
    shot = Path(tempfile.gettempdir()) / "campaigns-demo"  # a fixed path: the header shows it
    with console(copy_workspace(data, shot), user, clock=frozen()) as (app, ws, engine):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await steps(pilot)
            app.save_screenshot(str(OUT / f"{name}.svg"))
    print(f"screenshots/{name}.svg")


async def shoot_all(demo: Path) -> None:

    async def nothing(pilot):
        pass

    async def detail(pilot):
        await select(pilot, "Daily deals SMS")
        await pilot.press("enter")
        await settle(pilot)

    async def runs(pilot):
        await detail(pilot)
        await pilot.press("2")
        await settle(pilot)

    async def compare(pilot):
        await select(pilot, "Weekly newsletter")
        await pilot.press("c")
        await settle(pilot)

    async def activate(pilot):
        await select(pilot, "Win a trip contest")
        await modal(pilot, "g")

    async def approvals(pilot):
        await pilot.press("w")
        await settle(pilot)

    async def new_campaign(pilot):
        await pilot.press("n")
        await settle(pilot)

    async def executions(pilot):
        await select(pilot, "Order shipped")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)

    async def help_screen(pilot):
        await pilot.press("question_mark")
        await pilot.pause()

    await shoot(demo, "campaign-list", nothing)
    await shoot(demo, "campaign-detail", detail)
    await shoot(demo, "campaign-runs", runs)
    await shoot(demo, "compare-draft-with-live", compare)
    await shoot(demo, "activate-confirmation", activate)
    await shoot(demo, "awaiting-my-approval", approvals, user="chloe")
    await shoot(demo, "new-campaign", new_campaign, user="alice")
    await shoot(demo, "help", help_screen)
    await shoot(demo, "api-executions", executions)


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(shoot_all(seed_demo(Path(tmp) / "demo", frozen())))


if __name__ == "__main__":
    main()
