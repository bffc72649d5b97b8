"""When each campaign action applies: the one table the lifecycle refuses from and the actions list is built from.

``TRANSITIONS`` says which status may follow which; ``RULES`` says, for each action a person can take on a
campaign, which permission it needs and why it does not apply to a campaign in a given state. The lifecycle
raises the first refusal; ``available_actions`` lists the actions with none, for the API's payloads. Both read
a campaign through ``Facts``, a small hashable key, so the list endpoint works each one out once per distinct key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from .approvals import policies_for, why_not_decider
from .errors import CampaignsError, Forbidden, InvalidTransition
from .models import ApprovalPolicy, ApprovalState, Campaign, CampaignAction, CampaignType, Role, Status, User
from .models.campaign import waiting_policies
from .roles import PERMISSIONS, Action

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

WHY_NOT = {
    Status.stopped: "a Stopped campaign can never be activated or reused; duplicate it instead",
    Status.completed: "a Completed campaign is finished; duplicate it to send again",
    Status.archived: "an Archived campaign is read-only; duplicate it to send again",
    Status.activating: "it is being activated; wait until it is Scheduled or Live",
    Status.in_review: "it is In review; cancel the approval request first",
}


def why_not(status: Status, otherwise: str) -> str:
    return WHY_NOT.get(status, otherwise)


class Facts(NamedTuple):
    """What the rules read of a campaign and the person asking: a few values, so that 100,000 list rows
    share a handful of distinct keys."""

    role: Role
    status: Status
    api: bool  # an API-triggered campaign
    draft: bool  # has a draft version (alone, or beside a live one)
    live: bool  # has a live version
    approval: ApprovalState | None  # of the current version (the draft, else the live one)
    needs_approval: bool  # an approval policy applies to the version that would be activated
    requested_by_me: bool
    may_decide: bool  # named by a policy still waiting on the draft, and not blocked as self-approval


class CampaignFacts(NamedTuple):
    """The caller-independent part of ``Facts``, kept beside each list row: plain stored values (enums are
    built per distinct key, not per row), and ``key``, one string naming them all (its hash is cached)."""

    status: str
    type: str
    category: str
    channel: str
    tags: tuple[str, ...]
    draft: bool
    live: bool
    approval: str | None  # ApprovalState's value
    waiting: tuple[str, ...]  # the policies the requested approval still waits on
    requested_by: str | None
    updated_by: str  # who last edited the current version (self-approval)

    @classmethod
    def of(cls, campaign: Campaign) -> "CampaignFacts":
        current = campaign.current
        approval = current.approval
        return cls(campaign.status.value, campaign.type.value, campaign.category.value, current.channel.value,
                   tuple(campaign.tags), campaign.draft is not None, campaign.live is not None,
                   approval.state.value if approval else None, tuple(approval.waiting) if approval else (),
                   approval.requested_by if approval else None, current.updated_by)

    @classmethod
    def of_document(cls, doc: dict) -> "CampaignFacts":
        """From a stored document, without building the model (the list holds 100,000 of them)."""
        draft, live = doc.get("draft"), doc.get("live")
        current: dict = draft or live or {}  # a stored campaign always has one
        approval = current.get("approval")
        return cls(doc["status"], doc["type"], doc["category"], current["channel"], tuple(doc.get("tags", ())),
                   draft is not None, live is not None, approval["state"] if approval else None,
                   tuple(waiting_policies(approval.get("policies") or [], approval["policy"],
                                           approval.get("approved_by") or {})) if approval else (), approval["requested_by"] if approval else None,
                   current["updated_by"])

    def key(self) -> str:
        return "\x1f".join(map(str, self))


class Policies:
    """The approval policies as the rules need them, matched once per distinct (type, category, channel, tags)."""

    def __init__(self, policies: list[ApprovalPolicy]) -> None:
        self.by_id = {p.id: p for p in policies}
        self._all = policies
        self._matching: dict[tuple, list[ApprovalPolicy]] = {}

    def matching(self, f: CampaignFacts) -> list[ApprovalPolicy]:
        key = (f.type, f.category, f.channel, f.tags)
        if key not in self._matching:
            self._matching[key] = policies_for(self._all, CampaignType(f.type), f.category, f.channel, f.tags)
        return self._matching[key]

    def deciding(self, f: CampaignFacts) -> list[ApprovalPolicy]:
        """The policies an approver decides under: those the request still waits on (the ones matching now,
        if all of those have since been removed)."""
        return [self.by_id[p] for p in f.waiting if p in self.by_id] or self.matching(f)

    def facts(self, user: User, f: CampaignFacts) -> Facts:
        requested = f.approval == ApprovalState.requested.value
        decides = requested and why_not_decider(user, self.deciding(f), f.requested_by, f.updated_by) is None
        return Facts(user.role, Status(f.status), f.type == CampaignType.api.value, f.draft, f.live,
                     ApprovalState(f.approval) if f.approval else None, bool(self.matching(f)),
                     user.name == f.requested_by, decides)


Refusal = tuple[type[CampaignsError], str] | None


@dataclass(frozen=True)
class Rule:
    """An action's permission (which may depend on the campaign) and why it does not apply, if it does not.

    ``refuse`` returns a sentence with ``{id}``, ``{name}``, ``{status}``, ``{policy}``, ``{requested_by}`` and
    ``{approval}`` to fill in, and the error it is raised as."""

    permission: Callable[[Facts], Action]
    refuse: Callable[[Facts], Refusal]


def _can_activate_from(s: Status) -> bool:
    """Statuses from which a version can be (re)activated: where drafts are edited, reviewed and discarded."""
    return Status.activating in TRANSITIONS[s]


def _requested(f: Facts) -> bool:
    return f.approval is ApprovalState.requested or f.status is Status.in_review


def _no(why: str, error: type[CampaignsError] = InvalidTransition) -> Refusal:
    return error, why


def _edit(f: Facts) -> Refusal:
    if not _can_activate_from(f.status):
        return _no("cannot edit {id} ({name}): " + why_not(f.status, "a {status} campaign cannot be edited"))
    if _requested(f):
        return _no("cannot edit {id} ({name}): its draft is In review; cancel the approval request first")
    return None


def _request_approval(f: Facts) -> Refusal:
    if not _can_activate_from(f.status):
        return _no("cannot request approval for {id}: " + why_not(f.status, "it is {status}"))
    if not f.draft:
        return _no("cannot request approval for {id} ({name}): it has no draft; edit it to create one")
    if not f.needs_approval:
        return _no("{id} needs no approval (no approval policy applies); activate it directly")
    if f.approval is ApprovalState.requested:
        return _no("{id} is already awaiting approval (requested by {requested_by})")
    if f.approval is ApprovalState.approved:
        return _no("{id} version {version} is already approved; activate it")
    return None


def _pending(verb: str) -> Callable[[Facts], Refusal]:
    def refuse(f: Facts) -> Refusal:
        if f.approval is not ApprovalState.requested:
            return _no(f"cannot {verb} {{id}} ({{name}}): no approval was requested for it")
        return None
    return refuse


def _cancel(f: Facts) -> Refusal:
    if f.approval is not ApprovalState.requested:
        return _no("cannot cancel the approval request of {id} ({name}): no approval was requested for it")
    if not f.requested_by_me and f.role is not Role.admin:
        return _no("only {requested_by}, who requested it, or an admin can cancel this approval request")
    return None


def _decide(verb: str) -> Callable[[Facts], Refusal]:
    pending = _pending(verb)

    def refuse(f: Facts) -> Refusal:
        return pending(f) or (None if f.may_decide else _no("{not_decider}", Forbidden))
    return refuse


def _activate(f: Facts) -> Refusal:
    if not f.draft and not (f.live and f.status is Status.failed):
        return _no("cannot activate {id} ({name}): " + why_not(f.status, "it is {status} and has no draft to activate"))
    if f.needs_approval and f.approval is not ApprovalState.approved:
        return _no("{id} needs approval under policy {policy!r} before activation (approval: {approval}); "
                   "request approval first")
    if not _can_activate_from(f.status):
        return _no("cannot activate {id} ({name}): " + why_not(f.status, "a {status} campaign cannot go to Activating"))
    return None


def _stop(f: Facts) -> Refusal:
    if Status.stopped not in TRANSITIONS[f.status]:
        return _no("cannot stop {id} ({name}): only Live or Scheduled campaigns can be stopped (it is {status})")
    return None


def _archive(f: Facts) -> Refusal:
    if f.status is Status.draft:
        return _no("cannot archive {id} ({name}): a Draft is deleted, not archived")
    if Status.archived not in TRANSITIONS[f.status]:
        return _no("cannot archive {id} ({name}): " + why_not(f.status, "a {status} campaign cannot be archived"))
    return None


def _delete(f: Facts) -> Refusal:
    """A Draft campaign is deleted whole; a draft beside a live version is discarded."""
    if f.status is Status.draft:
        return None
    if f.draft and f.live and _can_activate_from(f.status):
        if f.approval is ApprovalState.requested:
            return _no("cannot discard the draft of {id}: it is In review; cancel the approval request first")
        return None
    if f.status is Status.in_review:
        return _no("cannot delete {id}: it is In review; cancel the approval request first")
    return _no("cannot delete {id} ({name}): only a Draft campaign can be deleted (it is {status}); archive it instead")


def _compare(f: Facts) -> Refusal:
    return None if f.draft and f.live else _no("{id} has no draft beside a live version to compare")


def _trigger(f: Facts) -> Refusal:
    if not f.api:
        return _no("{id} is an {type} campaign; only API campaigns are triggered")
    if f.status is not Status.live:
        return _no("{id} is {status}; activate it before triggering it")
    return None


def _always(f: Facts) -> Refusal:
    return None


def _fixed(action: Action) -> Callable[[Facts], Action]:
    return lambda f: action


RULES: dict[CampaignAction, Rule] = {
    CampaignAction.edit: Rule(_fixed(Action.edit), _edit),
    CampaignAction.request_approval: Rule(_fixed(Action.request_approval), _request_approval),
    CampaignAction.cancel_approval_request: Rule(_fixed(Action.cancel_approval_request), _cancel),
    CampaignAction.approve: Rule(_fixed(Action.approve), _decide("approve")),
    CampaignAction.request_changes: Rule(_fixed(Action.request_changes), _decide("request changes")),
    # Where a policy applies, activating is activating an approved version (approvers may do that too).
    CampaignAction.activate: Rule(lambda f: Action.activate_approved if f.needs_approval else Action.activate, _activate),
    CampaignAction.stop: Rule(_fixed(Action.stop), _stop),
    CampaignAction.archive: Rule(_fixed(Action.archive), _archive),
    CampaignAction.duplicate: Rule(_fixed(Action.duplicate), _always),
    CampaignAction.delete: Rule(_fixed(Action.delete), _delete),
    CampaignAction.compare: Rule(_fixed(Action.view), _compare),
    CampaignAction.trigger: Rule(_fixed(Action.trigger), _trigger),
}


@lru_cache(maxsize=4096)
def actions_for(facts: Facts) -> tuple[CampaignAction, ...]:
    """The actions with no refusal, in the table's order, for one key (memoized: the list asks per row)."""
    return tuple(a for a, rule in RULES.items()
                 if rule.permission(facts) in PERMISSIONS[facts.role] and rule.refuse(facts) is None)


def actions_of_rows(user: User, policies: Policies) -> Callable[[CampaignFacts], tuple[CampaignAction, ...]]:
    """``user``'s actions for list rows (the list memoizes them per row key)."""
    return lambda facts: actions_for(policies.facts(user, facts))


def available_actions(campaign: Campaign | CampaignFacts, user: User, policies: Policies) -> list[CampaignAction]:
    """What ``user`` may do to the campaign now, by the same rules the lifecycle refuses with."""
    facts = campaign if isinstance(campaign, CampaignFacts) else CampaignFacts.of(campaign)
    return list(actions_for(policies.facts(user, facts)))
