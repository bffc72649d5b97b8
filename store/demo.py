"""A realistic demo workspace: users of every role, channel configurations, audiences, profiles,
and 40+ campaigns in every type, category and status, built through the lifecycle itself, and a history
of executions of its Live api campaigns called by the shop's backend (an api-client).

History is laid out over the days before now with its own clock, so the list reads like a
workspace people have been using: drafts beside live versions, reviews pending, runs completed.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .administration import Administration
from .clock import FrozenClock
from .demo_workflows import WORKFLOWS
from .engine.engine import Engine
from .import_chunks import iter_import_chunks
from .models import (
    ApprovalPolicy, CampaignAction, Category, Channel, ChannelConfiguration, Role, Status, User, editable_document, edit_from_document,
)
from .models.audience import AllRule, Audience
from .models.execution import Recipient
from .models.workspace_info import DemoSeeded
from .profiles.generate import generate_profiles_csv
from .workspace import Workspace

DEMO_PROFILES = 2_400

USERS = [("alice", Role.manager, "Alice Martin"), ("bruno", Role.manager, "Bruno Costa"),
         ("chloe", Role.approver, "Chloé Dubois"), ("dmitri", Role.approver, "Dmitri Volkov"),
         ("eve", Role.viewer, "Eve Nakamura"), ("fatima", Role.admin, "Fatima Haddad"),
         ("storefront", Role.api_client, "Shop backend")]
CALLER = "storefront"  # the system that calls the api campaigns in the demo's history

CONFIGS = [
    dict(id="email-marketing", name="Newsletter email", channel="email", category="marketing",
         sender="news@shop.example", sender_name="Shop News", reply_to="care@shop.example"),
    dict(id="email-transactional", name="Service email", channel="email", category="transactional",
         sender="no-reply@shop.example", sender_name="Shop"),
    dict(id="sms-marketing", name="Promo SMS", channel="sms", category="marketing", sender="SHOP"),
    dict(id="sms-transactional", name="Alerts SMS", channel="sms", category="transactional", sender="+33612345678"),
    dict(id="push-marketing", name="App promotions", channel="push", category="marketing", sender="com.shop.app"),
    dict(id="push-transactional", name="App notices", channel="push", category="transactional", sender="com.shop.app"),
]

AUDIENCES = [
    ("everyone", "Everyone", {"kind": "all"}),
    ("email-subscribers", "Email subscribers", {"kind": "consent", "channel": "email"}),
    ("europe-newsletter", "Europe newsletter readers", {"kind": "and", "rules": [
        {"kind": "in_list", "list": "newsletter"},
        {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "Europe/"}]}),
    ("americas", "Customers in the Americas", {"kind": "attribute", "attr": "timeZone", "op": "startswith", "value": "America/"}),
    ("vip", "VIP customers", {"kind": "in_list", "list": "vip"}),
    ("beta-testers", "Beta testers", {"kind": "in_list", "list": "beta"}),
    ("app-users", "App users with push consent", {"kind": "and", "rules": [
        {"kind": "consent", "channel": "push"}, {"kind": "attribute", "attr": "identities.push_token", "op": "exists"}]}),
]

CONTENT = {
    "email": lambda title: {"email": {"subject": f"{title}, {{{{profile.person.name.firstName | default: \"friend\"}}}}",
                                      "preheader": "Only this week",
                                      "body": f"Hello {{{{profile.person.name.firstName}}}},\n\n{title}: see what's new.\n\nThe Shop team"}},
    "sms": lambda title: {"sms": {"text": f"SHOP: {title}. Reply STOP to opt out."}},
    "push": lambda title: {"push": {"title": title, "body": "{{profile.person.name.firstName}}, tap to see more"}},
}


# API-triggered content reads the call's {{context.*}}; the defaults keep the console's preview readable
API_CONTENT = {
    "Password reset": {"email": {
        "subject": "Reset your password",
        "body": "Hello {{profile.person.name.firstName | default: \"there\"}},\n\nReset your password within the hour: "
                "{{context.resetLink | default: \"https://shop.example/reset\"}}\n\nThe Shop team"}},
    "Order shipped": {"sms": {"text": "SHOP: order {{context.orderId | default: \"(your order)\"}} is on its way, "
                                      "track it at {{context.trackingUrl | default: \"https://shop.example/track\"}}"}},
    "Cart reminder": {"email": {
        "subject": "{{profile.person.name.firstName | default: \"Hi\"}}, your cart is waiting",
        "body": "You left {{context.itemName | default: \"something\"}} in your cart "
                "({{context.cartTotal | default: \"see total\"}}).\n\nThe Shop team"}},
    "Back in stock": {"sms": {"text": "SHOP: {{context.productName | default: \"an item you liked\"}} is back in "
                                      "stock. Reply STOP to opt out."}},
}


@dataclass
class Plan:
    name: str
    type: str
    category: str
    channel: str
    status: Status
    audience: str = "everyone"
    tags: tuple[str, ...] = ()
    schedule: dict | None = None
    rate: int | None = None
    draft_beside: str | None = None  # None, "open", "review"


def _plans() -> list[Plan]:
    S = Status
    weekly = {"time_zone": "Europe/Paris", "recurrence": {"frequency": "weekly", "weekdays": ["MO"], "at": "09:00"}}
    daily = {"time_zone": "America/New_York", "recurrence": {"frequency": "daily", "at": "08:30"}}
    monthly = {"time_zone": "Europe/London", "recurrence": {"frequency": "monthly", "month_day": 1, "at": "10:00"}}
    hourly = {"time_zone": "UTC", "recurrence": {"frequency": "hourly", "interval": 12}}
    return [
        Plan("Black Friday early access", "action", "marketing", "email", S.live, "vip", ("sale", "vip"), rate=200, draft_beside="open"),
        Plan("Winter sale teaser", "action", "marketing", "email", S.scheduled, "email-subscribers", ("sale",), {"time_zone": "Europe/Paris", "start": "+5d 09:00"}, draft_beside="review"),
        Plan("Weekly newsletter", "action", "marketing", "email", S.live, "europe-newsletter", ("newsletter",), weekly, rate=500, draft_beside="open"),
        Plan("Daily deals SMS", "action", "marketing", "sms", S.live, "americas", ("deals",), daily, rate=50),
        Plan("Monthly statement ready", "action", "transactional", "email", S.live, "everyone", ("billing",), monthly),
        Plan("Stock alert sync", "action", "transactional", "push", S.live, "app-users", ("ops",), hourly),
        Plan("Password reset", "api", "transactional", "email", S.live, "everyone", ("account",)),
        Plan("Order shipped", "api", "transactional", "sms", S.live, "everyone", ("orders",), draft_beside="open"),
        Plan("Cart reminder", "api", "marketing", "email", S.live, "email-subscribers", ("cart",), rate=100),
        Plan("Delivery delay notice", "action", "transactional", "sms", S.completed, "americas", ("ops",)),
        Plan("Autumn lookbook", "action", "marketing", "email", S.completed, "email-subscribers", ("lookbook",)),
        Plan("App update 5.2", "action", "marketing", "push", S.completed, "app-users", ("app",)),
        Plan("Flash sale 2h", "action", "marketing", "sms", S.completed, "vip", ("sale", "vip")),
        Plan("Service outage apology", "action", "transactional", "email", S.completed, "everyone", ("ops",)),
        Plan("Holiday gift guide", "action", "marketing", "email", S.scheduled, "europe-newsletter", ("holiday",), {"time_zone": "Europe/Paris", "start": "+9d 08:00"}),
        Plan("New year countdown", "action", "marketing", "push", S.scheduled, "app-users", ("holiday",), {"time_zone": "Asia/Tokyo", "start": "+30d 23:00"}, draft_beside="open"),
        Plan("Loyalty points expiry", "action", "transactional", "email", S.scheduled, "vip", ("loyalty",), {"time_zone": "UTC", "start": "+3d 12:00"}),
        Plan("Store opening Lyon", "action", "marketing", "sms", S.scheduled, "europe-newsletter", ("stores",), {"time_zone": "Europe/Paris", "start": "+12d 10:00"}),
        Plan("Summer clearance", "action", "marketing", "email", S.stopped, "email-subscribers", ("sale",)),
        Plan("Beta feedback survey", "action", "marketing", "push", S.stopped, "beta-testers", ("beta",)),
        Plan("Payment retry notice", "api", "transactional", "sms", S.stopped, "everyone", ("billing",)),
        Plan("Welcome series step 1", "api", "marketing", "email", S.failed, "email-subscribers", ("welcome",)),
        Plan("Gateway test blast", "action", "transactional", "sms", S.failed, "beta-testers", ("ops",)),
        Plan("Spring collection 2026", "action", "marketing", "email", S.archived, "email-subscribers", ("lookbook",)),
        Plan("Old app sunset", "action", "transactional", "push", S.archived, "app-users", ("app",)),
        Plan("Legacy SMS opt-in", "action", "marketing", "sms", S.archived, "americas", ("legal",)),
        Plan("Privacy policy update", "action", "transactional", "email", S.activating, "everyone", ("legal",)),
        Plan("VIP private sale", "action", "marketing", "email", S.in_review, "vip", ("sale", "vip")),
        Plan("Re-engagement winback", "action", "marketing", "email", S.in_review, "email-subscribers", ("winback",)),
        Plan("Referral programme launch", "orchestrated", "marketing", "email", S.in_review, "email-subscribers", ("referral",)),
        Plan("Holiday hours update", "action", "marketing", "email", S.in_review, "europe-newsletter", ("holiday",)),
        Plan("Cyber Monday push", "action", "marketing", "push", S.draft, "app-users", ("sale",)),
        Plan("Birthday coupon", "api", "marketing", "email", S.draft, "email-subscribers", ("loyalty",)),
        Plan("Onboarding journey", "orchestrated", "marketing", "email", S.draft, "email-subscribers", ("welcome",)),
        Plan("Abandoned browse", "orchestrated", "marketing", "email", S.draft, "email-subscribers", ("winback",)),
        Plan("Two-factor code", "api", "transactional", "sms", S.draft, "everyone", ("account",)),
        Plan("Q1 product survey", "action", "marketing", "email", S.draft, "beta-testers", ("beta", "survey")),
        Plan("Price change notice", "action", "transactional", "email", S.draft, "everyone", ("legal",)),
        Plan("Win a trip contest", "action", "marketing", "sms", S.draft, "americas", ("contest",)),
        Plan("Back in stock", "api", "marketing", "sms", S.live, "americas", ("stock",)),
        Plan("Quarterly lookbook", "orchestrated", "marketing", "email", S.live, "europe-newsletter", ("lookbook",)),
        Plan("Account locked alert", "api", "transactional", "push", S.live, "app-users", ("account",)),
        Plan("Green week digest", "action", "marketing", "email", S.completed, "europe-newsletter", ("newsletter",)),
    ]


class _StoryClock(FrozenClock):
    """The demo's own time: it starts ten days ago and moves only when the story steps forward,
    so the engine really runs each campaign's sends at the moment the story says they happened."""

    def __init__(self, end: datetime) -> None:
        super().__init__(end - timedelta(days=10))
        self.end = end

    def step(self, minutes: float) -> None:
        self.step_to(self._now + timedelta(minutes=minutes))

    def step_to(self, when: datetime) -> None:
        target = max(self.now(), min(when, self.end - timedelta(minutes=1)))
        self.advance(target - self.now())


