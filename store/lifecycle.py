"""The campaign state machine (DESIGN.md section 2): every status change and every edit goes here.

Each public method refuses by the rules of ``campaign_rules`` (the actor's role, the campaign's status, the
approval policy), then saves the campaign and its audit event as one journal entry. The engine tells it what
its checks found (``activate_campaign``, ``complete_activation``) and drives Live → Completed and failures
through the ``engine_*`` methods.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .approvals import decidable, policies_for, self_approval, why_not_decider
from .campaign_rules import (
    RULES, TRANSITIONS, WHY_NOT, CampaignFacts, Policies, actions_of_rows, available_actions,
)
from .clock import Clock
from .db.catalogue import Catalogue
from .templates import check_content
from .errors import Forbidden, InvalidTransition, StaleRevision, ValidationFailed
from .limits import NAME_CHARS
from .listing import summarize
from .readiness import draft_problems
from .workflow_rules import workflow_problems
from .models import (
    Approval, ApprovalPolicy, ApprovalState, AuditEvent, Campaign, CampaignAction, CampaignEdit, CampaignType, Role, Status, User,
    Version, proof_of,
)
from .roles import Action, require

__all__ = ["ENGINE", "TRANSITIONS", "ActivationOutcome", "Lifecycle"]

ENGINE = User(name="engine", role=Role.admin, display_name="Campaigns engine")


@dataclass(frozen=True)
class ActivationOutcome:
    """What the engine's checks found: the status the version goes to, or why it cannot go live."""

    scheduled: bool = False  # it waits for its start date (Scheduled), else it is Live at once
    refusal: str | None = None


