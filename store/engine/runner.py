"""Executing one run: the frozen audience, cut into batches, each delivered by ``deliver_batch``.

A batch is an id range of the audience, claimed in the ledger before anything is sent.
``deliver_batch`` is a function of (plan, batch, rows, journal): it keeps no state of its own,
so batches could later go to workers on other machines (DESIGN.md 7) with the same journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ..clock import Clock
from ..models import Category, Channel, ChannelConfiguration, ExclusionReason, Provider, Run, RunCounters, RunFailure, RunStatus, Version
from ..models.audience import Audience
from ..models.content import Content, RateControl
from ..models.common import Model
from ..profiles.db import ProfileStore
from ..workspace import Workspace
from .fence import Fences
from .ledger import ACTIVE, Batch, Ledger
from .message import Outcome, OutboundMessage, SendResult
from .outbox import Outbox, OutboxLines
from .pace import Pace
from .providers.breaker import CircuitBreaker, deliver
from .providers.registry import open_provider
from ..templates import CompiledContent, RenderError, compile_content
from .throttle import RateLimiter

ADDRESS = {Channel.email: 1, Channel.sms: 2, Channel.push: 3}
CONSENT = {Channel.email: 4, Channel.sms: 5, Channel.push: 6}
SUPPRESSED = 7
FIRST_VALUE = 8
MAX_RUN = timedelta(hours=12)
OUTBOX_BATCH = 5000
NETWORK_BATCH = 50
SENT = SendResult(Outcome.sent)
SUPPRESSED_PROFILE, NO_ADDRESS, NO_CONSENT, RENDERING_ERROR = (
    ExclusionReason.suppressed, ExclusionReason.no_address, ExclusionReason.no_consent, ExclusionReason.rendering_error)


def beyond_time_limit(sends: int, rate: int | None) -> int:
    """Sends a run throttled to ``rate`` would not reach before ``MAX_RUN`` (they are excluded, throttle_timeout)."""
    return max(0, sends - rate * int(MAX_RUN.total_seconds())) if rate else 0


class RunFailed(Exception):
    """The run cannot start or go on (configuration deleted, audience gone): a typed reason the engine decides
    on, and words for people. Pickles as its arguments, so the host can hand one to a sending process."""

    def __init__(self, reason: RunFailure, message: str) -> None:
        super().__init__(reason, message)
        self.reason, self.message = reason, message

    def __str__(self) -> str:
        return self.message


class RowSource(Protocol):
    """The profiles a run delivers to, as rows in id order: an audience's, or a workflow transition's population."""

    @property
    def name(self) -> str: ...  # how people know it ("audience 'vips'")

    def bounds(self) -> tuple[int, str | None]: ...
    def rows(self, *, attributes: Sequence[str], chunk_size: int, after_id: str = "",
             until_id: str | None = None) -> Iterator[list[tuple]]: ...


@dataclass(slots=True)
class AudienceRows:
    """An audience's profiles, read by its rule."""

    profiles: ProfileStore
    audience: Audience

    @property
    def name(self) -> str:
        return f"audience {self.audience.id!r}"

    def bounds(self) -> tuple[int, str | None]:
        return self.profiles.audience_bounds(self.audience.rule)

    def rows(self, *, attributes: Sequence[str], chunk_size: int, after_id: str = "",
             until_id: str | None = None) -> Iterator[list[tuple]]:
        return self.profiles.iter_audience_rows(self.audience.rule, chunk_size=chunk_size, after_id=after_id,
                                                until_id=until_id, attributes=attributes)


@dataclass(slots=True)
class RunPlan:
    """Everything a batch needs, resolved once from the version the run started with (or a workflow's channel
    activity)."""

    run_id: str
    campaign_id: str
    channel: Channel
    marketing: bool
    source: RowSource
    content: CompiledContent
    paths: tuple[str, ...]
    config: ChannelConfiguration
    rate: int | None
    context: dict
    batch_size: int