def _story_order(plan: Plan) -> tuple:
    """Oldest first: finished campaigns, live recurring and API ones, scheduled ones, reviews and drafts;
    one-shots that must still be Live come last (they complete 3 days after sending)."""
    one_shot_live = plan.status is Status.live and plan.schedule is None and plan.type != "api"
    order = [Status.completed, Status.stopped, Status.failed, Status.archived, Status.live, Status.scheduled,
             Status.in_review, Status.draft, Status.activating, "one-shot live"]
    return (order.index("one-shot live" if one_shot_live else plan.status), plan.type == "api")


def seed_demo_workspace(ws: Workspace, actor: User) -> DemoSeeded:
    story = _StoryClock(ws.clock.now())
    admin = Administration(ws.catalogue, story)
    engine = Engine(ws, clock=story)
    # Whoever seeds the demo is its admin, even when their OS account shares a name with a demo persona.
    people = {name: actor if name == actor.name else admin.add_user(actor, User(name=name, role=role, display_name=display))
              for name, role, display in USERS}
    for config in CONFIGS:
        admin.put_channel_configuration(actor, ChannelConfiguration.model_validate(config))
    for audience_id, name, rule in AUDIENCES:
        admin.put_audience(actor, Audience.model_validate({"id": audience_id, "name": name, "rule": rule}))
    admin.put_approval_policy(actor, ApprovalPolicy.model_validate({
        "id": "marketing-email", "name": "Marketing email needs an approver",
        "conditions": {"categories": ["marketing"], "channels": ["email"]}, "approvers": {"roles": ["approver"]}}))
    admin.put_approval_policy(actor, ApprovalPolicy.model_validate({
        "id": "vip-offers", "name": "VIP offers need Dmitri", "conditions": {"tags": ["vip"]},
        "approvers": {"users": ["dmitri"]}}))
    profiles = _import_profiles(ws)
    plans = sorted(_plans(), key=_story_order)
    rng = random.Random(7)
    start, span = story.now(), timedelta(days=9)
    activating = [p for p in plans if p.status is Status.activating]  # left for the real engine to finish
    try:
        for i, plan in enumerate(p for p in plans if p not in activating):
            story.step_to(start + span * (i + rng.uniform(0.6, 1.0)) / len(plans))
            _build(engine, ws, people, plan, author=people["alice" if i % 2 == 0 else "bruno"], story=story)
            engine.run_until_idle()
        calls = _ApiCalls(engine, ws, people[CALLER])
        while story.now() < story.end - timedelta(minutes=2):  # live until now: recurring runs happen on time
            story.step(60)
            calls.next()
            engine.run_until_idle()
        for plan in activating:
            _build(engine, ws, people, plan, author=people["alice"], story=story)
    finally:
        engine.shutdown()
    return DemoSeeded(users=len(ws.catalogue.users.all()), channel_configurations=len(CONFIGS), audiences=len(AUDIENCES),
                      profiles=profiles, campaigns=len(plans))


