"""The campaign state machine (DESIGN.md section 2): every status change and every edit goes here.

Each public method checks the actor's role, the campaign's status and the approval policy,
then saves the campaign and its audit event as one journal entry. The engine drives
Activating → Scheduled/Live, Live → Completed and failures through the ``engine_*`` methods.
"""

from __future__ import annotations

from collections.abc import Callable

from .approvals import check_may_decide, policy_for
from .clock import Clock
from .db.catalogue import Catalogue
from .templates import check_content
from .errors import InvalidTransition, StaleRevision, ValidationFailed
from .models import (
    Approval, ApprovalState, AuditEvent, Campaign, CampaignEdit, Role, Status, User, Version,
)
from .roles import Action, require

ENGINE = User(name="engine", role=Role.admin, display_name="Campaigns engine")

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.draft: frozenset({Status.in_review, Status.activating}),
    Status.in_review: frozenset({Status.draft, Status.archived}),
    Status.activating: frozenset({Status.scheduled, Status.live, Status.failed, Status.archived}),
    Status.scheduled: frozenset({Status.live, Status.stopped, Status.failed, Status.activating, Status.archived}),
    Status.live: frozenset({Status.completed, Status.stopped, Status.failed, Status.activating, Status.archived}),
    Status.failed: frozenset({Status.activating, Status.archived}),
    Status.stopped: frozenset({Status.archived}),
    Status.completed: frozenset({Status.archived}),
    Status.archived: frozenset(),
}

_WHY_NOT = {
    Status.stopped: "a Stopped campaign can never be activated or reused; duplicate it instead",
    Status.completed: "a Completed campaign is finished; duplicate it to send again",
    Status.archived: "an Archived campaign is read-only; duplicate it to send again",
    Status.activating: "it is being activated; wait until it is Scheduled or Live",
    Status.in_review: "it is In review; cancel the approval request first",
}