class Lifecycle:
    def __init__(self, catalogue: Catalogue, clock: Clock) -> None:
        self.catalogue = catalogue
        self.clock = clock

    # helpers -----------------------------------------------------------------------------
    def _change(self, campaign_id: str, actor: User, verb: str, action: CampaignAction | None,
                mutate: Callable[[Campaign], str]) -> Campaign:
        """Load, check ``action`` applies, mutate, save and audit in one atomic step. The campaign returned
        lists what ``actor`` may do to it next."""
        with self.catalogue.atomic():
            campaign = self.catalogue.campaign(campaign_id)
            if action is not None:
                self.check(actor, action, campaign)
            self._apply(campaign, actor, verb, mutate)
        return self.shown(actor, campaign)

    def _apply(self, campaign: Campaign, actor: User, verb: str, mutate: Callable[[Campaign], str]) -> None:
        """Mutate (it returns the audit detail), stamp, save and audit; inside the caller's atomic step."""
        detail = mutate(campaign)
        campaign.updated_by, campaign.updated_at = actor.name, self.clock.now()
        self.catalogue.save_campaign(campaign)
        self._audit(actor, verb, campaign, detail)

    def _audit(self, actor: User, action: str, campaign: Campaign, detail: str = "") -> None:
        # The engine acts on what is live; people act on the draft they are working on.
        version = (campaign.live or campaign.draft) if actor is ENGINE else (campaign.draft or campaign.live)
        self.catalogue.add_audit(AuditEvent(
            at=self.clock.now(), user=actor.name, action=action, target=campaign.id, campaign_id=campaign.id,
            version=version.number if version else None, detail=detail, proof=proof_of(actor),
        ))

    @staticmethod
    def _move(campaign: Campaign, to: Status, verb: str) -> None:
        if to not in TRANSITIONS[campaign.status]:
            why = WHY_NOT.get(campaign.status, f"a {campaign.status.value} campaign cannot go to {to.value}")
            raise InvalidTransition(f"cannot {verb} {campaign.id} ({campaign.name}): {why}")
        campaign.status = to

    def policies(self) -> Policies:
        return Policies(self.catalogue.approval_policies.all())

    def approval_policies(self, campaign: Campaign, version: Version) -> list[ApprovalPolicy]:
        """Every policy this version falls under (each needs an approval); none when it needs no approval."""
        return policies_for(self.catalogue.approval_policies.all(), campaign.type, campaign.category, version.channel,
                          campaign.tags)

    def check(self, actor: User, action: CampaignAction, campaign: Campaign, policies: Policies | None = None) -> None:
        """Refuse, as the rules of ``campaign_rules`` say: the role first (403), then the campaign's state."""
        policies = policies or self.policies()
        facts = CampaignFacts.of(campaign)
        rule = RULES[action]
        require(actor, rule.permission(policies.facts(actor, facts)))
        refusal = rule.refuse(policies.facts(actor, facts))
        if refusal is not None:
            error, sentence = refusal
            raise error(sentence.format(**_words(actor, campaign, facts, policies)))

    def shown(self, actor: User, campaign: Campaign) -> Campaign:
        """The campaign as its reader gets it: with the actions open to them now."""
        campaign.actions = available_actions(campaign, actor, self.policies())
        return campaign

    def row_actions(self, actor: User) -> Callable[[CampaignFacts], tuple[CampaignAction, ...]]:
        """The actions open to ``actor`` on each list row, by the same rules (the list calls it per row)."""
        self.check_may_read(actor)
        return actions_of_rows(actor, self.policies())

    def _check_references(self, edit: CampaignEdit) -> None:
        """Templates must parse, and a campaign may only select an audience and a channel configuration
        that exist and fit; a syntax error is shown when the version is saved, not at send time."""
        errors = []
        try:
            check_content(edit.version.content)
        except ValidationFailed as error:
            errors.extend(error.errors)
        spec, category = edit.version, edit.campaign.category
        if spec.workflow is not None:
            errors.extend(workflow_problems(spec.workflow, category, self.catalogue))
        if spec.audience and self.catalogue.audiences.find(spec.audience) is None:
            errors.append({"field": "draft.audience", "message": f"no audience {spec.audience!r}; create it first or pick one from `campaigns audiences`"})
        if spec.channel_configuration:
            config = self.catalogue.channel_configurations.find(spec.channel_configuration)
            if config is None:
                errors.append({"field": "draft.channel_configuration", "message": f"no channel configuration {spec.channel_configuration!r}; an admin must create it first"})
            elif config.channel is not spec.channel or config.category is not category:
                errors.append({"field": "draft.channel_configuration", "message": (
                    f"{config.id!r} serves {config.category.value} {config.channel.value}, "
                    f"not {category.value} {spec.channel.value}")})
        if errors:
            raise ValidationFailed.of(errors)

    def _new_version(self, actor: User, number: int, edit: CampaignEdit) -> Version:
        now = self.clock.now()
        return Version(number=number, created_by=actor.name, created_at=now, updated_by=actor.name,
                       updated_at=now, **edit.version.model_dump())

    # authoring ---------------------------------------------------------------------------
    def create_campaign(self, actor: User, edit: CampaignEdit) -> Campaign:
        require(actor, Action.create)
        self._check_references(edit)
        with self.catalogue.atomic():
            now = self.clock.now()
            campaign = Campaign(
                id=self.catalogue.allocate_campaign_id(), **edit.campaign.model_dump(),
                draft=self._new_version(actor, 1, edit),
                created_by=actor.name, created_at=now, updated_by=actor.name, updated_at=now,
            )
            self.catalogue.save_campaign(campaign)
            self._audit(actor, "created", campaign, f"{campaign.type.value} {campaign.category.value} {campaign.channel.value}")
        return self.shown(actor, campaign)

    def edit_draft(self, actor: User, campaign_id: str, edit: CampaignEdit) -> Campaign:
        """Edit the draft, creating it beside a Live or Scheduled version; a stale revision is refused."""
        self.check(actor, CampaignAction.edit, self.catalogue.campaign(campaign_id))  # before the content is read
        self._check_references(edit)

        def mutate(c: Campaign) -> str:
            if (edit.campaign.type, edit.campaign.category) != (c.type, c.category):
                raise ValidationFailed(
                    "type and category are fixed once a campaign is created; duplicate it to change them",
                    [{"field": "type" if edit.campaign.type != c.type else "category", "message": "cannot change after creation"}])
            base = c.current
            _check_revision(c, edit.base_revision, "edit", "your edit started from", "apply your change again")
            c.name, c.description, c.tags = edit.campaign.name, edit.campaign.description, edit.campaign.tags
            now = self.clock.now()
            if c.draft is None:
                # Revisions continue from the live version's, so an edit based on the live version is
                # refused once someone else has opened a draft beside it.
                c.draft = self._new_version(actor, c.next_version_number(), edit).model_copy(
                    update={"revision": base.revision + 1})
                return f"draft version {c.draft.number} created beside live version {base.number}"
            draft = c.draft
            withdrawn = bool(draft.approval and draft.approval.state is ApprovalState.approved)
            kept = draft.approval if draft.approval and draft.approval.state is ApprovalState.changes_requested else None
            c.draft = Version.model_validate({
                **draft.model_dump(), **edit.version.model_dump(), "revision": draft.revision + 1,
                "approval": kept and kept.model_dump(), "updated_by": actor.name, "updated_at": now})
            return f"draft version {draft.number} revision {draft.revision + 1}" + (
                " (its approval is withdrawn by the edit)" if withdrawn else "")

        return self._change(campaign_id, actor, "edited", CampaignAction.edit, mutate)

    def duplicate_campaign(self, actor: User, campaign_id: str) -> Campaign:
        with self.catalogue.atomic():
            source = self.catalogue.campaign(campaign_id)
            self.check(actor, CampaignAction.duplicate, source)
            now = self.clock.now()
            version = source.current.model_copy(update={
                "number": 1, "revision": 1, "approval": None, "created_by": actor.name, "created_at": now,
                "updated_by": actor.name, "updated_at": now, "activated_by": None, "activated_at": None})
            copy = Campaign(
                id=self.catalogue.allocate_campaign_id(),
                name=copy_name(source.name, {row.row["name"] for row in self.catalogue.campaign_rows()}),
                description=source.description, tags=source.tags, type=source.type, category=source.category,
                draft=version, created_by=actor.name, created_at=now, updated_by=actor.name, updated_at=now)
            self.catalogue.save_campaign(copy)
            self._audit(actor, "created", copy, f"duplicate of {source.id}")
            self._audit(actor, "duplicated", source, f"copied to {copy.id}")
        return self.shown(actor, copy)

    def delete_campaign(self, actor: User, campaign_id: str) -> Campaign | None:
        """Delete a Draft campaign, or discard the open draft beside a live version.

        Returns the campaign that remains, or None when the whole campaign was deleted.
        """
        with self.catalogue.atomic():
            c = self.catalogue.campaign(campaign_id)
            self.check(actor, CampaignAction.delete, c)
            if c.status is Status.draft:
                self.catalogue.remove_campaign(c.id)
                self._audit(actor, "deleted", c, f"draft campaign {c.name!r} deleted")
                return None
            number, live = c.current.number, c.live
            c.draft = None
            c.updated_by, c.updated_at = actor.name, self.clock.now()
            self.catalogue.save_campaign(c)
            self._audit(actor, "draft discarded", c,
                        f"draft version {number} discarded; live version {live.number if live else '?'} unchanged")
        return self.shown(actor, c)

    # approvals ---------------------------------------------------------------------------
    def request_approval(self, actor: User, campaign_id: str, message: str | None = None) -> Campaign:
        """``message`` (optional, bounded by the API) travels with the request for the approvers to read."""
        def mutate(c: Campaign) -> str:
            draft = c.current
            problems, _ = draft_problems(self.catalogue, c, draft, self.clock.now())
            if problems:  # an approver reviews a draft that could go live, not one that activation would refuse
                raise ValidationFailed.of(problems, f"{c.id} cannot be sent for approval: ")
            ids = [p.id for p in self.approval_policies(c, draft)]
            assert ids  # the rule refused a version no policy applies to
            draft.approval = Approval(state=ApprovalState.requested, policy=ids[0], policies=ids,
                                      requested_by=actor.name, requested_at=self.clock.now(),
                                      request_message=message or None)
            if c.status is Status.draft:
                self._move(c, Status.in_review, "request approval for")
            return f"version {draft.number} under {_policy_words(ids)}" + (f": {message}" if message else "")

        return self._change(campaign_id, actor, "requested approval", CampaignAction.request_approval, mutate)

    def cancel_approval_request(self, actor: User, campaign_id: str) -> Campaign:
        def mutate(c: Campaign) -> str:
            draft = c.current
            draft.approval = None
            if c.status is Status.in_review:
                self._move(c, Status.draft, "cancel the approval request of")
            return f"version {draft.number}"

        return self._change(campaign_id, actor, "cancelled approval request", CampaignAction.cancel_approval_request, mutate)

    def _decide(self, actor: User, campaign_id: str, action: CampaignAction, state: ApprovalState,
                message: str | None, base_revision: int | None) -> Campaign:
        """Approve under every waiting policy ``actor`` may decide (the draft is approved once none waits),
        or send the draft back; either only on the revision the approver saw."""
        def mutate(c: Campaign) -> str:
            _check_revision(c, base_revision, action.value.replace("_", " "), "you reviewed", "review it again")
            draft = c.current
            approval = draft.approval
            assert approval is not None  # the rule refused a draft with no request
            if state is ApprovalState.approved:
                deciding = self.policies().deciding(CampaignFacts.of(c))
                signed = [p.id for p in decidable(actor, deciding, approval.requested_by, draft.updated_by)]
                approval = approval.model_copy(update={"approved_by": {
                    **approval.approved_by, **{p: actor.name for p in signed}}})
                if approval.waiting:
                    draft.approval = approval
                    return (f"version {draft.number} under {_policy_words(signed)}; "
                            f"still waiting for {_policy_words(approval.waiting)}")
            draft.approval = approval.model_copy(update={
                "state": state, "decided_by": actor.name, "decided_at": self.clock.now(), "message": message})
            if c.status is Status.in_review:
                self._move(c, Status.draft, action.value.replace("_", " "))
            return f"version {draft.number}" + (f": {message}" if message else "")

        verb = "approved" if state is ApprovalState.approved else "requested changes"
        return self._change(campaign_id, actor, verb, action, mutate)

    def approve(self, actor: User, campaign_id: str, base_revision: int | None) -> Campaign:
        """Approve revision ``base_revision`` under the waiting policies naming ``actor``; the draft stays
        In review while others wait."""
        return self._decide(actor, campaign_id, CampaignAction.approve, ApprovalState.approved, None, base_revision)

    def request_changes(self, actor: User, campaign_id: str, message: str, base_revision: int | None) -> Campaign:
        if not message or not message.strip():
            raise ValidationFailed("requesting changes needs a message saying what to change",
                                   [{"field": "message", "message": "required"}])
        return self._decide(actor, campaign_id, CampaignAction.request_changes, ApprovalState.changes_requested,
                            message.strip(), base_revision)

    # activation --------------------------------------------------------------------------
    def activation_target(self, actor: User, campaign_id: str) -> tuple[Campaign, Version]:
        """The campaign and the version ``actor`` would activate, or the refusal (role, approval, status):
        asked before the engine's checks, so a person who may not activate is told that first."""
        campaign = self.catalogue.campaign(campaign_id)
        self.check(actor, CampaignAction.activate, campaign)
        return campaign, campaign.current

    def activation_refusal(self, actor: User, campaign: Campaign) -> str | None:
        """Why ``actor`` could not activate ``campaign`` now (role, approval, status), for the preview."""
        try:
            self.check(actor, CampaignAction.activate, campaign)
        except (Forbidden, InvalidTransition) as refused:
            return refused.detail
        return None

    def activate_campaign(self, actor: User, campaign_id: str, outcome: ActivationOutcome | None) -> Campaign:
        """The activation, in one change: Draft → Activating → Scheduled or Live as ``outcome`` says.

        ``outcome`` is what the engine's checks found (they raise their problems before anything changes);
        None leaves the campaign Activating for the engine to check and complete when it next starts, as a
        crash could before (the demo shows that status this way)."""

        def start(c: Campaign) -> str:
            version = c.current
            c.resume_status = c.status if c.status in (Status.live, Status.scheduled) else None
            self._move(c, Status.activating, "activate")
            c.status_reason = None
            version.activated_by, version.activated_at = actor.name, self.clock.now()
            return f"version {version.number}"

        with self.catalogue.atomic():  # one journal entry: a crash never leaves half an activation
            campaign = self.catalogue.campaign(campaign_id)
            self.check(actor, CampaignAction.activate, campaign)
            self._apply(campaign, actor, "activated", start)
            if outcome is not None:
                self._apply(campaign, ENGINE, "activation completed", self._settle(outcome))
        return self.shown(actor, campaign)

    def complete_activation(self, campaign_id: str, outcome: ActivationOutcome) -> Campaign:
        """A campaign left Activating (by a crash) takes the outcome of the engine's checks."""
        verb = "activation failed" if outcome.refusal is not None else "activation completed"
        return self._change(campaign_id, ENGINE, verb, None, self._settle(outcome))

    def _settle(self, outcome: ActivationOutcome) -> Callable[[Campaign], str]:
        """Activating → Scheduled or Live (the draft replaces the live version), or the refusal: a failed
        activation of a draft beside a live version leaves the live one running."""

        def mutate(c: Campaign) -> str:
            if outcome.refusal is not None:
                if c.resume_status is not None and c.status is Status.activating:
                    c.status, c.resume_status = c.resume_status, None
                else:
                    self._move(c, Status.failed, "fail")
                c.status_reason = outcome.refusal
                return outcome.refusal
            self._move(c, Status.scheduled if outcome.scheduled else Status.live, "complete activation of")
            if c.draft is not None:
                if c.live is not None:
                    c.history.append(c.live)
                c.live, c.draft = c.draft, None
            c.resume_status = None
            assert c.live is not None
            return f"version {c.live.number} is live" + (f"; it is {c.status.value}" if outcome.scheduled else "")

        return mutate

    # the rest of the lifecycle -----------------------------------------------------------
    def stop_campaign(self, actor: User, campaign_id: str) -> Campaign:
        def mutate(c: Campaign) -> str:
            self._move(c, Status.stopped, "stop")
            return "future runs cancelled; this is final"

        return self._change(campaign_id, actor, "stopped", CampaignAction.stop, mutate)

    def archive_campaign(self, actor: User, campaign_id: str) -> Campaign:
        def mutate(c: Campaign) -> str:
            previous = c.status
            self._move(c, Status.archived, "archive")
            return f"was {previous.value}"

        return self._change(campaign_id, actor, "archived", CampaignAction.archive, mutate)

    def trigger_target(self, actor: User, campaign_id: str) -> Campaign:
        """The API campaign ``actor`` may trigger now, or the refusal: naming its dates when outside them."""
        campaign = self.catalogue.campaign(campaign_id)
        try:
            self.check(actor, CampaignAction.trigger, campaign)
        except InvalidTransition as refused:
            raise InvalidTransition(_outside_dates(campaign, self.clock.now()) or refused.detail) from None
        outside = _outside_dates(campaign, self.clock.now())  # past its end, before the engine completes it
        if outside is not None:
            raise InvalidTransition(outside)
        return campaign

    # transitions the engine drives -------------------------------------------------------
    def engine_went_live(self, campaign_id: str, reason: str = "first run started") -> Campaign:
        return self._change(campaign_id, ENGINE, "went live", None,
                            lambda c: self._move(c, Status.live, "start") or reason)

    def engine_completed(self, campaign_id: str, reason: str) -> Campaign:
        return self._change(campaign_id, ENGINE, "completed", None,
                            lambda c: self._move(c, Status.completed, "complete") or reason)

    def engine_failed(self, campaign_id: str, reason: str) -> Campaign:
        def mutate(c: Campaign) -> str:
            self._move(c, Status.failed, "fail")
            c.status_reason = reason
            return reason

        return self._change(campaign_id, ENGINE, "failed", None, mutate)

    # reading -----------------------------------------------------------------------------
    def check_may_read(self, actor: User) -> None:
        """Every role reads everything (DESIGN 2); the check is here so that the rule has one home."""
        require(actor, Action.view)

    def check_may_read_executions(self, actor: User) -> None:
        """Executions and their schedules: what a system that calls API campaigns may read (not the campaigns)."""
        require(actor, Action.read_executions)

    def check_may_trigger(self, actor: User) -> None:
        """The role may call API campaigns (whatever their status now): to cancel a scheduled execution."""
        require(actor, Action.trigger)

    def awaiting_approval(self, actor: User) -> list[dict[str, Any]]:
        """List rows of the drafts whose approval was requested under a policy naming ``actor`` (any, for an
        admin), oldest request first, with the actions open to them and whether self-approval blocks them."""
        self.check_may_read(actor)
        policies = self.policies()
        rows = []
        for doc in self.catalogue.campaign_documents():
            facts = CampaignFacts.of_document(doc)
            if facts.approval != ApprovalState.requested.value:
                continue
            deciding = policies.deciding(facts)
            if actor.role is not Role.admin and not any(p.approvers.includes(actor) for p in deciding):
                continue
            version = doc.get("draft") or doc["live"]
            approval = version["approval"]
            rows.append({**summarize(doc), "actions": [a.value for a in available_actions(facts, actor, policies)],
                         "requested_by": approval["requested_by"], "requested_at": approval["requested_at"],
                         "revision": version["revision"], "waiting": list(facts.waiting),
                         "request_message": approval.get("request_message"),
                         "self_approval_blocked": any(
                             p.block_self_approval and (actor.role is Role.admin or p.approvers.includes(actor))
                             for p in deciding) and self_approval(actor, facts.requested_by, facts.updated_by)})
        rows.sort(key=lambda r: r["requested_at"])
        return rows

    def campaign(self, actor: User, campaign_id: str) -> Campaign:
        self.check_may_read(actor)
        return self.shown(actor, self.catalogue.campaign(campaign_id))

    def audit_trail(self, actor: User, campaign_id: str) -> list[AuditEvent]:
        self.check_may_read(actor)
        self.catalogue.campaign(campaign_id)
        return self.catalogue.audit_trail(campaign_id)


