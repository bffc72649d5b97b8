"""The demo's orchestrated campaigns as real workflows: a welcome series (a split and a wait), a win-back (an
exclusion and a deduplication), a multi-channel announcement (a fork), and a referral launch."""

from __future__ import annotations

FIRST_NAME = "{{profile.person.name.firstName | default: \"friend\"}}"


def _email(activity_id: str, label: str, subject: str, body: str, rate: int | None = None) -> dict:
    activity = {"id": activity_id, "kind": "email", "label": label, "channel_configuration": "email-marketing",
                "content": {"subject": subject, "body": body}}
    if rate:
        activity["rate_control"] = {"messages_per_second": rate}
    return activity


def _t(source: str, to: str, name: str) -> dict:
    return {"from": source, "to": to, "name": name}


WORKFLOWS: dict[str, dict] = {
    "Onboarding journey": {
        "activities": [
            {"id": "subscribers", "kind": "read_audience", "label": "Email subscribers", "audience": "email-subscribers"},
            {"id": "by-tier", "kind": "split", "label": "Loyalty tier", "segments": [
                {"transition": "gold", "rule": {"kind": "attribute", "attr": "loyalty.tier", "op": "eq", "value": "gold"}},
                {"transition": "test-half", "percent": 50}], "remainder": "others"},
            _email("welcome-gold", "Gold welcome", f"Welcome to Gold, {FIRST_NAME}",
                   f"Hello {FIRST_NAME},\n\nYour Gold perks start today.\n\nThe Shop team"),
            _email("welcome-a", "Welcome (story)", f"{FIRST_NAME}, welcome to the Shop",
                   "Here is how we started, and what we make.\n\nThe Shop team"),
            _email("welcome-b", "Welcome (offer)", f"{FIRST_NAME}, 10% off your first order",
                   "Use WELCOME10 at checkout.\n\nThe Shop team"),
            {"id": "two-days", "kind": "wait", "label": "Two days later", "duration": "2d"},
            _email("tips", "Getting started tips", "Three things to try this week",
                   f"Hello {FIRST_NAME},\n\nSave favourites, follow a collection, set your size.\n\nThe Shop team"),
            {"id": "done", "kind": "end"},
            {"id": "done-gold", "kind": "end"},
        ],
        "transitions": [
            _t("subscribers", "by-tier", "subscribers"),
            _t("by-tier", "welcome-gold", "gold"), _t("by-tier", "welcome-a", "test-half"),
            _t("by-tier", "welcome-b", "others"), _t("welcome-gold", "done-gold", "gold-welcomed"),
            _t("welcome-a", "two-days", "story-sent"), _t("two-days", "tips", "after-two-days"),
            _t("tips", "done", "tips-sent"), _t("welcome-b", "done", "offer-sent"),
        ],
    },
    "Abandoned browse": {
        "activities": [
            {"id": "browsers", "kind": "build_audience", "label": "Browsed, no order", "rule": {
                "kind": "and", "rules": [{"kind": "consent", "channel": "email"},
                                         {"kind": "attribute", "attr": "loyalty.points", "op": "lt", "value": 100}]}},
            {"id": "vip", "kind": "read_audience", "label": "VIP customers", "audience": "vip"},
            {"id": "not-vip", "kind": "combine", "label": "Less the VIPs", "operation": "exclusion",
             "primary": "browsers"},
            {"id": "one-per-email", "kind": "deduplication", "label": "One per address", "attr": "identities.email"},
            _email("winback", "We miss you", f"{FIRST_NAME}, we kept something for you",
                   "Come back this week for free delivery.\n\nThe Shop team"),
            {"id": "save", "kind": "save_audience", "label": "Save as win-back list", "list": "winback"},
            {"id": "done", "kind": "end"},
        ],
        "transitions": [
            _t("browsers", "not-vip", "browsers"), _t("vip", "not-vip", "vips"),
            _t("not-vip", "one-per-email", "non-vip"), _t("one-per-email", "winback", "unique"),
            _t("winback", "save", "targeted"), _t("save", "done", "saved"),
        ],
    },
    "Quarterly lookbook": {
        "activities": [
            {"id": "readers", "kind": "read_audience", "label": "Europe newsletter", "audience": "europe-newsletter"},
            {"id": "fork", "kind": "fork", "label": "Every channel"},
            _email("lookbook-email", "Lookbook email", f"{FIRST_NAME}, the winter lookbook is here",
                   "Forty looks for the cold months.\n\nThe Shop team", rate=100),
            {"id": "app", "kind": "split", "label": "Has the app", "segments": [{"transition": "app-users", "rule": {
                "kind": "and", "rules": [{"kind": "consent", "channel": "push"},
                                         {"kind": "attribute", "attr": "identities.push_token", "op": "exists"}]}}],
             "remainder": "no-app"},
            {"id": "two-weeks", "kind": "wait", "label": "Two weeks later", "duration": "14d"},
            {"id": "lookbook-push", "kind": "push", "label": "Lookbook push", "channel_configuration": "push-marketing",
             "content": {"title": "The winter lookbook", "body": f"{FIRST_NAME}, forty new looks inside"}},
            {"id": "done", "kind": "end"},
            {"id": "done-app", "kind": "end"},
            {"id": "done-web", "kind": "end"},
        ],
        "transitions": [
            _t("readers", "fork", "readers"), _t("fork", "lookbook-email", "to-email"), _t("fork", "app", "to-app"),
            _t("app", "two-weeks", "app-users"), _t("two-weeks", "lookbook-push", "reminded"),
            _t("app", "done-web", "no-app"),
            _t("lookbook-email", "done", "emailed"), _t("lookbook-push", "done-app", "pushed"),
        ],
    },
    "Referral programme launch": {
        "activities": [
            {"id": "subscribers", "kind": "read_audience", "label": "Email subscribers", "audience": "email-subscribers"},
            {"id": "referral", "kind": "enrichment", "label": "Referral codes", "csv": "id,referral.code\n" + "".join(
                f"p{n:07d},FRIEND-{n:04d}\n" for n in range(1, 41))},
            _email("invite", "Invite a friend", f"{FIRST_NAME}, give 15 EUR, get 15 EUR",
                   "Share your code {{profile.referral.code | default: \"FRIEND15\"}} with a friend.\n\nThe Shop team"),
            {"id": "done", "kind": "end"},
        ],
        "transitions": [_t("subscribers", "referral", "subscribers"), _t("referral", "invite", "with-codes"),
                        _t("invite", "done", "invited")],
    },
}
"""Each demo orchestrated campaign's workflow, by campaign name."""
