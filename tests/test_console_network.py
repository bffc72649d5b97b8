"""Consoles on a server: two operators, each with their own token, on one real `campaigns serve`, see each
other's changes at the console's own refresh period (no key press), and the header says who each is."""

from __future__ import annotations

import pytest

from console.app import CampaignsApp
from console.widgets.campaign_table import CampaignTable
from store.client import edit_from_file_document
from store.models import editable_document
from store.remote import connect_remote

from .console_support import settle, wait_for
from .serving import serving, token
from .test_cli import demo, demo_template  # noqa: F401  (fixtures)


def _names(app: CampaignsApp) -> set[str]:
    return {row.name for row in app.screen.query_one(CampaignTable).rows}


@pytest.mark.slow
async def test_two_consoles_as_different_users_see_each_others_changes(demo):
    with serving(demo) as (_, url):
        alice_token, root_token = token(demo, "alice"), token(demo, "root")
        async with connect_remote(url, alice_token) as alice, connect_remote(url, root_token) as root:
            first, second = CampaignsApp(alice), CampaignsApp(root)  # the console's own refresh period
            assert first.refresh_seconds <= 2
            async with first.run_test(size=(140, 36)) as one, second.run_test(size=(140, 36)) as other:
                await settle(one)
                await settle(other)
                assert f"alice · manager · bearer token · engine: {url}" in str(first.screen.query_one("#header").render())
                assert f"root · admin · bearer token · engine: {url}" in str(second.screen.query_one("#header").render())

                created = await alice.create_campaign(edit_from_file_document(
                    {"name": "Launch from the network", "type": "action", "category": "marketing",
                     "draft": {"channel": "email"}}))
                await wait_for(other, lambda: "Launch from the network" in _names(second),
                               "alice's new campaign in root's console")

                document = editable_document(await root.campaign(created.id))
                await root.edit_draft(created.id, edit_from_file_document({**document, "name": "Launch, renamed"}))
                await wait_for(one, lambda: "Launch, renamed" in _names(first), "root's rename in alice's console")
                assert "Launch from the network" not in _names(first)