def _words(actor: User, c: Campaign, facts: CampaignFacts, policies: Policies) -> dict[str, Any]:
    """What a refusal's sentence names (see ``campaign_rules.Rule``)."""
    version = c.draft or c.live
    approval = version.approval if version else None
    deciding = policies.deciding(facts)
    waiting = facts.waiting if facts.approval == ApprovalState.requested.value else ()
    return {
        "id": c.id, "name": c.name, "status": c.status.value, "type": c.type.value,
        "version": version.number if version else "?",
        "policy": ", ".join(waiting or [p.id for p in policies.matching(facts)]),
        "requested_by": approval.requested_by if approval else "",
        "approval": approval.state.value.replace("_", " ") if approval else "not requested",
        "not_decider": why_not_decider(actor, deciding, facts.requested_by, facts.updated_by),
    }


def _check_revision(c: Campaign, base_revision: int | None, what: str, yours: str, again: str) -> None:
    """Refuse a change (an edit, an approver's decision) made on another revision than the current one,
    naming who changed it since and when: an approver approves what they saw."""
    current = c.current
    if base_revision is None:
        raise StaleRevision(f"the {what} of {c.id} does not say which revision it is based on: "
                            "start from `campaigns show ID --json` (it carries the draft's revision)")
    if base_revision != current.revision:
        raise StaleRevision(
            f"{c.id} was changed by {current.updated_by} at {current.updated_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(revision {current.revision}; {yours} revision {base_revision}); reload it and {again}")


