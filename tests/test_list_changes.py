"""The list's incremental answers: after the first, only the rows changed since the revision the client
holds (saved campaigns, a run started or ended), while the counters of a run in flight change nothing."""

from __future__ import annotations



from .engine_setup import email_campaign


async def changes(client, since: str) -> tuple[str, dict]:
    response = await client.http.get("/v1/campaigns", params={"all": "true", "since": since})
    assert response.status_code == 200
    return response.headers["X-List-Revision"], response.json()


async def test_only_rows_changed_since_the_revision_sent_are_answered(root, client_as, engine):
    first = await root.create_campaign(email_campaign("First"))
    second = await root.create_campaign(email_campaign("Second"))
    token, answer = await changes(root, "")
    assert answer["full"] and {r["id"] for r in answer["rows"]} == {first.id, second.id} and answer["revision"] == token
    token, answer = await changes(root, token)
    assert answer == {"revision": token, "full": False, "removed": [], "rows": []}  # nothing changed
    copy = await root.duplicate(first.id)
    token, answer = await changes(root, token)
    assert not answer["full"] and [r["id"] for r in answer["rows"]] == [copy.id]
    await root.delete_campaign(copy.id)
    token, answer = await changes(root, token)
    assert answer["removed"] == [copy.id] and answer["rows"] == []
    await root.activate(first.id)
    engine.run_until_idle()  # the run starts and ends: the row's last run changed
    token, answer = await changes(root, token)
    [row] = answer["rows"]
    assert row["id"] == first.id and row["status"] == "Live" and row["last_run"]["sent"] == 4
    _, other = await changes(client_as("max"), token)  # another caller's rows carry other actions
    assert other["full"] and len(other["rows"]) == 2
    _, stale = await changes(root, "0123abcd.1." + token.rsplit(".", 1)[1])  # another engine's revision
    assert stale["full"]


async def test_the_client_keeps_its_rows_and_patches_in_what_changed(root):
    first = await root.create_campaign(email_campaign("First"))
    rows = await root.campaign_rows()
    assert await root.campaign_rows() is rows  # nothing changed: the very same list
    copy = await root.duplicate(first.id)
    patched = await root.campaign_rows()
    assert patched is not rows and [r.id for r in patched] == [copy.id, first.id]
    await root.delete_campaign(copy.id)
    assert [r.id for r in await root.campaign_rows()] == [first.id]
