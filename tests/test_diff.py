"""The draft-vs-live comparison the approver reads: fields, changes, line and word diffs."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from console.diff import (
    DiffLine, campaign_fields, changes, compare_versions, line_diff, side_by_side, word_spans,
)
from store.models import (
    Approval, ApprovalState, Campaign, CampaignType, Category, Channel, Content, EmailContent, RateControl,
    Recurrence, Schedule, SmsContent, Version,
)

T = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
BODY = "Hello {{profile.person.name.firstName}},\n\nWeekly newsletter: see what's new.\n\nThe Shop team"


def version(number: int = 1, **spec) -> Version:
    spec.setdefault("channel", Channel.email)
    spec.setdefault("audience", "europe")
    spec.setdefault("channel_configuration", "email-marketing")
    spec.setdefault("content", Content(email=EmailContent(subject="Weekly news", preheader="Only this week", body=BODY)))
    return Version(number=number, created_by="alice", created_at=T, updated_by="alice", updated_at=T, **spec)


def by_name(fields):
    return {f.name: f for f in fields}


# line diff ---------------------------------------------------------------------------------
def test_identical_text_is_all_same_lines():
    lines = line_diff(BODY, BODY)
    assert [ln.kind for ln in lines] == ["same"] * 5
    assert [ln.text for ln in lines] == BODY.splitlines()


def test_a_rewritten_line_is_removed_then_added_with_the_changed_words_marked():
    new = BODY.replace("Weekly newsletter:", "Weekly newsletter — updated:")
    lines = line_diff(BODY, new)
    assert [(ln.kind, ln.mark) for ln in lines] == [
        ("same", " "), ("same", " "), ("removed", "-"), ("added", "+"), ("same", " "), ("same", " ")]
    removed, added = lines[2], lines[3]
    assert removed.text == "Weekly newsletter: see what's new."
    assert added.text == "Weekly newsletter — updated: see what's new."
    assert "".join(t for t, _ in added.spans) == added.text
    assert [t for t, changed in added.spans if changed] == [" — updated"]
    assert [t for t, changed in removed.spans if changed] == []  # nothing of the old line was dropped


def test_added_and_removed_blocks_of_different_sizes_carry_no_word_spans():
    lines = line_diff("a\nb\nc", "a\nx\ny\nz\nc")
    assert [(ln.kind, ln.text) for ln in lines] == [
        ("same", "a"), ("removed", "b"), ("added", "x"), ("added", "y"), ("added", "z"), ("same", "c")]
    assert all(ln.spans == () for ln in lines)


def test_unrelated_lines_are_not_cut_into_words():
    assert word_spans("Hello Carmen", "Totally different words here") == ((), ())


def test_empty_to_text_and_back():
    assert [(ln.kind, ln.text) for ln in line_diff("", "one\ntwo")] == [("added", "one"), ("added", "two")]
    assert [(ln.kind, ln.text) for ln in line_diff("one", "")] == [("removed", "one")]
    assert line_diff("", "") == []


def test_side_by_side_puts_removed_lines_opposite_their_replacements():
    lines = line_diff("a\nb\nc\nd", "a\nB\nc\nd\ne")
    rows = side_by_side(lines)
    text = [((l.mark + l.text) if l else None, (r.mark + r.text) if r else None) for l, r in rows]
    assert text == [(" a", " a"), ("-b", "+B"), (" c", " c"), (" d", " d"), (None, "+e")]


def test_side_by_side_pads_the_shorter_side():
    rows = side_by_side([DiffLine("removed", "x"), DiffLine("removed", "y"), DiffLine("added", "z")])
    assert [(l and l.text, r and r.text) for l, r in rows] == [("x", "z"), ("y", None)]
    # an added block followed by a removed one starts a new row group
    rows = side_by_side([DiffLine("added", "new"), DiffLine("removed", "old")])
    assert [(l and l.text, r and r.text) for l, r in rows] == [(None, "new"), ("old", None)]


# fields ------------------------------------------------------------------------------------
def test_every_field_in_reading_order_and_only_the_content_changed():
    live = version(1)
    draft = version(2, content=Content(email=EmailContent(
        subject="Weekly news — updated", preheader="Only this week",
        body=BODY.replace("see what's new", "see what is new"))))
    fields = compare_versions(live, draft)
    assert [f.name for f in fields] == [
        "audience", "channel", "channel_configuration", "schedule", "rate_control", "approval",
        "content.email.subject", "content.email.preheader", "content.email.body"]
    assert [f.name for f in changes(fields)] == ["content.email.subject", "content.email.body"]
    body = by_name(fields)["content.email.body"]
    assert body.scope == "content" and body.label == "Body"
    assert [ln.kind for ln in body.lines].count("removed") == 1
    assert [ln.kind for ln in body.lines].count("added") == 1
    assert by_name(fields)["content.email.preheader"].lines == (DiffLine("same", "Only this week"),)


def test_version_fields_are_described_for_people():
    live = version(1, rate_control=RateControl(messages_per_second=500),
                   schedule=Schedule(time_zone="Europe/Paris", recurrence=Recurrence(frequency="weekly", weekdays=["MO"])))
    draft = version(2, audience="americas", channel_configuration="email-transactional",
                    schedule=Schedule(time_zone="Europe/Paris", recurrence=Recurrence(frequency="weekly", weekdays=["TU"])))
    fields = by_name(compare_versions(live, draft, configurations={"email-marketing": "email-marketing: outbox"},
                                      audiences={"europe": "europe (1,200 profiles)"}))
    assert fields["audience"].live == "europe (1,200 profiles)" and fields["audience"].draft == "americas"
    assert fields["channel_configuration"].live == "email-marketing: outbox"
    assert fields["schedule"].live.startswith("every week on MO") and "on TU" in fields["schedule"].draft
    assert fields["rate_control"].live == "500 messages per second" and fields["rate_control"].draft == "no limit"
    assert {n for n, f in fields.items() if f.changed} == {"audience", "channel_configuration", "schedule", "rate_control"}


def test_the_approval_state_is_shown_but_never_counts_as_a_change():
    live = version(1, approval=Approval(state=ApprovalState.approved, policy="marketing-email", requested_by="bruno",
                                        requested_at=T, decided_by="chloe", decided_at=T))
    draft = version(2, approval=Approval(state=ApprovalState.requested, policy="marketing-email",
                                         requested_by="bruno", requested_at=T))
    approval = by_name(compare_versions(live, draft))["approval"]
    assert approval.live == "approved (policy marketing-email), by chloe"
    assert approval.draft == "requested (policy marketing-email), by bruno"
    assert not approval.changed and approval.scope == "approval"
    assert changes(compare_versions(live, draft)) == []


def test_a_channel_change_lists_the_content_of_both_channels():
    live = version(1)
    draft = version(2, channel=Channel.sms, channel_configuration="sms-marketing",
                    content=Content(sms=SmsContent(text="SHOP: deals")))
    fields = compare_versions(live, draft)
    names = [f.name for f in fields]
    assert names[-4:] == ["content.email.subject", "content.email.preheader", "content.email.body", "content.sms.text"]
    sms = by_name(fields)["content.sms.text"]
    assert sms.label == "sms text" and sms.live is None and sms.draft == "SHOP: deals" and sms.changed
    assert [(ln.kind, ln.text) for ln in sms.lines] == [("added", "SHOP: deals")]
    subject = by_name(fields)["content.email.subject"]
    assert subject.draft is None and subject.changed and subject.lines == (DiffLine("removed", "Weekly news"),)


def test_one_side_only_shows_that_side_and_nothing_changed():
    for live, draft in ((version(1), None), (None, version(1))):
        fields = compare_versions(live, draft)
        assert changes(fields) == []
        body = by_name(fields)["content.email.body"]
        assert [ln.text for ln in body.lines] == BODY.splitlines()
        assert all(ln.kind == "same" for ln in body.lines)
        assert (body.live is None) == (live is None) and (body.draft is None) == (draft is None)
    assert all(f.live is None and f.draft is None and not f.changed for f in compare_versions(None, None))


def test_campaign_level_fields_are_shared_by_both_sides():
    campaign = Campaign(id="cmp-1", name="Weekly newsletter", description="", tags=["news", "weekly"],
                        type=CampaignType.action, category=Category.marketing, live=version(1),
                        created_by="alice", created_at=T, updated_by="alice", updated_at=T)
    fields = campaign_fields(campaign)
    assert [(f.label, f.live, f.draft, f.changed) for f in fields] == [
        ("Name", "Weekly newsletter", "Weekly newsletter", False), ("Description", "—", "—", False),
        ("Tags", "news, weekly", "news, weekly", False)]


def test_the_comparison_does_not_import_textual():
    code = "import sys, console.diff; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1]).returncode == 0


# workflows -----------------------------------------------------------------------------------
def test_a_workflow_draft_is_compared_activity_by_activity():
    import copy

    from store.demo_workflows import WORKFLOWS
    from store.models import Workflow

    live_doc = WORKFLOWS["Abandoned browse"]
    draft_doc = copy.deepcopy(live_doc)
    mail = next(a for a in draft_doc["activities"] if a["id"] == "winback")
    mail["content"]["subject"] = "Free delivery, this week only"
    draft_doc["activities"] = [a for a in draft_doc["activities"] if a["id"] != "save"]
    draft_doc["activities"].append({"id": "tag", "kind": "end", "label": "Tagged"})
    draft_doc["transitions"] = [t for t in draft_doc["transitions"] if "save" not in (t["from"], t["to"])]
    draft_doc["transitions"].append({"from": "winback", "to": "done", "name": "sent"})
    live = version(workflow=Workflow.model_validate(live_doc))
    draft = version(2, workflow=Workflow.model_validate(draft_doc))

    fields = by_name(compare_versions(live, draft))
    assert "audience" not in fields and "content.email.body" not in fields  # the activities carry them
    assert {f.label for f in changes(list(fields.values()))} == {
        "Email winback · changed", "Save audience save · removed", "End tag · added", "Transitions"}
    subject = fields["workflow.activities.winback"]
    assert [ln.text.strip() for ln in subject.lines if ln.kind == "added"] == [
        '"subject": "Free delivery, this week only",']
    assert not fields["workflow.activities.browsers"].changed
    transitions = fields["workflow.transitions"]
    assert {ln.text for ln in transitions.lines if ln.kind == "removed"} == {
        "winback → save  (targeted)", "save → done  (saved)"}
    assert {ln.text for ln in transitions.lines if ln.kind == "added"} == {"winback → done  (sent)"}