class _ApiCalls:
    """The shop's backend calling the Live api campaigns through the engine, one call an hour in turn (never
    "Password reset", whose outbox the tests read as their own): known customers by their email or phone, now
    and then someone unknown, or a guest (external) for a transactional one, so some recipients are excluded."""

    CAMPAIGNS = {"Order shipped": lambda n: {"orderId": f"A-{1040 + n}", "trackingUrl": f"https://shop.example/t/{n}"},
                 "Cart reminder": lambda n: {"itemName": ("a rain jacket", "two mugs", "trail shoes")[n % 3],
                                             "cartTotal": f"{40 + 7 * n} EUR"},
                 "Back in stock": lambda n: {"productName": ("Linen shirt", "Espresso cups", "Wool socks")[n % 3]}}

    def __init__(self, engine: Engine, ws: Workspace, caller: User) -> None:
        self.engine, self.caller, self.count = engine, caller, 0
        self.rows = next(ws.profiles.iter_audience_rows(AllRule(), chunk_size=120))
        ids = {r.row["name"]: r.row["id"] for r in ws.catalogue.campaign_rows()}
        self.catalogue, self.campaign_ids = ws.catalogue, [ids[name] for name in self.CAMPAIGNS]

    def next(self) -> None:
        n = self.count
        self.count += 1
        campaign = self.catalogue.campaign(self.campaign_ids[n % len(self.campaign_ids)])
        if campaign.status is not Status.live:
            return
        email = campaign.channel is Channel.email
        namespace, column = ("email", 1) if email else ("phone", 2)
        rows = [r for r in self.rows[n * 3:] if r[column]][:1 + n % 3]
        recipients = [{"userId": r[column], "namespace": namespace} for r in rows]
        if n % 4 == 1:
            recipients.append({"userId": "someone@unknown.example" if email else "+15550100999", "namespace": namespace})
        if n % 5 == 2 and campaign.category is Category.transactional:
            recipients.append({"type": "external", "userId": "guest-7", "namespace": namespace,
                               "channelData": {"mobilePhoneNumber": "+33699887766"}})
        self.engine.execute(self.caller, campaign.id, f"{campaign.id}-call-{n + 1}",
                            [Recipient.model_validate(r) for r in recipients], self.CAMPAIGNS[campaign.name](n))


