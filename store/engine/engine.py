"""The engine: completes activations, fires schedules, executes runs, completes campaigns.

It runs inside the process that holds the workspace lock. ``tick`` does one pass of scheduling
work at the clock's ``now``: tests move a FrozenClock and call ``run_until_idle``; a real process
calls ``start`` and a scheduler thread sleeps until the earliest fire or completion in its
timetable (timetable.py) or until a campaign changes (the catalogue tells it), while runs execute in
sending processes (senders.py), each watched by a thread of the engine. Each gateway gets its own
slots, so a hung SMTP server holds only the runs sent through it; a run is dispatched only when no
live process still owns it (fence.py), so a sender left behind by a killed host is never doubled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterable
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock
from ..errors import CampaignsError, InvalidTransition, NotFound, ValidationFailed
from ..lifecycle import ActivationOutcome, Lifecycle
from ..list_changes import ListChanges
from ..models.execution import Execution, Recipient
from ..models.ajo import ScheduledExecution
from ..models.workflow import WorkflowCounts
from ..models import ActiveRun, Campaign, CampaignType, Channel, Run, RunFailure, RunStatus, RunTrigger, Status, User, Version
from ..roles import Action, require
from ..workspace import Workspace
from .activation import check_activation
from .execution_journal import ExecutionJournal
from .execution_sender import ExecutionSender
from .ledger import ACTIVE, Ledger
from .occurrences import completion_time, due, first_fire, next_occurrences
from .outbox import Outbox
from .fence import Fences
from .providers.registry import SLOTS_PER_GATEWAY, isolation_key
from .runner import RunBusy, RunFailed, RunSpec, resolve_run
from .scheduled_executions import ScheduledExecutions, is_schedule_key, schedule_key
from .senders import Senders, SenderLost
from .signals import Signals
from .timetable import Timetable
from .workflow_runner import Spec, WorkflowSpec, execute, resolve_workflow
from .workflow_counts import workflow_counts

log = logging.getLogger("campaigns.engine")
TICK_SECONDS = 0.05  # while runs wait for a gateway slot or another process's fence: how often they are re-checked
IDLE_SECONDS = 5.0  # the longest the scheduler sleeps: a wall clock set forward is noticed within it
MAX_SENDERS = 8  # runs sending at once
MAX_LOST = 3  # a run whose sender dies this many times in a row without progress fails, with the reason
TIMINGS_PER_TICK = 500  # campaigns scheduled per tick at start-up (about 30 ms): 100,000 take slices, never one long hold
SCHEDULED_TYPES = (CampaignType.action, CampaignType.orchestrated)
WAKE = "wake:"  # the timetable's key of a workflow run waiting on a Wait activity: "wake:<run id>"
WATCHED = (Status.activating.value, Status.scheduled.value, Status.live.value)  # what the scheduler acts on


@dataclass(slots=True)
class _Timing:
    """A campaign's next fire and completion, recomputed only when the campaign changes. Two instants,
    not the campaign: 100,000 models kept alive would make every full garbage collection a long pause."""

    next_fire: datetime | None
    completes_at: datetime | None

    @property
    def due(self) -> datetime | None:
        """When the engine next has something to do for it (its place in the timetable)."""
        return min((t for t in (self.next_fire, self.completes_at) if t is not None), default=None)


class Engine:
    def __init__(self, ws: Workspace, *, clock: Clock | None = None, processes: bool = False) -> None:
        """``processes``: execute runs in child processes (a hosting console or ``campaigns engine``);
        otherwise in this process's threads, on the injected clock (tests, the demo's story)."""
        self.ws, self.clock = ws, clock or ws.clock
        self.lifecycle = ws.lifecycle if clock is None else Lifecycle(ws.catalogue, clock)
        self.ledger = Ledger(ws.data_dir)
        self.outbox = Outbox(ws.data_dir)
        self.outbox.repair()
        self.signals = Signals(ws.data_dir)
        self.signals.clear_shutdown()
        self.fences = Fences(ws.data_dir)
        self.scheduled = ScheduledExecutions(ws.data_dir)  # audience executions waiting for their executeAt
        self._timings: dict[str, _Timing] = {}
        self._timetable = Timetable()
        self._changed: set[str] = set()  # campaigns saved since the last tick, as the catalogue told us
        self._changes = threading.Lock()
        self._unscheduled: list[str] | None = None  # at start: campaigns still to schedule (None: not yet read)
        self._runs_changed = True  # a run was created or ended (at start: runs a crash left), so dispatch
        self._running: dict[str, Future] = {}
        self._gateways: Counter[str] = Counter()  # busy slots per gateway
        self._waiting: dict[str, tuple[str, Spec]] = {}  # run → (campaign, resolved) waiting for a slot or a fence
        self._lost: dict[str, tuple[int, tuple]] = {}  # run → senders lost in a row, and its progress then
        self.senders = Senders(ws.data_dir) if processes else None
        self._shutdown = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=MAX_SENDERS, thread_name_prefix="campaigns-run")
        self._thread: threading.Thread | None = None
        self.list_changes = ListChanges()  # list rows changed, for the list's incremental answers
        self.executions_journal = ExecutionJournal(ws.data_dir, on_commit=self._wake_sender)
        self.execution_sender = ExecutionSender(ws, self.executions_journal, self.outbox, self.clock,
                                                sent=self.list_changes.touch)
        self._send_executions = threading.Event()
        self._sender_thread: threading.Thread | None = None
        ws.catalogue.add_listener(self._campaign_changed)

    # what the API calls -----------------------------------------------------------------
    def activate(self, actor: User, campaign_id: str) -> Campaign:
        """The lifecycle says whether ``actor`` may, the engine checks the version (every problem at once) and
        its first fire, then the lifecycle takes the outcome in one change: Scheduled or Live."""
        campaign, version = self.lifecycle.activation_target(actor, campaign_id)
        outcome = self._activation_outcome(campaign, version)
        if outcome.refusal is None:
            self.signals.resume(campaign_id)  # halted when it failed or stopped: its new runs must send
        campaign = self.lifecycle.activate_campaign(actor, campaign_id, outcome)
        self._wake.set()
        return campaign

    def _activation_outcome(self, campaign: Campaign, version: Version, *, problems: bool = True) -> ActivationOutcome:
        """Scheduled or Live, or why not. ``problems``: the full checks (a person's activation raises them
        field by field); a campaign left Activating records them as its reason."""
        now = self.clock.now()
        try:
            check_activation(self.ws, campaign, version, now)
            # Scheduled waits for a start date (DESIGN 2); without one a campaign is Live from its
            # activation, a recurring one too while it waits for its first occurrence.
            first = first_fire(version.schedule, activated_at=version.activated_at or now)  # refuses one that never fires
        except CampaignsError as error:
            if problems:
                raise
            return ActivationOutcome(refusal=error.detail)
        return ActivationOutcome(scheduled=version.schedule.start is not None and first > now)

    def execute(self, actor: User, campaign_id: str, request_id: str, recipients: list[Recipient],
                context: dict) -> tuple[Execution, bool]:
        """One call of an API-triggered campaign, durable when this returns (sent soon after, in a batch shared
        with other calls); (the execution, replayed?). The same request id with the same body is the first
        execution, sent once; with another body, a Conflict. Only a Live api campaign accepts calls."""
        return self.executions_journal.accept(*self._execution(actor, campaign_id, request_id, recipients, context))

    async def execute_async(self, actor: User, campaign_id: str, request_id: str, recipients: list[Recipient],
                            context: dict) -> tuple[Execution, bool]:
        """``execute`` awaited on the server's event loop (no thread held while the group commits)."""
        return await self.executions_journal.accept_async(
            *self._execution(actor, campaign_id, request_id, recipients, context))

    def _execution(self, actor: User, campaign_id: str, request_id: str, recipients: list[Recipient],
                   context: dict) -> tuple[Execution, str]:
        """The call checked and made an execution, with the digest a replay is compared by."""
        campaign = self.lifecycle.trigger_target(actor, campaign_id)
        if "system" in context or any(r.context and "system" in r.context for r in recipients):
            raise ValidationFailed.of([{"field": "context.system", "message": "reserved for the system; rename the key"}])
        execution = Execution(id=f"exe-{uuid.uuid4().hex[:20]}", campaign_id=campaign.id, request_id=request_id,
                              created_at=self.clock.now(), created_by=actor.name, context=context, recipients=recipients)
        return execution, _digest(recipients, context)

    def execution(self, actor: User, execution_id: str) -> Execution:
        require(actor, Action.read_executions)
        return self.executions_journal.get(execution_id)

    def executions(self, actor: User, campaign_id: str, limit: int = 20) -> list[Execution]:
        """The campaign's latest executions, newest first (an api-client reads them without reading campaigns)."""
        require(actor, Action.read_executions)
        self.ws.catalogue.campaign(campaign_id)  # NotFound, named
        return self.executions_journal.of_campaign(campaign_id, limit)

    def schedule_execution(self, actor: User, campaign_id: str, execute_at: datetime, context: dict,
                           request_id: str | None) -> ScheduledExecution:
        """An audience execution at ``execute_at`` on the engine's clock, made then as ``actor`` (who may trigger
        the campaign now; the campaign is asked again then)."""
        self.lifecycle.trigger_target(actor, campaign_id)
        schedule = self.scheduled.add(campaign_id, execute_at, created_by=actor.name, context=context,
                                      request_id=request_id)
        self._wake.set()
        return schedule

    def run_audience(self, actor: User, campaign_id: str, context: dict,
                     request_id: str | None = None) -> tuple[Run, bool]:
        """An audience execution (AJO's word): a run of the api campaign over its audience, with ``context``
        for ``{{context.*}}``; it starts at once. With ``request_id``: (the first run, True) for a replay of the
        same call, a Conflict for another call under that id."""
        campaign = self.lifecycle.trigger_target(actor, campaign_id)
        assert campaign.live is not None  # the lifecycle refuses a campaign that is not Live
        if campaign.live.audience is None:
            raise ValidationFailed.of([{"field": "audience", "message": (
                f"{campaign_id} has no audience of its own; name its recipients with the unitary call")}])
        if request_id is None:
            run = self.ledger.create_run(campaign.id, campaign.live.number, RunTrigger.api, now=self.clock.now(),
                                         context=context)
            assert run is not None  # only scheduled occurrences can collide
            replayed = False
        else:
            run, replayed = self.ledger.create_requested_run(campaign.id, campaign.live.number, now=self.clock.now(),
                                                             context=context, request_id=request_id,
                                                             digest=_digest([], context))
        if not replayed:
            self._dispatch_soon()
        return run, replayed

    def _fire_scheduled(self, campaign_id: str, user: str, context: dict) -> str:
        actor = self.ws.catalogue.users.find(user)
        if actor is None:
            raise NotFound(f"{user!r}, who scheduled it, is no longer a user of the workspace")
        return self.run_audience(actor, campaign_id, context)[0].id

    def stop(self, actor: User, campaign_id: str) -> Campaign:
        campaign = self.lifecycle.stop_campaign(actor, campaign_id)
        self.signals.halt(campaign_id)  # a run in flight halts before its next message
        return campaign

    def archive(self, actor: User, campaign_id: str) -> Campaign:
        campaign = self.lifecycle.archive_campaign(actor, campaign_id)
        self.signals.halt(campaign_id)
        return campaign

    @property
    def hosting(self) -> bool:
        """This engine runs the scheduler (a console, `campaigns engine`, `activate`): its runs are sent."""
        return self._thread is not None and not self._shutdown.is_set()

    def runs(self, campaign_id: str) -> list[Run]:
        """As journaled (a run in flight updates its counters after every batch), paused as ``shown`` says."""
        runs = self.ledger.runs(campaign_id)
        for run in runs:
            run.status = RunStatus(self.shown(run.status.value))
        return runs

    def workflow_counts(self, campaign_id: str, run_id: str | None = None) -> WorkflowCounts | None:
        """That run's (default: the campaign's latest run's) per-activity states and per-transition counts; None
        when the campaign has no such run or it is not a workflow's."""
        campaign = self.ws.catalogue.campaign(campaign_id)
        runs = [r for r in self.ledger.runs(campaign_id) if r.status is not RunStatus.missed]
        chosen = next((r for r in runs if r.id == run_id), None) if run_id else (runs[-1] if runs else None)
        return None if chosen is None else workflow_counts(self.ledger, campaign, chosen, self.clock.now())

    def active_runs(self) -> list[ActiveRun]:
        """Every pending or running run with its counters, rate and time left: one indexed read, whatever
        the number of campaigns, for a console that refreshes its Sent/excl column every second."""
        return [ActiveRun(campaign_id=r.campaign_id, run_id=r.id, status=RunStatus(self.shown(r.status.value)),
                          counters=r.counters, rate=r.rate, eta_seconds=r.eta_seconds)
                for r in self.ledger.active_runs()]

    def latest_runs(self) -> dict[str, dict]:
        """Each campaign's latest run for the list, paused as ``shown`` says."""
        latest = self.ledger.latest_runs()
        for run in latest.values():
            run["status"] = self.shown(run["status"])
        return latest

    def shown(self, status: str) -> str:
        """A run interrupted while no process hosts the engine is "paused": nothing sends it until one starts."""
        return RunStatus.paused.value if status == RunStatus.running.value and not self.hosting else status

    def next_fire(self, campaign_id: str) -> datetime | None:
        """The next scheduled run as the scheduler last computed it (None when it has no schedule pending)."""
        timing = self._timings.get(campaign_id)
        return None if timing is None else timing.next_fire

    def next_fires(self, campaign: Campaign, count: int = 5) -> list[datetime]:
        version = campaign.live if campaign.live and campaign.live.activated_at else campaign.current
        activated = version.activated_at or self.clock.now()
        after = self.ledger.last_occurrence(campaign.id) or self.clock.now()
        return next_occurrences(version.schedule, activated_at=activated, after=max(after, self.clock.now()), count=count)

    # scheduling --------------------------------------------------------------------------
    def tick(self) -> None:
        """One pass: take in the campaigns that changed (at start, a slice of all of them), fire and
        complete what the timetable says is due, then hand runs to workers if any were created or ended
        or wait for a slot. Nothing here reads every campaign, except once at start."""
        now = self.clock.now()
        for campaign_id in self._to_schedule():
            try:
                self._schedule(campaign_id)
            except CampaignsError:
                continue  # changed under us (stopped, archived): the change brings it back
        for schedule in self.scheduled.take_new():
            self._timetable.set(schedule_key(schedule.schedule_id), schedule.execute_at)
        for campaign_id in self._timetable.pop_due(now):
            try:
                if campaign_id.startswith(WAKE):
                    self._runs_changed = True  # its wait is over: dispatch it
                elif is_schedule_key(campaign_id):
                    self.scheduled.fire(campaign_id, self._fire_scheduled)
                else:
                    self._fire_and_complete(campaign_id, now)
            except CampaignsError:
                continue
        if self._runs_changed or self._waiting:
            self._runs_changed = False
            self._dispatch()

    def _campaign_changed(self, campaign_id: str) -> None:
        """The catalogue's listener: called after every committed save, from any thread."""
        with self._changes:
            self._changed.add(campaign_id)
        self.list_changes.touch(campaign_id)
        self._wake.set()

    def _wake_sender(self) -> None:
        self._send_executions.set()

    def _dispatch_soon(self) -> None:
        self._runs_changed = True
        self._wake.set()

    def _to_schedule(self) -> Iterable[str]:
        """The campaigns changed since the last tick, then up to TIMINGS_PER_TICK of those the engine
        found at start (read once: Activating ones a crash left, Scheduled and Live)."""
        with self._changes:
            changed, self._changed = self._changed, set()
        if self._unscheduled is None:
            rows = self.ws.catalogue.campaign_rows()
            self._unscheduled = [item.row["id"] for item in reversed(rows) if item.row["status"] in WATCHED]
        start = self._unscheduled[-TIMINGS_PER_TICK:]
        del self._unscheduled[-TIMINGS_PER_TICK:]
        return [*changed, *reversed(start)]

    def _schedule(self, campaign_id: str) -> None:
        """Bring one campaign's place in the timetable up to date with what is stored."""
        try:
            campaign = self.ws.catalogue.campaign(campaign_id)
        except NotFound:
            campaign = None  # a deleted draft
        if campaign is not None and campaign.status is Status.activating:
            self._complete_activation(campaign_id)  # its save brings it back here, Scheduled or Live
        elif campaign is not None and campaign.status in (Status.scheduled, Status.live):
            self._timetable.set(campaign_id, self._timing(campaign).due)
        elif self._timings.pop(campaign_id, None) is not None:
            self._timetable.discard(campaign_id)
            self.signals.halt(campaign_id)  # stopped, archived, failed: a run in flight halts

    def _sleep_seconds(self) -> float:
        """How long the scheduler thread may sleep: until the earliest entry of the timetable (a change
        wakes it sooner), a tick while start-up is scheduling or runs wait, never over IDLE_SECONDS."""
        if self._changed or self._unscheduled is None:
            return 0.0
        if self._unscheduled or self._waiting:
            return TICK_SECONDS
        earliest = self._timetable.earliest()
        if earliest is None:
            return IDLE_SECONDS
        seconds = (earliest - self.clock.now()).total_seconds()
        return TICK_SECONDS if seconds <= 0 else min(seconds, IDLE_SECONDS)  # due yet not fired: back off

    def _complete_activation(self, campaign_id: str) -> Campaign:
        """A campaign left Activating (by a crash, or an older version) is checked again and completed, once:
        the lifecycle takes the outcome, a refusal included, as its reason."""
        with self._lock:
            campaign = self.ws.catalogue.campaign(campaign_id)
            if campaign.status is not Status.activating:
                return campaign
            outcome = self._activation_outcome(campaign, campaign.current, problems=False)
            if outcome.refusal is None:
                self.signals.resume(campaign_id)
            return self.lifecycle.complete_activation(campaign_id, outcome)

    def _timing(self, campaign: Campaign) -> _Timing:
        version = campaign.live
        assert version is not None  # Scheduled and Live campaigns have a live version
        activated_at = version.activated_at or campaign.updated_at
        next_fire = completes = None
        if campaign.type in SCHEDULED_TYPES:
            last = self.ledger.last_occurrence(campaign.id)
            upcoming = next_occurrences(version.schedule, activated_at=activated_at, after=last, count=1) \
                if last else [first_fire(version.schedule, activated_at=activated_at)]
            next_fire = upcoming[0] if upcoming else None
            completes = completion_time(version.schedule, activated_at=activated_at)
            if campaign.type is CampaignType.orchestrated and version.schedule.recurrence is None:
                completes = self._workflow_ended(campaign.id)
        elif campaign.type is CampaignType.api:  # no runs of its own: Live at its start, Completed at its end
            start = version.schedule.start
            next_fire = start if campaign.status is Status.scheduled and start is not None else None
            completes = version.schedule.end
        timing = self._timings[campaign.id] = _Timing(next_fire, completes)
        self.list_changes.touch(campaign.id)  # its next run, as the list shows it
        return timing

    def _fire_and_complete(self, campaign_id: str, now: datetime) -> None:
        """What the timetable said is due: its runs (and those missed), or its completion. A campaign
        that cannot complete while its runs are active comes back when one ends."""
        timing = self._timings.get(campaign_id)
        campaign = self.ws.catalogue.campaign(campaign_id)
        if timing is None or campaign.status not in (Status.scheduled, Status.live):
            return  # changed under us: its change reschedules it
        version = campaign.live
        assert version is not None  # Scheduled and Live campaigns have a live version
        if campaign.type is CampaignType.api:
            self._api_dates(campaign, timing, now)
            return
        if timing.next_fire is not None and timing.next_fire <= now:
            activated_at = version.activated_at or campaign.updated_at
            last = self.ledger.last_occurrence(campaign.id)
            plan = due(version.schedule, activated_at=activated_at, last_fired=last, now=now)
            for missed in plan.missed:
                self.ledger.create_run(campaign.id, version.number, RunTrigger.schedule, now=now, occurrence=missed,
                                       status=RunStatus.missed, error="missed while the engine was not running")
            if plan.fire is not None:
                trigger = RunTrigger.activation if last is None and version.schedule.recurrence is None else RunTrigger.schedule
                self.ledger.create_run(campaign.id, version.number, trigger, now=now, occurrence=plan.fire)
                self._dispatch_soon()
                if campaign.status is Status.scheduled:
                    self.lifecycle.engine_went_live(campaign.id)
            self._timetable.set(campaign.id, self._timing(campaign).due)  # its next occurrence (same live version)
            return
        if (campaign.status is Status.live and timing.completes_at is not None and now >= timing.completes_at
                and not self._has_active_runs(campaign.id)
                and (timing.next_fire is None or timing.next_fire > timing.completes_at)):
            reason = ("recurring campaign reached its end date" if version.schedule.recurrence is not None
                      else "one-shot workflow completed: every branch ended" if campaign.type is CampaignType.orchestrated
                      else "one-shot campaign completed 3 days after it was sent")
            self.lifecycle.engine_completed(campaign.id, reason)
            self._timings.pop(campaign.id, None)

    def _workflow_ended(self, campaign_id: str) -> datetime | None:
        """When a one-shot workflow's run completed (every branch ended): the campaign completes then."""
        runs = self.ledger.runs(campaign_id)
        last = runs[-1] if runs else None
        return last.ended_at if last is not None and last.status is RunStatus.completed else None

    def _api_dates(self, campaign: Campaign, timing: _Timing, now: datetime) -> None:
        """An api campaign goes Live at its start date and completes at its end date (its change brings it back
        to the timetable, so one whose start and end both passed goes Live, then Completed)."""
        if campaign.status is Status.scheduled and timing.next_fire is not None and timing.next_fire <= now:
            self.lifecycle.engine_went_live(campaign.id, "its start date came: it takes calls")
        elif (campaign.status is Status.live and timing.completes_at is not None and now >= timing.completes_at
              and not self._has_active_runs(campaign.id)):
            self.lifecycle.engine_completed(campaign.id, "api campaign reached its end date")
            self._timings.pop(campaign.id, None)

    def _has_active_runs(self, campaign_id: str) -> bool:
        return any(r.campaign_id == campaign_id for r in self.ledger.active_runs())

    # executing runs ----------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Hand each active run to a thread, when its gateway has a free slot and no live process owns it.

        Called when a run was created or ended, and every tick while some wait for a slot or a fence."""
        with self._lock:
            active = self.ledger.active_runs()
            sleeping = self.ledger.wake_times()
            now = self.clock.now()
            ids = {run.id for run in active}
            for run_id in [r for r in self._waiting if r not in ids]:  # ended by the process that owned it
                self._campaign_changed(self._waiting.pop(run_id)[0])  # due to complete, perhaps
            for run in active:
                if run.id in self._running or self._shutdown.is_set() or len(self._running) >= MAX_SENDERS:
                    continue
                wake_at = sleeping.get(run.id)
                if wake_at is not None and wake_at > now and not self.signals.halted(run.campaign_id):
                    self._timetable.set(WAKE + run.id, wake_at)  # a waiting workflow holds no slot meanwhile
                    continue
                if run.id not in self._waiting:  # worked out once, not on every tick while the run waits
                    self._waiting[run.id] = (run.campaign_id, self._resolve(run))
                spec = self._waiting[run.id][1]
                gateway = _gateway(spec)
                if self._gateways[gateway] >= SLOTS_PER_GATEWAY or self.fences.owner(run.id) is not None:
                    continue
                del self._waiting[run.id]
                self._gateways[gateway] += 1
                self._running[run.id] = self._pool.submit(self._execute, run, spec, gateway)

    def _resolve(self, run: Run) -> Spec:
        try:
            if self.ws.catalogue.campaign(run.campaign_id).type is CampaignType.orchestrated:
                return resolve_workflow(self.ws, run)
            return resolve_run(self.ws, run, self.ledger.recipients(run.id))
        except RunFailed as error:
            return error
        except CampaignsError as error:  # the campaign was deleted
            return RunFailed(RunFailure.version_missing, error.detail)

    def _execute(self, run: Run, spec: Spec, gateway: str) -> Run | None:
        """Execute (or resume) the run; None when it must be resumed later (its sender was lost, or another
        live process owns it)."""
        self.list_changes.touch(run.campaign_id)  # the list's last run is this one now (its end touches again)
        try:
            finished = self._in_sender(self.senders, run, spec) if self.senders is not None else self._here(run, spec)
            if finished is not None:
                self._lost.pop(run.id, None)
                self._after_run(finished)
            return finished
        finally:
            with self._lock:
                self._running.pop(run.id, None)
                self._gateways[gateway] -= 1
            self._campaign_changed(run.campaign_id)  # it may be due to complete now that its run ended
            self._dispatch_soon()  # a slot is free

    def _in_sender(self, senders: Senders, run: Run, spec: Spec) -> Run | None:
        job = (run.model_dump_json(), None if isinstance(spec, RunFailed) else spec.model_dump_json(),
               spec if isinstance(spec, RunFailed) else None, isinstance(spec, WorkflowSpec))
        halted = lambda: self.signals.halted(run.campaign_id)  # noqa: E731
        try:
            answer = senders.execute(job, halted=halted, shutting_down=self._shutdown.is_set)
        except SenderLost as lost:
            if halted():
                return self._here(run, spec)  # killed hung in a send after a stop: the run is closed here, at once
            self._sender_lost(run, str(lost))
            return None
        return None if answer is None else Run.model_validate_json(answer)

    def _here(self, run: Run, spec: Spec) -> Run | None:
        """In this process: the engine's threads (tests, the demo), or closing a stopped run."""
        try:
            return execute(self.ws.profiles, self.ledger, self.outbox, self.fences, self.clock, run, spec,
                           stopped=lambda: self.signals.halted(run.campaign_id), shutdown=self._shutdown.is_set)
        except RunBusy:
            return None

    def _progress(self, run: Run) -> tuple:
        """What a sender that made progress changed: the counters and cursor (per batch), the deliveries a
        network sender journals as it goes, and the outbox an outbox sender appends to."""
        return (run.counters.sent, run.counters.failed, run.counters.excluded_total, self.ledger.cursor(run.id),
                self.ledger.delivery_count(run.id), tuple(self.outbox.offset(c) for c in Channel))

    def _sender_lost(self, run: Run, why: str) -> None:
        """The run stays claimed in the journal and resumes in a new process at the next tick; one that loses
        its sender again and again without progress fails, so a batch that kills its sender cannot loop forever."""
        now = self.ledger.run(run.id)
        if now.status.value not in ACTIVE:
            return
        if self._shutdown.is_set():
            log.warning("run %s: %s", run.id, why)
            return
        progress = self._progress(now)
        count, before = self._lost.get(run.id, (0, None))
        count = count + 1 if before == progress else 1
        self._lost[run.id] = (count, progress)
        log.warning("run %s: %s; resuming it in a new process (%d in a row)", run.id, why, count)
        if count >= MAX_LOST:
            self._lost.pop(run.id, None)
            self.ledger.end_run(run.id, RunStatus.failed, now=self.clock.now(),
                                error=f"its sending process died {count} times in a row without progress ({why})",
                                failure=RunFailure.sender_lost)
            self._after_run(self.ledger.run(run.id))

    def _after_run(self, run: Run) -> None:
        """A run whose every send failed, or that could not start, fails its campaign (with the reason); a
        recurring campaign whose audience was empty this time stays Live for the next occurrence."""
        if run.status is not RunStatus.failed:
            return
        campaign = self.ws.catalogue.campaign(run.campaign_id)
        if run.failure is RunFailure.audience_empty and campaign.live and campaign.live.schedule.recurrence:
            return
        try:
            self.lifecycle.engine_failed(campaign.id, f"run {run.id}: {run.error}")
        except InvalidTransition:
            pass  # no longer running (stopped, archived, failed already): the transition table says

    def run_until_idle(self) -> None:
        """Tick and execute every due run in this thread until nothing is left: for tests and the CLI."""
        while True:
            self._runs_changed = True  # runs created behind the engine's back (tests) are seen too
            self.tick()
            with self._lock:
                futures = list(self._running.values())
            if not futures and not self._changed and not self._unscheduled:
                while self.execution_sender.send_open():
                    pass
                self.execution_sender.wait_in_flight()
                return
            for future in futures:
                future.result()

    # background operation ----------------------------------------------------------------
    def start(self) -> None:
        """Tick in a background thread until ``shutdown``; resumes runs left by a crash on the first tick.
        It sleeps until the timetable's earliest entry or a change (IDLE_SECONDS at most), so an idle
        engine costs nearly nothing however many campaigns wait."""
        def loop() -> None:
            while not self._shutdown.is_set():
                self._wake.clear()  # before the tick: a change during it wakes the next one at once
                try:
                    self.tick()
                except Exception:  # one bad campaign must never stop the scheduler for the others
                    log.exception("engine tick failed")
                if not self._wake.wait(self._sleep_seconds()):
                    self._runs_changed = True  # woken by time: also look for runs, a cheap safety net

        def send_executions() -> None:
            while not self._shutdown.is_set():
                self._send_executions.wait(IDLE_SECONDS)
                self._send_executions.clear()  # before the pass: a commit during it brings another at once
                try:
                    while self.execution_sender.send_open():
                        pass
                except Exception:  # a disk error: the executions stay open and are sent on the next pass
                    log.exception("sending executions failed")

        if self.senders is not None:
            self.senders.warm()
        self._sender_thread = threading.Thread(target=send_executions, name="campaigns-executions-sender", daemon=True)
        self._sender_thread.start()
        self._thread = threading.Thread(target=loop, name="campaigns-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Runs in flight journal their batch and pause; they resume at the next start."""
        self._shutdown.set()
        self.signals.request_shutdown()  # runs in child processes see it too
        self._wake.set()
        self._send_executions.set()
        if self._thread is not None:
            self._thread.join()
        if self._sender_thread is not None:
            self._sender_thread.join()
        self.execution_sender.close()
        self.executions_journal.close()
        self.ws.catalogue.remove_listener(self._campaign_changed)
        self._pool.shutdown(wait=True)  # each run's thread returns once its sender paused or was killed
        if self.senders is not None:
            self.senders.close()
        self.signals.clear_shutdown()
        self.scheduled.close()
        self.ledger.close()


def _gateway(spec: Spec) -> str:
    """Whose sending slots the run takes: its channel configuration's gateway (a workflow's first one's)."""
    if isinstance(spec, RunSpec):
        return isolation_key(spec.config)
    if isinstance(spec, WorkflowSpec) and spec.configs:
        return isolation_key(next(iter(spec.configs.values())))
    return ""


def _digest(recipients: list[Recipient], context: dict) -> str:
    """What makes two calls with one request id the same call: their recipients and context."""
    body = json.dumps([[r.model_dump(mode="json", by_alias=True) for r in recipients], context],
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