class Sink(Protocol):
    def offset(self) -> int | None: ...
    def sent_times(self, ledger: Ledger, limit: int) -> list[str]: ...
    def already_sent(self, batch: Batch) -> set[str]: ...
    def send(self, profile_id: str, to: str, content: dict[str, str], sent_at: str) -> SendResult: ...
    def idle(self) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class OutboxSink:
    """Lines gathered per batch, written and fsync'd in one go before the batch is marked done.

    A throttled run also writes what it has every quarter of a second, so its messages show up as
    they go rather than a batch later, without an fsync per message at 2,000 a second.
    """

    FLUSH_EVERY = 0.25

    def __init__(self, outbox: Outbox, plan: RunPlan, clock: Clock) -> None:
        self.outbox, self.channel, self.clock = outbox, plan.channel, clock
        self.lines: list[bytes] = []
        self._format = OutboxLines(plan.campaign_id, plan.run_id, plan.channel, plan.content.fields).line
        self._run_id = plan.run_id
        self._flushed_at = clock.monotonic()

    def idle(self) -> None:
        if self.lines and self.clock.monotonic() - self._flushed_at >= self.FLUSH_EVERY:
            self.flush()

    def offset(self) -> int:
        return self.outbox.offset(self.channel)

    def sent_times(self, ledger: Ledger, limit: int) -> list[str]:
        return self.outbox.sent_times(self.channel, self._run_id, ledger.recent_outbox_offset(self._run_id))[-limit:]

    def already_sent(self, batch: Batch) -> set[str]:
        return self.outbox.sent_in(self.channel, batch.run_id, batch.outbox_offset)

    def send(self, profile_id: str, to: str, content: dict[str, str], sent_at: str) -> SendResult:
        self.lines.append(self._format(f"{self._run_id}.{profile_id}", profile_id, to, sent_at, content))
        return SENT

    def flush(self) -> None:
        self.outbox.append(self.channel, self.lines)
        self.lines = []
        self._flushed_at = self.clock.monotonic()

    def close(self) -> None:
        self.flush()


class ProviderSink:
    """SMTP or webhook: each message leaves at once, with bounded retries on the clock.

    Sent messages are journaled every quarter of a second (not at the end of the batch), so a resume
    after a kill skips them and only the last moments' sends go again, with the same idempotency key.
    """

    FLUSH_EVERY = 0.25

    def __init__(self, provider, plan: RunPlan, clock: Clock, should_stop: Callable[[], bool], ledger: Ledger) -> None:
        self.provider, self.plan, self.clock, self.should_stop, self.ledger = provider, plan, clock, should_stop, ledger
        self.breaker = CircuitBreaker(provider.gateway, clock)  # a gateway that is down fails fast, with the reason
        self.sent: list[tuple] = []
        self._flushed_at = clock.monotonic()

    def offset(self) -> None:
        return None

    def sent_times(self, ledger: Ledger, limit: int) -> list[str]:
        return ledger.sent_times(self.plan.run_id, limit=limit)

    def already_sent(self, batch: Batch) -> set[str]:
        return self.ledger.delivered_profiles(batch.run_id, batch.after_id, batch.last_id)

    def send(self, profile_id: str, to: str, content: dict[str, str], sent_at: str) -> SendResult:
        p = self.plan
        message = OutboundMessage(f"{p.run_id}.{profile_id}", p.campaign_id, p.run_id, profile_id, p.channel, to,
                                  content, p.config.sender, p.config.sender_name, p.config.reply_to, p.context)
        result = deliver(self.provider, self.breaker, message, clock=self.clock, should_stop=self.should_stop)
        if result.outcome is Outcome.sent:
            self.sent.append((profile_id, "sent", None, "", sent_at))
            self.idle()
        return result

    def idle(self) -> None:
        if self.sent and self.clock.monotonic() - self._flushed_at >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.sent:
            self.ledger.record_deliveries(self.plan.run_id, self.sent)
            self.sent = []
        self._flushed_at = self.clock.monotonic()

    def close(self) -> None:
        self.flush()
        self.provider.close()


def make_sink(plan: RunPlan, outbox: Outbox, ledger: Ledger, clock: Clock, should_stop: Callable[[], bool]) -> Sink:
    """The registry says who sends for the configuration; the outbox has no provider (lines are written here)."""
    provider = open_provider(plan.config, clock)
    if provider is None:
        return OutboxSink(outbox, plan, clock)
    return ProviderSink(provider, plan, clock, should_stop, ledger)


def version_of(campaign, number: int) -> Version:
    for version in (campaign.live, campaign.draft, *campaign.history):
        if version is not None and version.number == number:
            return version
    raise RunFailed(RunFailure.version_missing, f"version {number} of {campaign.id} no longer exists")


