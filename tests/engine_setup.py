"""A small, realistic workspace for engine tests: profiles with every exclusion case, configs, audiences."""

from __future__ import annotations

import json

from store.client import CampaignsClient, edit_from_file_document
from store.models import ChannelConfiguration, Role, User
from store.models.audience import Audience

PROFILES = [
    # id, first name, email, phone, email consent, sms consent, suppressed
    ("p01", "Ana", "ana@example.com", "+33600000001", True, True, False),
    ("p02", "Bo", "bo@example.com", "+33600000002", True, False, False),
    ("p03", None, "noname@example.com", None, True, True, False),      # no first name
    ("p04", "Cy", None, "+33600000004", True, True, False),            # no email address
    ("p05", "Di", "di@example.com", "+33600000005", False, False, False),  # no consent
    ("p06", "Ed", "ed@example.com", "+33600000006", True, True, True),     # suppressed
    ("p07", "Fa", "fa@example.com", "+33600000007", True, True, False),
    ("p08", "Gu", "gu@example.com", "+33600000008", True, True, False),
]


def profile_lines(profiles=PROFILES) -> str:
    lines = []
    for pid, first, email, phone, c_email, c_sms, suppressed in profiles:
        attributes = {"timeZone": "Europe/Paris", "vip": pid in ("p01", "p07")}
        if first:
            attributes["person"] = {"name": {"firstName": first}}
        identities = {k: v for k, v in (("email", email), ("phone", phone)) if v}
        lines.append(json.dumps({"id": pid, "attributes": attributes, "identities": identities,
                                 "consent": {"email": c_email, "sms": c_sms}, "suppressed": suppressed}))
    return "\n".join(lines) + "\n"


def reasons(run) -> dict[str, int]:
    """A run's exclusions by reason, as plain strings."""
    return {getattr(k, "value", k): v for k, v in run.counters.excluded.items()}


async def prepare(root: CampaignsClient, *, profiles: str | None = None) -> None:
    for name, role in (("max", Role.manager), ("apo", Role.approver)):
        await root.add_user(User(name=name, role=role))
    for channel, sender in (("email", "news@shop.example"), ("sms", "SHOP"), ("push", "app")):
        for category in ("marketing", "transactional"):
            await root.put_channel_configuration(ChannelConfiguration(
                id=f"{channel}-{category}", name=f"{channel} {category}", channel=channel, category=category, sender=sender))
    await root.put_audience(Audience.model_validate({"id": "everyone", "name": "Everyone", "rule": {"kind": "all"}}))
    await root.put_audience(Audience.model_validate({"id": "vips", "name": "VIPs", "rule": {
        "kind": "attribute", "attr": "vip", "op": "eq", "value": True}}))
    await root.import_profiles_chunk("jsonl", profiles or profile_lines(), 1)


def email_campaign(name: str = "Spring sale", *, category: str = "marketing", audience: str = "everyone",
                   type: str = "action", schedule: dict | None = None, rate: int | None = None,
                   subject: str = "Hi {{profile.person.name.firstName}}",
                   config: str | None = None) -> object:
    draft = {"channel": "email", "channel_configuration": config or f"email-{category}", "audience": audience,
             "content": {"email": {"subject": subject, "body": "<p>Sale for {{profile.person.name.firstName | default: \"you\"}}</p>"}},
             "schedule": schedule or {}}
    if rate:
        draft["rate_control"] = {"messages_per_second": rate}
    return edit_from_file_document({"name": name, "type": type, "category": category, "draft": draft})


def large_workspace(data, csv, profiles: int, *, category: str, content: dict, seed: int, activate: bool,
                    rate: int | None = None) -> str:
    """A workspace of ``profiles`` generated profiles, an `all` audience and one email campaign to them
    (Live when ``activate``: its run is then due for whichever engine runs next; throttled to ``rate``
    messages a second when given); returns its id."""
    from store.engine.engine import Engine
    from store.lifecycle import ENGINE
    from store.models import edit_from_document
    from store.import_chunks import iter_import_chunks
    from store.profiles.generate import generate_profiles_csv
    from store.workspace import Workspace

    ws = Workspace(data, founder="root")
    try:
        generate_profiles_csv(csv, profiles, seed=seed)
        for chunk in iter_import_chunks(csv):
            ws.profiles.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
        ws.catalogue.channel_configurations.put(ChannelConfiguration(
            id=f"email-{category}", name="Email", channel="email", category=category, sender="news@shop.example"))
        ws.catalogue.audiences.put(Audience.model_validate({"id": "all", "name": "All", "rule": {"kind": "all"}}))
        campaign = ws.lifecycle.create_campaign(ENGINE, edit_from_document({
            "name": "Large send", "type": "action", "category": category, "draft": {
                "channel": "email", "channel_configuration": f"email-{category}", "audience": "all",
                "content": {"email": content},
                **({"rate_control": {"messages_per_second": rate}} if rate else {})}}))
        if activate:
            engine = Engine(ws)
            engine.activate(ENGINE, campaign.id)
            engine.shutdown()
        return campaign.id
    finally:
        ws.close()