class Lifecycle:
    def __init__(self, catalogue: Catalogue, clock: Clock) -> None:
        self.catalogue = catalogue
        self.clock = clock

    # helpers -----------------------------------------------------------------------------
    def _change(self, campaign_id: str, actor: User, action: str, mutate: Callable[[Campaign], str]) -> Campaign:
        """Load, mutate, stamp, save and audit in one atomic step; ``mutate`` returns the audit detail."""
        with self.catalogue.atomic():
            campaign = self.catalogue.campaign(campaign_id)
            detail = mutate(campaign)
            campaign.updated_by, campaign.updated_at = actor.name, self.clock.now()
            self.catalogue.save_campaign(campaign)
            self._audit(actor, action, campaign, detail)
            return campaign

    def _audit(self, actor: User, action: str, campaign: Campaign, detail: str = "") -> None:
        # The engine acts on what is live; people act on the draft they are working on.
        version = (campaign.live or campaign.draft) if actor is ENGINE else (campaign.draft or campaign.live)
        self.catalogue.add_audit(AuditEvent(
            at=self.clock.now(), user=actor.name, action=action, target=campaign.id, campaign_id=campaign.id,
            version=version.number if version else None, detail=detail,
        ))

    @staticmethod
    def _move(campaign: Campaign, to: Status, verb: str) -> None:
        if to not in TRANSITIONS[campaign.status]:
            why = _WHY_NOT.get(campaign.status, f"a {campaign.status.value} campaign cannot go to {to.value}")
            raise InvalidTransition(f"cannot {verb} {campaign.id} ({campaign.name}): {why}")
        campaign.status = to

    def approval_policy(self, campaign: Campaign, version: Version):
        """The policy this version falls under, or None when it needs no approval."""
        return policy_for(self.catalogue.approval_policies.all(), campaign, version)

    def _check_references(self, edit: CampaignEdit) -> None:
        """Templates must parse, and a campaign may only select an audience and a channel configuration
        that exist and fit; a syntax error is shown when the version is saved, not at send time."""
        errors = []
        try:
            check_content(edit.version.content)
        except ValidationFailed as error:
            errors.extend(error.errors)
        spec, category = edit.version, edit.campaign.category
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
            return campaign

    def edit_draft(self, actor: User, campaign_id: str, edit: CampaignEdit) -> Campaign:
        """Edit the draft, creating it beside a Live or Scheduled version; a stale revision is refused."""
        require(actor, Action.edit)
        self._check_references(edit)

        def mutate(c: Campaign) -> str:
            if c.status not in (Status.draft, Status.scheduled, Status.live, Status.failed):
                raise InvalidTransition(f"cannot edit {c.id} ({c.name}): " + _WHY_NOT.get(
                    c.status, f"a {c.status.value} campaign cannot be edited"))
            if c.draft and c.draft.approval and c.draft.approval.state is ApprovalState.requested:
                raise InvalidTransition(f"cannot edit {c.id} ({c.name}): its draft is In review; cancel the approval request first")
            if (edit.campaign.type, edit.campaign.category) != (c.type, c.category):
                raise ValidationFailed(
                    "type and category are fixed once a campaign is created; duplicate it to change them",
                    [{"field": "type" if edit.campaign.type != c.type else "category", "message": "cannot change after creation"}])
            base = c.draft or c.live
            if edit.base_revision is None:
                raise StaleRevision(f"the edit of {c.id} does not say which revision it started from: "
                                    "start from `campaigns show ID --json` (it carries the draft's revision)")
            if edit.base_revision != base.revision:
                raise StaleRevision(
                    f"{c.id} was changed by {base.updated_by} at {base.updated_at:%Y-%m-%d %H:%M:%S} UTC "
                    f"(revision {base.revision}; your edit started from revision {edit.base_revision}); "
                    "reload it and apply your change again")
            c.name, c.description, c.tags = edit.campaign.name, edit.campaign.description, edit.campaign.tags
            now = self.clock.now()
            if c.draft is None:
                # Revisions continue from the live version's, so an edit based on the live version is
                # refused once someone else has opened a draft beside it.
                c.draft = self._new_version(actor, c.next_version_number(), edit).model_copy(
                    update={"revision": base.revision + 1})
                return f"draft version {c.draft.number} created beside live version {c.live.number}"
            draft = c.draft
            withdrawn = bool(draft.approval and draft.approval.state is ApprovalState.approved)
            kept = draft.approval if draft.approval and draft.approval.state is ApprovalState.changes_requested else None
            c.draft = Version.model_validate({
                **draft.model_dump(), **edit.version.model_dump(), "revision": draft.revision + 1,
                "approval": kept and kept.model_dump(), "updated_by": actor.name, "updated_at": now})
            return f"draft version {draft.number} revision {draft.revision + 1}" + (
                " (its approval is withdrawn by the edit)" if withdrawn else "")

        return self._change(campaign_id, actor, "edited", mutate)

    def duplicate_campaign(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.duplicate)
        with self.catalogue.atomic():
            source = self.catalogue.campaign(campaign_id)
            now = self.clock.now()
            version = source.current.model_copy(update={
                "number": 1, "revision": 1, "approval": None, "created_by": actor.name, "created_at": now,
                "updated_by": actor.name, "updated_at": now, "activated_by": None, "activated_at": None})
            copy = Campaign(
                id=self.catalogue.allocate_campaign_id(), name=f"{source.name} (copy)"[:200],
                description=source.description, tags=source.tags, type=source.type, category=source.category,
                draft=version, created_by=actor.name, created_at=now, updated_by=actor.name, updated_at=now)
            self.catalogue.save_campaign(copy)
            self._audit(actor, "created", copy, f"duplicate of {source.id}")
            self._audit(actor, "duplicated", source, f"copied to {copy.id}")
            return copy

    def delete_campaign(self, actor: User, campaign_id: str) -> Campaign | None:
        """Delete a Draft campaign, or discard the open draft beside a live version.

        Returns the campaign that remains, or None when the whole campaign was deleted.
        """
        require(actor, Action.delete)
        with self.catalogue.atomic():
            c = self.catalogue.campaign(campaign_id)
            if c.status is Status.draft:
                self.catalogue.remove_campaign(c.id)
                self._audit(actor, "deleted", c, f"draft campaign {c.name!r} deleted")
                return None
            if c.has_draft and c.status in (Status.live, Status.scheduled, Status.failed):
                if c.draft.approval and c.draft.approval.state is ApprovalState.requested:
                    raise InvalidTransition(f"cannot discard the draft of {c.id}: it is In review; cancel the approval request first")
                number = c.draft.number
                c.draft = None
                c.updated_by, c.updated_at = actor.name, self.clock.now()
                self.catalogue.save_campaign(c)
                self._audit(actor, "draft discarded", c, f"draft version {number} discarded; live version {c.live.number} unchanged")
                return c
            raise InvalidTransition(
                f"cannot delete {c.id} ({c.name}): only a Draft campaign can be deleted (it is {c.status.value}); archive it instead"
                if c.status is not Status.in_review else f"cannot delete {c.id}: it is In review; cancel the approval request first")

    # approvals ---------------------------------------------------------------------------
    def _draft_or_refuse(self, c: Campaign, verb: str) -> Version:
        if c.draft is None:
            raise InvalidTransition(f"cannot {verb} {c.id} ({c.name}): it has no draft; edit it to create one")
        return c.draft

    def request_approval(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.request_approval)

        def mutate(c: Campaign) -> str:
            if c.status not in (Status.draft, Status.live, Status.scheduled, Status.failed):
                raise InvalidTransition(f"cannot request approval for {c.id}: " + _WHY_NOT.get(c.status, f"it is {c.status.value}"))
            draft = self._draft_or_refuse(c, "request approval for")
            policy = self.approval_policy(c, draft)
            if policy is None:
                raise InvalidTransition(f"{c.id} needs no approval (no approval policy applies); activate it directly")
            if draft.approval and draft.approval.state is ApprovalState.requested:
                raise InvalidTransition(f"{c.id} is already awaiting approval (requested by {draft.approval.requested_by})")
            if draft.approval and draft.approval.state is ApprovalState.approved:
                raise InvalidTransition(f"{c.id} version {draft.number} is already approved; activate it")
            draft.approval = Approval(state=ApprovalState.requested, policy=policy.id, requested_by=actor.name,
                                      requested_at=self.clock.now())
            if c.status is Status.draft:
                self._move(c, Status.in_review, "request approval for")
            return f"version {draft.number} under policy {policy.id}"

        return self._change(campaign_id, actor, "requested approval", mutate)

    def _pending(self, c: Campaign, verb: str) -> Version:
        draft = c.draft
        if draft is None or draft.approval is None or draft.approval.state is not ApprovalState.requested:
            raise InvalidTransition(f"cannot {verb} {c.id} ({c.name}): no approval was requested for it")
        return draft

    def cancel_approval_request(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.cancel_approval_request)

        def mutate(c: Campaign) -> str:
            draft = self._pending(c, "cancel the approval request of")
            if actor.name != draft.approval.requested_by and actor.role is not Role.admin:
                raise InvalidTransition(
                    f"only {draft.approval.requested_by}, who requested it, or an admin can cancel this approval request")
            draft.approval = None
            if c.status is Status.in_review:
                self._move(c, Status.draft, "cancel the approval request of")
            return f"version {draft.number}"

        return self._change(campaign_id, actor, "cancelled approval request", mutate)

    def _decide(self, actor: User, campaign_id: str, action: Action, state: ApprovalState, message: str | None) -> Campaign:
        require(actor, action)

        def mutate(c: Campaign) -> str:
            draft = self._pending(c, action.value)
            policy = self.catalogue.approval_policies.find(draft.approval.policy) or self.approval_policy(c, draft)
            if policy is not None:
                check_may_decide(actor, policy, draft)
            draft.approval = draft.approval.model_copy(update={
                "state": state, "decided_by": actor.name, "decided_at": self.clock.now(), "message": message})
            if c.status is Status.in_review:
                self._move(c, Status.draft, action.value)
            return f"version {draft.number}" + (f": {message}" if message else "")

        return self._change(campaign_id, actor, "approved" if state is ApprovalState.approved else "requested changes", mutate)

    def approve(self, actor: User, campaign_id: str) -> Campaign:
        return self._decide(actor, campaign_id, Action.approve, ApprovalState.approved, None)

    def request_changes(self, actor: User, campaign_id: str, message: str) -> Campaign:
        if not message or not message.strip():
            raise ValidationFailed("requesting changes needs a message saying what to change",
                                   [{"field": "message", "message": "required"}])
        return self._decide(actor, campaign_id, Action.request_changes, ApprovalState.changes_requested, message.strip())

    # activation and the rest of the lifecycle --------------------------------------------
    def activate_campaign(self, actor: User, campaign_id: str,
                          validate: Callable[[Campaign, Version], None] | None = None) -> Campaign:
        """Draft (approved where a policy asks) → Activating; the engine takes it from there.

        ``validate`` (the engine's checks) runs after the role and approval checks, so a person
        who may not activate is told that first, and before anything changes.
        """

        def mutate(c: Campaign) -> str:
            version = c.draft if c.draft is not None else (c.live if c.status is Status.failed else None)
            if version is None:
                raise InvalidTransition(f"cannot activate {c.id} ({c.name}): " + _WHY_NOT.get(
                    c.status, f"it is {c.status.value} and has no draft to activate"))
            policy = self.approval_policy(c, version)
            if policy is not None:
                if not (version.approval and version.approval.state is ApprovalState.approved):
                    state = version.approval.state.value.replace("_", " ") if version.approval else "not requested"
                    raise InvalidTransition(
                        f"{c.id} needs approval under policy {policy.id!r} before activation (approval: {state}); "
                        "request approval first")
                require(actor, Action.activate_approved)
            else:
                require(actor, Action.activate)
            if Status.activating not in TRANSITIONS[c.status]:
                self._move(c, Status.activating, "activate")  # raises with the reason
            if validate is not None:
                validate(c, version)
            resume = c.status if c.status in (Status.live, Status.scheduled) else None
            self._move(c, Status.activating, "activate")
            c.resume_status, c.status_reason = resume, None
            version.activated_by, version.activated_at = actor.name, self.clock.now()
            return f"version {version.number}"

        return self._change(campaign_id, actor, "activated", mutate)

    def stop_campaign(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.stop)

        def mutate(c: Campaign) -> str:
            if c.status not in (Status.live, Status.scheduled):
                raise InvalidTransition(f"cannot stop {c.id} ({c.name}): only Live or Scheduled campaigns can be stopped (it is {c.status.value})")
            self._move(c, Status.stopped, "stop")
            return "future runs cancelled; this is final"

        return self._change(campaign_id, actor, "stopped", mutate)

    def archive_campaign(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.archive)

        def mutate(c: Campaign) -> str:
            if c.status is Status.draft:
                raise InvalidTransition(f"cannot archive {c.id} ({c.name}): a Draft is deleted, not archived")
            previous = c.status
            self._move(c, Status.archived, "archive")
            return f"was {previous.value}"

        return self._change(campaign_id, actor, "archived", mutate)

    # transitions the engine drives -------------------------------------------------------
    def engine_activated(self, campaign_id: str, *, scheduled: bool) -> Campaign:
        """Activating → Scheduled (start in the future) or Live; the draft replaces the live version."""

        def mutate(c: Campaign) -> str:
            self._move(c, Status.scheduled if scheduled else Status.live, "complete activation of")
            if c.draft is not None:
                if c.live is not None:
                    c.history.append(c.live)
                c.live, c.draft = c.draft, None
            c.resume_status = None
            return f"version {c.live.number} is live" + (f"; it is {c.status.value}" if scheduled else "")

        return self._change(campaign_id, ENGINE, "activation completed", mutate)

    def engine_activation_failed(self, campaign_id: str, reason: str) -> Campaign:
        """A failed activation of a draft beside a live version leaves the live one running."""

        def mutate(c: Campaign) -> str:
            if c.resume_status is not None and c.status is Status.activating:
                c.status, c.resume_status = c.resume_status, None
            else:
                self._move(c, Status.failed, "fail")
            c.status_reason = reason
            return reason

        return self._change(campaign_id, ENGINE, "activation failed", mutate)

    def engine_went_live(self, campaign_id: str) -> Campaign:
        return self._change(campaign_id, ENGINE, "went live", lambda c: self._move(c, Status.live, "start") or "first run started")

    def engine_completed(self, campaign_id: str, reason: str) -> Campaign:
        return self._change(campaign_id, ENGINE, "completed", lambda c: self._move(c, Status.completed, "complete") or reason)

    def engine_failed(self, campaign_id: str, reason: str) -> Campaign:
        def mutate(c: Campaign) -> str:
            self._move(c, Status.failed, "fail")
            c.status_reason = reason
            return reason

        return self._change(campaign_id, ENGINE, "failed", mutate)

    # reading -----------------------------------------------------------------------------
    def campaign(self, actor: User, campaign_id: str) -> Campaign:
        require(actor, Action.view)
        return self.catalogue.campaign(campaign_id)

    def audit_trail(self, actor: User, campaign_id: str):
        require(actor, Action.view)
        self.catalogue.campaign(campaign_id)
        return self.catalogue.audit_trail(campaign_id)