class RunSpec(Model):
    """What a run needs from the catalogue, resolved by the process that holds it, so the run itself can
    execute in another process (the catalogue lives in the engine's memory)."""

    campaign_id: str
    category: Category
    version: Version
    audience: Audience
    config: ChannelConfiguration


def resolve_run(ws: Workspace, run: Run, recipients: list[str] | None = None) -> RunSpec:
    """The run's version, audience and channel configuration; say clearly what is missing.

    An API call's ``recipients`` narrow the audience to the profiles it named (any profile when the
    version has no audience of its own)."""
    campaign = ws.catalogue.campaign(run.campaign_id)
    version = version_of(campaign, run.version)
    audience = ws.catalogue.audiences.find(version.audience) if version.audience else None
    if recipients is not None:
        named = {"kind": "attribute", "attr": "id", "op": "in", "value": recipients}
        rule = named if audience is None else {"kind": "and", "rules": [audience.rule.model_dump(), named]}
        audience = Audience.model_validate({"id": "api-call", "name": f"profiles named by API call {run.id}", "rule": rule})
    if audience is None:
        raise RunFailed(RunFailure.audience_missing, f"audience {version.audience!r} no longer exists"
                        if version.audience else "the version has no audience")
    config = ws.catalogue.channel_configurations.find(version.channel_configuration or "")
    if config is None:
        raise RunFailed(RunFailure.channel_configuration_missing,
                        f"channel configuration {version.channel_configuration!r} was deleted; "
                        "an admin must recreate it, then activate the campaign again")
    return RunSpec(campaign_id=campaign.id, category=campaign.category, version=version, audience=audience, config=config)


def plan_run(spec: RunSpec, run_id: str, context: dict, profiles: ProfileStore) -> RunPlan:
    version = spec.version
    return plan_delivery(run_id, spec.campaign_id, spec.category, version.channel, version.content,
                         version.rate_control, spec.config, context, AudienceRows(profiles, spec.audience))


def plan_delivery(run_id: str, campaign_id: str, category: Category, channel: Channel, content: Content,
                  rate_control: RateControl | None, config: ChannelConfiguration, context: dict,
                  source: RowSource) -> RunPlan:
    """A delivery of ``content`` on ``channel`` to ``source``'s profiles: an action campaign's run, or a
    workflow's channel activity."""
    try:
        compiled = compile_content(content, channel)
    except Exception as error:  # a template that no longer compiles cannot send anything
        raise RunFailed(RunFailure.content_invalid, f"the content does not compile: {error}") from None
    rate = rate_control.messages_per_second if rate_control else None
    return RunPlan(
        run_id=run_id, campaign_id=campaign_id, channel=channel, marketing=category is Category.marketing,
        source=source, content=compiled, paths=tuple(sorted(compiled.paths)), config=config,
        rate=rate, context=context, batch_size=batch_size(config, rate))


def batch_size(config: ChannelConfiguration, rate: int | None) -> int:
    """Profiles a batch: a throttled run's batch is one second of sends, so its counters (journaled per
    batch) move every second rather than every 5,000 messages (over four minutes at 20 a second)."""
    size = OUTBOX_BATCH if config.provider is Provider.outbox else NETWORK_BATCH
    return min(size, rate) if rate else size


