"""Sending executions: every open execution, in shared batches, by one sender (not a process per call).

A pass takes up to ``GROUP`` open executions, claims them with the outbox's offsets (one commit), looks their
recipients up with one query per namespace, renders and sends each one, writes each channel's lines with one
fsync, and records every execution's outcomes in one commit. Each execution keeps its own outcomes: a recipient
that is unknown, suppressed, without the channel's address or consent (marketing), or whose content does not
render is ``excluded`` with the reason; a provider's refusal is ``failed`` with its error. Nothing here changes a
campaign's status: a call can never fail a Live campaign.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..errors import CampaignsError
from ..models import Category, Channel, ExclusionReason, Provider, Status
from ..models.audience import AttributeRule
from ..models.execution import Execution, ExecutionStatus, Namespace, Outcome, Recipient, RecipientOutcome, RecipientType
from ..models.profile import normalize_email, normalize_phone, normalize_profile_id, normalize_push_token
from ..profiles.db import ProfileStore
from ..templates import CompiledContent, RenderError, compile_content, profile_view
from ..workspace import Workspace
from .execution_journal import ExecutionJournal
from .message import OutboundMessage
from .message import Outcome as SendOutcome
from .outbox import Outbox, OutboxLines
from .providers.breaker import CircuitBreaker, deliver
from .providers.registry import SLOTS_PER_GATEWAY, isolation_key, open_provider
from .runner import ADDRESS, CONSENT, SUPPRESSED, version_of

GROUP = 500  # executions sent per pass (at most 20 recipients each)
UNKNOWN = "unknown_recipient"  # no stored profile has this identity
EXTERNAL_MARKETING = "external_recipient"  # marketing sends only to known profiles with consent
_COLUMN = {Namespace.profile_id: "id", Namespace.email: "identities.email", Namespace.phone: "identities.phone",
           Namespace.push_token: "identities.push_token"}
_NORMALIZE: dict[Namespace, Callable[[str], str]] = {
    Namespace.profile_id: normalize_profile_id, Namespace.email: normalize_email, Namespace.phone: normalize_phone,
    Namespace.push_token: normalize_push_token}
_ROW_COLUMN = {Namespace.profile_id: 0, Namespace.email: 1, Namespace.phone: 2, Namespace.push_token: 3}
_CHANNEL_DATA = {Channel.email: "email_address", Channel.sms: "mobile_phone_number", Channel.push: "push_token"}


@dataclass(slots=True)
class _Target:
    """What every execution of one campaign shares: its live version's content, channel and configuration,
    or why it cannot send now (the campaign stopped after the call was accepted)."""

    channel: Channel | None = None
    marketing: bool = False
    content: CompiledContent | None = None
    config: Any = None
    refusal: str | None = None


class ExecutionSender:
    def __init__(self, ws: Workspace, journal: ExecutionJournal, outbox: Outbox, clock: Clock,
                 sent: Callable[[str], None] = lambda campaign_id: None) -> None:
        """``sent``: told each campaign whose executions just got their outcomes (the console's list)."""
        self.ws, self.journal, self.outbox, self.clock, self._sent = ws, journal, outbox, clock, sent
        self._pass = threading.Lock()  # the scheduler's thread and run_until_idle never send the same group
        # Executions through a network gateway leave the shared pass for their gateway's own slots, so one that
        # hangs holds only its own campaigns' calls (as runs do); those in flight are not picked up again.
        self._gateways: dict[str, ThreadPoolExecutor] = {}
        self._in_flight: dict[str, Future] = {}

    def send_open(self) -> int:
        """One pass over the open executions; how many got their outcomes."""
        with self._pass:
            group = [(e, c) for e, c in self.journal.open(GROUP + len(self._in_flight)) if e.id not in self._in_flight]
            if not group:
                return 0
            fresh = [e.id for e, offsets in group if offsets is None]
            offsets = {c.value: self.outbox.offset(c) for c in Channel}
            if fresh:
                self.journal.claim(fresh, offsets)
            targets: dict[str, _Target] = {}
            profiles = _Lookup(self.ws.profiles, [e for e, _ in group])
            lines: dict[Channel, list[bytes]] = defaultdict(list)
            finished = []
            for execution, claimed in group:
                target = targets.get(execution.campaign_id) or targets.setdefault(
                    execution.campaign_id, self._target(execution.campaign_id))
                left = self._already_sent(execution, target, claimed)
                if target.refusal is None and target.config is not None and target.config.provider is not Provider.outbox:
                    self._hand_to_gateway(execution, target, profiles, left)
                    continue
                finished.append(self._send(execution, target, profiles, lines, left))
            for channel, channel_lines in lines.items():
                self.outbox.append(channel, channel_lines)
            self.journal.complete(finished)
            for campaign_id in targets:
                self._sent(campaign_id)
            return len(finished)

    def _hand_to_gateway(self, execution: Execution, target: _Target, profiles: "_Lookup", left: set[str]) -> None:
        """Send ``execution`` in one of its gateway's slots; it completes there, on its own."""
        assert target.config is not None
        key = isolation_key(target.config)
        pool = self._gateways.get(key) or self._gateways.setdefault(
            key, ThreadPoolExecutor(SLOTS_PER_GATEWAY, thread_name_prefix=f"executions {key}"))

        def send() -> None:
            try:
                self.journal.complete([self._send(execution, target, profiles, {}, left)])
                self._sent(execution.campaign_id)
            finally:
                with self._pass:
                    self._in_flight.pop(execution.id, None)

        self._in_flight[execution.id] = pool.submit(send)

    def wait_in_flight(self) -> None:
        """Until every execution handed to a gateway has its outcomes (run_until_idle, tests)."""
        with self._pass:
            futures = list(self._in_flight.values())
        for done in wait(futures).done:
            done.result()

    def close(self) -> None:
        """After the last pass: executions still at a gateway finish their attempts (each bounded by its
        timeout) before the journal closes; the rest stay open for the next start."""
        for pool in self._gateways.values():
            pool.shutdown(wait=True, cancel_futures=True)

    def _target(self, campaign_id: str) -> _Target:
        try:
            campaign = self.ws.catalogue.campaign(campaign_id)
            if campaign.status is not Status.live or campaign.live is None:
                return _Target(refusal=f"the campaign is {campaign.status.value} since the call was accepted")
            version = version_of(campaign, campaign.live.number)
            config = self.ws.catalogue.channel_configurations.find(version.channel_configuration or "")
            if config is None:
                return _Target(refusal=f"channel configuration {version.channel_configuration!r} was deleted")
            content = compile_content(version.content, version.channel)
        except CampaignsError as error:
            return _Target(refusal=error.detail)
        return _Target(version.channel, campaign.category is Category.marketing, content, config)

    def _already_sent(self, execution: Execution, target: _Target, claimed: dict[str, int] | None) -> set[str]:
        """Recipients (by profile id) whose message reached the outbox before a crash interrupted the claim."""
        if claimed is None or target.channel is None:
            return set()
        return self.outbox.sent_in(target.channel, execution.id, claimed.get(target.channel.value, 0))

    def _send(self, execution: Execution, target: _Target, profiles: "_Lookup",
              lines: dict[Channel, list[bytes]], left: set[str]) -> Execution:
        if target.refusal is not None or target.channel is None or target.content is None:
            execution.outcomes = [RecipientOutcome(user_id=r.user_id, outcome=Outcome.excluded,
                                                   reason=ExclusionReason.stopped) for r in execution.recipients]
            execution.status = ExecutionStatus.failed
            return execution
        channel, content = target.channel, target.content
        network = open_provider(target.config, self.clock) if target.config.provider is not Provider.outbox else None
        breaker = CircuitBreaker(network.gateway, self.clock) if network is not None else None
        line = OutboxLines(execution.campaign_id, execution.id, channel, content.fields).line
        at = self.clock.now().isoformat()
        outcomes = []
        for recipient in execution.recipients:
            outcome = RecipientOutcome(user_id=recipient.user_id)
            outcomes.append(outcome)
            row = profiles.row(recipient)
            address, why = _address(recipient, row, channel, target.marketing)
            if why is not None:
                outcome.outcome, outcome.reason = Outcome.excluded, why
                continue
            profile_id = row[0] if row is not None else recipient.user_id
            outcome.profile_id = row[0] if row is not None else None
            key = f"{execution.id}.{profile_id}"
            if profile_id in left:  # it left before a crash: never send it twice
                outcome.outcome, outcome.message_id = Outcome.sent, key
                continue
            context = {**execution.context, **(recipient.context or {})}
            try:
                rendered = content.render(_view(recipient, row, profile_id), context)
            except RenderError as error:
                outcome.outcome, outcome.reason, outcome.error = Outcome.excluded, ExclusionReason.rendering_error, str(error)
                continue
            if network is None:
                lines[channel].append(line(key, profile_id, address, at, rendered))
                outcome.outcome, outcome.message_id = Outcome.sent, key
                continue
            assert breaker is not None
            c = target.config
            result = deliver(network, breaker, OutboundMessage(key, execution.campaign_id, execution.id, profile_id,
                                                               channel, address, rendered, c.sender, c.sender_name,
                                                               c.reply_to, context),
                             clock=self.clock, should_stop=lambda: False)
            if result.outcome is SendOutcome.sent:
                outcome.outcome, outcome.message_id = Outcome.sent, key
            else:
                outcome.outcome, outcome.error = Outcome.failed, result.detail or result.outcome.value
        if network is not None:
            network.close()
        execution.outcomes = outcomes
        every_failed = outcomes and all(o.outcome is Outcome.failed for o in outcomes)
        execution.status = ExecutionStatus.failed if every_failed else ExecutionStatus.succeeded
        return execution


def _address(recipient: Recipient, row: tuple | None, channel: Channel,
             marketing: bool) -> tuple[str, ExclusionReason | str | None]:
    """The recipient's address on the channel, or why it is excluded."""
    given = getattr(recipient.channel_data, _CHANNEL_DATA[channel], None) if recipient.channel_data else None
    if recipient.type is RecipientType.external:
        if marketing:
            return "", EXTERNAL_MARKETING
        return (given, None) if given else ("", ExclusionReason.no_address)
    if row is None:
        return "", UNKNOWN
    if row[SUPPRESSED]:
        return "", ExclusionReason.suppressed
    address = row[ADDRESS[channel]] or given
    if not address:
        return "", ExclusionReason.no_address
    if marketing and not row[CONSENT[channel]]:
        return "", ExclusionReason.no_consent
    return address, None


def _view(recipient: Recipient, row: tuple | None, profile_id: str) -> dict:
    """What ``{{profile.*}}`` reads: the stored attributes, overridden by the call's ``profile`` for this message."""
    stored = json.loads(row[8]) if row is not None else {}
    attributes = _merged(stored, recipient.profile or {})
    identities = {"email": row[1], "phone": row[2], "push_token": row[3]} if row is not None else {}
    return profile_view(profile_id, attributes, identities)


def _merged(stored: dict, override: dict) -> dict:
    out = dict(stored)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class _Lookup:
    """The stored profiles a group's aep recipients name: one query per namespace, whatever the group's size."""

    def __init__(self, profiles: ProfileStore, executions: list[Execution]) -> None:
        wanted: dict[Namespace, set[str]] = defaultdict(set)
        for execution in executions:
            for r in execution.recipients:
                key = _key(r)
                if key is not None:
                    wanted[r.namespace].add(key)
        self._rows: dict[tuple[Namespace, str], tuple] = {}
        for namespace, values in wanted.items():
            rule = {"kind": "attribute", "attr": _COLUMN[namespace], "op": "in", "value": sorted(values)}
            for page in profiles.iter_audience_rows(AttributeRule.model_validate(rule), chunk_size=1000):
                for row in page:
                    self._rows[(namespace, row[_ROW_COLUMN[namespace]])] = row

    def row(self, recipient: Recipient) -> tuple | None:
        key = _key(recipient)
        return None if key is None else self._rows.get((recipient.namespace, key))


def _key(recipient: Recipient) -> str | None:
    """The identity as stored (normalized), or None for an external recipient or one no profile could have."""
    if recipient.type is RecipientType.external:
        return None
    try:
        return _NORMALIZE[recipient.namespace](recipient.user_id)
    except ValueError:
        return None