def _policy_words(ids: list[str]) -> str:
    return ("policy " if len(ids) == 1 else "policies ") + ", ".join(ids)


_COPY = re.compile(r"(?P<base>.*?)(?: \(copy(?: [0-9]+)?\))+")  # also old names: "X (copy) (copy)"


def copy_name(name: str, taken: set[str]) -> str:
    """``NAME (copy)``, then ``NAME (copy 2)``…: the first one no campaign has. A copy of a copy counts on from
    its original's name, never ``(copy) (copy)``; the name is shortened to keep the suffix within NAME_CHARS."""
    match = _COPY.fullmatch(name)
    base = match["base"] if match else name
    for number in itertools.count(1):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = base[:NAME_CHARS - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: itertools.count never ends")


def _outside_dates(campaign: Campaign, now: datetime) -> str | None:
    """Why an api campaign takes no call at ``now`` because of its start or end date, or None."""
    version = campaign.live
    if campaign.type is not CampaignType.api or version is None:
        return None
    start, end = version.schedule.start, version.schedule.end
    if campaign.status is Status.scheduled and start is not None and start > now:
        return (f"{campaign.id} takes calls from its start date {start.isoformat()}"
                + (f" until its end date {end.isoformat()}" if end else "") + "; it is Scheduled until then")
    if end is not None and end <= now:
        return f"{campaign.id} took calls until its end date {end.isoformat()}; it takes none after it"
    return None