class Interrupts:
    """Why a run must pause before its next message: stopped, out of time (12 h), or shutting down."""

    def __init__(self, clock: Clock, deadline: datetime, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> None:
        self.clock, self.deadline, self.stopped, self.shutdown = clock, deadline, stopped, shutdown

    def __call__(self) -> str | None:
        if self.stopped():
            return "stopped"
        if self.shutdown():
            return "shutdown"
        if self.clock.now() >= self.deadline:
            return "throttle_timeout"
        return None


def deliver_batch(plan: RunPlan, batch: Batch, rows: list[tuple], sink: Sink, ledger: Ledger,
                  counters: RunCounters, clock: Clock, limiter: RateLimiter | None,
                  interrupt: Interrupts, pace: Pace | None = None) -> str | None:
    """Exclude, render and send one batch, then journal it; returns why it was interrupted, if it was.

    On "shutdown" the sent lines are flushed but the batch stays claimed (a resume finishes it);
    on "stopped" or "throttle_timeout" the batch is closed and the rest of the run is excluded.
    The loop keeps its counts in locals: it runs once per profile, a million times a run.
    """
    skip = sink.already_sent(batch)
    channel, marketing, context = plan.channel, plan.marketing, plan.context
    render = plan.content.bind(plan.paths, FIRST_VALUE)
    address_at, consent_at = ADDRESS[channel], CONSENT[channel]
    excluded = counters.excluded
    deliveries: list[tuple] = []
    at = clock.now().isoformat()  # a throttled send's time comes from the limiter's reading
    sent = failed = checked = 0
    send = sink.send
    reason = None
    for row in rows:
        profile_id = row[0]
        if profile_id in skip:  # it left before a crash: count it, never send it twice
            sent += 1
            continue
        checked += 1
        if limiter is not None or checked & 63 == 1:  # throttled: before every message; else every 64 (< 1 ms)
            reason = interrupt()
            if reason is not None:
                break
        if row[SUPPRESSED]:
            cause = SUPPRESSED_PROFILE
        elif not row[address_at]:
            cause = NO_ADDRESS
        elif marketing and not row[consent_at]:
            cause = NO_CONSENT
        else:
            try:
                rendered = render(row, context)
            except RenderError as error:
                excluded[RENDERING_ERROR] = excluded.get(RENDERING_ERROR, 0) + 1
                deliveries.append((profile_id, "excluded", "rendering_error", str(error), at))
                continue
            sent_at = at
            if limiter is not None:
                if limiter.wait_time() > 0:
                    sink.idle()
                when = limiter.stamp(limiter.acquire())
                if when >= interrupt.deadline:
                    reason = "throttle_timeout"
                    break
                sent_at = when.isoformat()
            result = send(profile_id, row[address_at], rendered, sent_at)
            if result is SENT or result.outcome is Outcome.sent:
                sent += 1  # a network sink journals its sent messages itself, as they go
            elif result.outcome is Outcome.transient and interrupt() is not None:
                reason = interrupt()  # a stop cut the retries short: this one was not delivered
                break
            else:
                failed += 1
                failure = "provider_unavailable" if result.outcome is Outcome.unavailable else "dispatch_error"
                deliveries.append((profile_id, "failed", failure, result.detail, at))
            continue
        excluded[cause] = excluded.get(cause, 0) + 1
        deliveries.append((profile_id, "excluded", cause, "", at))
    sink.flush()
    counters.sent += sent
    counters.failed += failed
    if reason == "shutdown":
        return reason
    handled = counters.sent + counters.failed + counters.excluded_total
    ledger.complete_batch(batch, deliveries, counters, rate=pace.rate(handled) if pace else None)
    return reason


def batch_rows(plan: RunPlan, after_id: str, last_id: str) -> list[tuple]:
    """The rows of one claimed batch, read again (a resume after a crash)."""
    return [row for page in plan.source.rows(chunk_size=max(plan.batch_size, 1000), after_id=after_id,
                                             until_id=last_id, attributes=plan.paths) for row in page]


class RunBusy(Exception):
    """Another live process is sending this run: it must not be resumed here (two senders send twice)."""


def execute_run(profiles: ProfileStore, ledger: Ledger, outbox: Outbox, fences: Fences, clock: Clock, run: Run,
                spec: RunSpec | RunFailed, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> Run:
    """Run (or resume) one run to its end, a stop, a 12-hour timeout or a shutdown; returns it as journaled.

    ``spec`` is the resolved run, or the reason it could not be resolved. The run is fenced: this process
    holds its lock while it sends, and raises RunBusy when a live process already does. Progress is
    journaled per batch, so whoever hosts the run reads it from the ledger.
    """
    return fenced(fences, ledger, run,
                  lambda held: _send_run(profiles, ledger, outbox, clock, held, spec, stopped, shutdown))


def fenced(fences: Fences, ledger: Ledger, run: Run, send: Callable[[Run], Run]) -> Run:
    """``send`` the run (as journaled now that it is ours: it may have ended meanwhile) while this process holds
    its fence; RunBusy when a live process already does. The fence is released as finished once it ended."""
    lock = fences.hold(run.id)
    if lock is None:
        raise RunBusy(f"run {run.id} is being sent by process {fences.owner(run.id)}")
    run = ledger.run(run.id)
    finished = run.status.value not in ACTIVE
    try:
        if not finished:
            run = send(run)
            finished = run.status.value not in ACTIVE
        return run
    finally:
        lock.release(finished=finished)


def _send_run(profiles: ProfileStore, ledger: Ledger, outbox: Outbox, clock: Clock, run: Run,
              spec: RunSpec | RunFailed, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> Run:
    try:
        if isinstance(spec, RunFailed):
            raise spec
        plan = plan_run(spec, run.id, ledger.context(run.id), profiles)
    except RunFailed as error:
        ledger.end_run(run.id, RunStatus.failed, now=clock.now(), error=str(error), failure=error.reason)
        return ledger.run(run.id)
    return deliver_run(ledger, outbox, clock, run, plan, stopped, shutdown)


def deliver_run(ledger: Ledger, outbox: Outbox, clock: Clock, run: Run, plan: RunPlan, stopped: Callable[[], bool],
                shutdown: Callable[[], bool], *, empty_fails: bool = True) -> Run:
    """Deliver (or resume) one planned run: claimed batches first, then new ones after the cursor; the run as
    journaled at its end, a stop, its 12-hour limit or a shutdown (then still running). ``empty_fails``: a run
    whose source has no profile fails (an action campaign's); otherwise it completes with nothing sent."""
    resumed = run.status is not RunStatus.pending
    if not resumed:
        targeted, last_id = plan.source.bounds()
        if targeted == 0 and empty_fails:
            ledger.end_run(run.id, RunStatus.failed, now=clock.now(), error=f"{plan.source.name} is empty",
                           failure=RunFailure.audience_empty)
            return ledger.run(run.id)
        ledger.start_run(run.id, now=clock.now(), targeted=targeted, last_id=last_id)
    run = ledger.run(run.id)
    counters = run.counters
    assert run.started_at is not None, "start_run stamps a run before its first batch"
    interrupt = Interrupts(clock, run.started_at + MAX_RUN, stopped, shutdown)
    sink = make_sink(plan, outbox, ledger, clock, lambda: interrupt() is not None)
    limiter = None
    if plan.rate:
        limiter = RateLimiter(plan.rate, clock)
        if resumed:
            limiter.seed([datetime.fromisoformat(t) for t in sink.sent_times(ledger, plan.rate)])
    last_id = ledger.frozen_last_id(run.id)
    pace = Pace(clock, counters.sent + counters.failed + counters.excluded_total)
    reason = None
    try:
        for batch in ledger.claimed_batches(run.id):
            rows = batch_rows(plan, batch.after_id, batch.last_id)
            reason = deliver_batch(plan, batch, rows, sink, ledger, counters, clock, limiter, interrupt, pace)
            if reason:
                break
        if reason is None:
            cursor = ledger.cursor(run.id)
            for page in plan.source.rows(chunk_size=plan.batch_size, after_id=cursor, until_id=last_id,
                                         attributes=plan.paths):
                batch = ledger.claim_batch(run.id, cursor, page[-1][0], sink.offset())
                cursor = page[-1][0]
                reason = deliver_batch(plan, batch, page, sink, ledger, counters, clock, limiter, interrupt, pace)
                if reason:
                    break
    finally:
        sink.close()
    if reason == "shutdown":
        return ledger.run(run.id)
    processed = counters.sent + counters.failed + sum(counters.excluded.values())
    if reason in ("stopped", "throttle_timeout"):
        rest = max(0, counters.targeted - processed)
        if rest:
            cut = ExclusionReason(reason)
            counters.excluded[cut] = counters.excluded.get(cut, 0) + rest
    else:
        counters.targeted = processed  # profiles that left the audience mid-run are not counted as targeted
    status = RunStatus.stopped if reason == "stopped" else RunStatus.completed
    why, failure = None, None
    if counters.sent == 0 and counters.failed > 0:
        status, failure = RunStatus.failed, RunFailure.every_send_failed
        first = ledger.deliveries(run.id, outcome="failed", limit=1)
        why = "every send failed" + (f": {first[0]['detail']}" if first else "")
    elif reason == "throttle_timeout":
        unreached = counters.excluded.get(ExclusionReason.throttle_timeout, 0)
        why = f"the run reached its 12-hour limit; {unreached} profiles were not reached"
    ledger.end_run(run.id, status, now=clock.now(), counters=counters, error=why, failure=failure)
    return ledger.run(run.id)