def _import_profiles(ws: Workspace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profiles.csv"
        generate_profiles_csv(path, DEMO_PROFILES, seed=42)
        for chunk in iter_import_chunks(path):
            assert chunk.header is not None, "the demo's profiles are a CSV file"
            ws.profiles.import_csv_chunk(chunk.header, chunk.text, chunk.first_line)
    return ws.profiles.count()


def _schedule(plan: Plan, now: datetime) -> dict:
    schedule = dict(plan.schedule or {})
    start = schedule.get("start")
    if isinstance(start, str) and start.startswith("+"):
        days, at = start[1:].split("d ")
        day = (now + timedelta(days=int(days))).date()
        schedule["start"] = f"{day.isoformat()}T{at}"
    return schedule


def _build(engine: Engine, ws: Workspace, people: dict[str, User], plan: Plan, author: User,
           story: _StoryClock) -> None:
    S = Status
    life = engine.lifecycle
    draft = {"channel": plan.channel, "channel_configuration": f"{plan.channel}-{plan.category}",
             "audience": plan.audience, "content": API_CONTENT.get(plan.name) or CONTENT[plan.channel](plan.name),
             "schedule": _schedule(plan, ws.clock.now())}
    if plan.rate:
        draft["rate_control"] = {"messages_per_second": plan.rate}
    if plan.type == "orchestrated":  # its workflow says whom to send what: no action fields of its own
        draft = {"workflow": WORKFLOWS[plan.name], "schedule": draft["schedule"]}
    c = life.create_campaign(author, edit_from_document({
        "name": plan.name, "type": plan.type, "category": plan.category, "tags": list(plan.tags),
        "description": f"{plan.category.capitalize()} {plan.channel} campaign.", "draft": draft}))
    if plan.status is S.draft:
        return
    needs_approval = c.draft is not None and bool(life.approval_policies(c, c.draft))
    if needs_approval:
        life.request_approval(author, c.id)
        if plan.status is S.in_review:
            return
        story.step(45)
        for approver in (people["chloe"], people["dmitri"]):  # each approves under the policies naming them
            if CampaignAction.approve in (life.campaign(approver, c.id).actions or ()):
                life.approve(approver, c.id, c.current.revision)
    elif plan.status is S.in_review:
        return  # In review only exists under a policy
    story.step(20)
    if plan.status is S.activating:
        life.activate_campaign(author, c.id, None)  # the engine checks and completes it when it next runs
        return
    engine.activate(author, c.id)
    engine.run_until_idle()
    story.step(60)
    if plan.status is S.failed:
        life.engine_failed(c.id, "every send failed: 550 5.7.1 relay access denied (smtp mail.shop.example:25)")
    elif plan.status is S.completed:
        life.engine_completed(c.id, "one-shot campaign completed 3 days after it was sent")
    elif plan.status is S.stopped:
        engine.stop(author, c.id)
    elif plan.status is S.archived:
        life.engine_completed(c.id, "one-shot campaign completed 3 days after it was sent")
        life.archive_campaign(author, c.id)
    elif plan.draft_beside:
        doc = editable_document(life.campaign(author, c.id))
        doc["draft"]["content"] = CONTENT[plan.channel](plan.name + " — updated")
        life.edit_draft(people["bruno"], c.id, edit_from_document(doc))
        if plan.draft_beside == "review" and needs_approval:
            life.request_approval(people["bruno"], c.id)
