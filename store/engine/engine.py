"""The engine: completes activations, fires schedules, executes runs, completes campaigns.

It runs inside the process that holds the workspace lock. ``tick`` does one pass of scheduling
work at the clock's ``now``: tests move a FrozenClock and call ``run_until_idle``; a real process
calls ``start`` and a scheduler thread ticks every few tens of milliseconds while runs execute in
sending processes (senders.py), each watched by a thread of the engine. Each gateway gets its own
slots, so a hung SMTP server holds only the runs sent through it; a run is dispatched only when no
live process still owns it (fence.py), so a sender left behind by a killed host is never doubled.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock
from ..errors import CampaignsError, InvalidTransition, ValidationFailed
from ..lifecycle import Lifecycle
from ..roles import Action, require
from ..models import Campaign, CampaignType, Channel, Run, RunStatus, RunTrigger, Status, User
from ..workspace import Workspace
from .activation import check_activation
from .ledger import ACTIVE, Ledger
from .occurrences import completion_time, due, first_fire, next_occurrences
from .outbox import Outbox
from .fence import Fences
from .providers.registry import isolation_key
from .runner import RunBusy, RunFailed, RunSpec, execute_run, resolve_run
from .senders import Senders, SenderLost
from .signals import Signals

log = logging.getLogger("campaigns.engine")
TICK_SECONDS = 0.05
MAX_SENDERS = 8  # runs sending at once
SLOTS_PER_GATEWAY = 2  # of which through any one gateway: a hung one holds only these
MAX_LOST = 3  # a run whose sender dies this many times in a row without progress fails, with the reason
TIMINGS_PER_TICK = 200  # campaigns whose schedule is (re)computed per tick; thousands at start-up take a few ticks
SCHEDULED_TYPES = (CampaignType.action, CampaignType.orchestrated)


@dataclass
class _Timing:
    """A campaign's next fire and completion, recomputed only when the campaign changes."""

    key: tuple
    campaign: Campaign
    next_fire: datetime | None
    completes_at: datetime | None


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
        self._timings: dict[str, _Timing] = {}
        self._running: dict[str, Future] = {}
        self._gateways: Counter[str] = Counter()  # busy slots per gateway
        self._waiting: dict[str, RunSpec | str] = {}  # runs resolved but waiting for a slot of their gateway
        self._lost: dict[str, tuple[int, tuple]] = {}  # run → senders lost in a row, and its progress then
        self.senders = Senders(ws.data_dir) if processes else None
        self._shutdown = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=MAX_SENDERS, thread_name_prefix="campaigns-run")
        self._thread: threading.Thread | None = None

    # what the API calls -----------------------------------------------------------------
    def activate(self, actor: User, campaign_id: str) -> Campaign:
        """Check everything, then Activating → Scheduled or Live at once; every problem is reported together."""
        now = self.clock.now()
        self.lifecycle.activate_campaign(
            actor, campaign_id, validate=lambda c, v: check_activation(self.ws, c, v, now))
        campaign = self._complete_activation(campaign_id, checked=True)
        self._wake.set()
        return campaign

    def trigger(self, actor: User, campaign_id: str, profiles: list[str] | None, context: dict) -> Run:
        """One call of an API-triggered campaign: a run for the named profiles (or its audience), with
        ``context`` for ``{{context.*}}`` in the content. The run starts at once."""
        require(actor, Action.trigger)
        campaign = self.ws.catalogue.campaign(campaign_id)
        if campaign.type is not CampaignType.api:
            raise InvalidTransition(f"{campaign.id} is an {campaign.type.value} campaign; only API campaigns are triggered")
        if campaign.status is not Status.live:
            raise InvalidTransition(f"{campaign.id} is {campaign.status.value}; activate it before triggering it")
        if profiles is None and campaign.live.audience is None:
            raise ValidationFailed("name the profiles to send to: the campaign has no audience of its own",
                                   [{"field": "profiles", "message": "required when the campaign has no audience"}])
        run = self.ledger.create_run(campaign.id, campaign.live.number,
                                     RunTrigger.api, now=self.clock.now(), context=context, recipients=profiles)
        self._wake.set()
        return run

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
        """One pass: leftover activations, due occurrences, completions, then hand runs to workers."""
        now = self.clock.now()
        budget = TIMINGS_PER_TICK
        for item in self.ws.catalogue.campaign_rows():
            row = item.row
            status = row["status"]
            try:
                if status == Status.activating.value:
                    self._complete_activation(row["id"])
                elif status in (Status.scheduled.value, Status.live.value):
                    cached = self._timings.get(row["id"])
                    if cached is None or cached.key != (row["status"], row["updated_at"]):
                        if budget == 0:
                            continue  # worked out on a later tick: never hold the interpreter for long
                        budget -= 1
                    self._fire_and_complete(row, now)
                elif row["id"] in self._timings:
                    self.signals.halt(row["id"])
                    self._timings.pop(row["id"], None)
            except CampaignsError:
                continue  # changed under us (stopped, archived) between the list and the transition
        self._dispatch()

    def _complete_activation(self, campaign_id: str, *, checked: bool = False) -> Campaign:
        """Activating → Scheduled or Live, once: the API thread and the scheduler thread may both try.

        ``checked``: the caller has just run the activation checks (counting a million-profile audience
        twice would double the wait); a campaign left Activating by a crash is checked again here."""
        with self._lock:
            campaign = self.ws.catalogue.campaign(campaign_id)
            if campaign.status is not Status.activating:
                return campaign
            version = campaign.draft or campaign.live
            now = self.clock.now()
            try:
                if not checked:
                    check_activation(self.ws, campaign, version, now)
                activated_at = version.activated_at or now
                # Scheduled waits for a start date (DESIGN 2); without one a campaign is Live from its
                # activation, a recurring one too while it waits for its first occurrence.
                first = first_fire(version.schedule, activated_at=activated_at)  # refuses one that never fires
                scheduled = version.schedule.start is not None and first > now
            except CampaignsError as error:
                return self.lifecycle.engine_activation_failed(campaign_id, error.detail)
            self.signals.resume(campaign_id)
            return self.lifecycle.engine_activated(campaign_id, scheduled=scheduled)

    def _timing(self, row: dict) -> _Timing:
        key = (row["status"], row["updated_at"])
        timing = self._timings.get(row["id"])
        if timing is None or timing.key != key:
            campaign = self.ws.catalogue.campaign(row["id"])
            version = campaign.live
            activated_at = version.activated_at or campaign.updated_at
            next_fire = completes = None
            if campaign.type in SCHEDULED_TYPES:
                last = self.ledger.last_occurrence(campaign.id)
                upcoming = next_occurrences(version.schedule, activated_at=activated_at, after=last, count=1) \
                    if last else [first_fire(version.schedule, activated_at=activated_at)]
                next_fire = upcoming[0] if upcoming else None
                completes = completion_time(version.schedule, activated_at=activated_at)
            timing = self._timings[row["id"]] = _Timing(key, campaign, next_fire, completes)
        return timing

    def _fire_and_complete(self, row: dict, now: datetime) -> None:
        timing = self._timing(row)
        campaign = timing.campaign
        if timing.next_fire is not None and timing.next_fire <= now:
            version = campaign.live
            activated_at = version.activated_at or campaign.updated_at
            last = self.ledger.last_occurrence(campaign.id)
            plan = due(version.schedule, activated_at=activated_at, last_fired=last, now=now)
            for missed in plan.missed:
                self.ledger.create_run(campaign.id, version.number, RunTrigger.schedule, now=now, occurrence=missed,
                                       status=RunStatus.missed, error="missed while the engine was not running")
            if plan.fire is not None:
                trigger = RunTrigger.activation if last is None and version.schedule.recurrence is None else RunTrigger.schedule
                self.ledger.create_run(campaign.id, version.number, trigger, now=now, occurrence=plan.fire)
                if campaign.status is Status.scheduled:
                    self.lifecycle.engine_went_live(campaign.id)
            self._timings.pop(campaign.id, None)
            return
        if (campaign.status is Status.live and timing.completes_at is not None and now >= timing.completes_at
                and not self._has_active_runs(campaign.id)
                and (timing.next_fire is None or timing.next_fire > timing.completes_at)):
            reason = ("one-shot campaign completed 3 days after it was sent" if campaign.live.schedule.recurrence is None
                      else "recurring campaign reached its end date")
            self.lifecycle.engine_completed(campaign.id, reason)
            self._timings.pop(campaign.id, None)

    def _has_active_runs(self, campaign_id: str) -> bool:
        return any(r.campaign_id == campaign_id for r in self.ledger.active_runs())

    # executing runs ----------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Hand each active run to a thread, when its gateway has a free slot and no live process owns it."""
        with self._lock:
            for run in self.ledger.active_runs():
                if run.id in self._running or self._shutdown.is_set() or len(self._running) >= MAX_SENDERS:
                    continue
                if run.id not in self._waiting:  # worked out once, not on every tick while the run waits
                    self._waiting[run.id] = self._resolve(run)
                spec = self._waiting[run.id]
                gateway = isolation_key(spec.config) if isinstance(spec, RunSpec) else ""
                if self._gateways[gateway] >= SLOTS_PER_GATEWAY or self.fences.owner(run.id) is not None:
                    continue
                del self._waiting[run.id]
                self._gateways[gateway] += 1
                self._running[run.id] = self._pool.submit(self._execute, run, spec, gateway)

    def _resolve(self, run: Run) -> RunSpec | str:
        try:
            return resolve_run(self.ws, run, self.ledger.recipients(run.id))
        except (RunFailed, CampaignsError) as error:
            return str(error)

    def _execute(self, run: Run, spec: RunSpec | str, gateway: str) -> Run | None:
        """Execute (or resume) the run; None when it must be resumed later (its sender was lost, or another
        live process owns it)."""
        try:
            finished = self._in_sender(run, spec) if self.senders is not None else self._here(run, spec)
            if finished is not None:
                self._lost.pop(run.id, None)
                self._after_run(finished)
            return finished
        finally:
            with self._lock:
                self._running.pop(run.id, None)
                self._gateways[gateway] -= 1
            self._wake.set()

    def _in_sender(self, run: Run, spec: RunSpec | str) -> Run | None:
        job = (run.model_dump_json(), spec.model_dump_json() if isinstance(spec, RunSpec) else None,
               spec if isinstance(spec, str) else None)
        halted = lambda: self.signals.halted(run.campaign_id)  # noqa: E731
        try:
            answer = self.senders.execute(job, halted=halted, shutting_down=self._shutdown.is_set)
        except SenderLost as lost:
            if halted():
                return self._here(run, spec)  # killed hung in a send after a stop: the run is closed here, at once
            self._sender_lost(run, str(lost))
            return None
        return None if answer is None else Run.model_validate_json(answer)

    def _here(self, run: Run, spec: RunSpec | str) -> Run | None:
        """In this process: the engine's threads (tests, the demo), or closing a stopped run."""
        try:
            return execute_run(self.ws.profiles, self.ledger, self.outbox, self.fences, self.clock, run, spec,
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
                                error=f"its sending process died {count} times in a row without progress ({why})")
            self._after_run(self.ledger.run(run.id))

    def _after_run(self, run: Run) -> None:
        """A run whose every send failed, or that could not start, fails its campaign (with the reason)."""
        if run.status is not RunStatus.failed:
            return
        campaign = self.ws.catalogue.campaign(run.campaign_id)
        recurring = campaign.live is not None and campaign.live.schedule.recurrence is not None
        if campaign.status in (Status.live, Status.scheduled) and not (recurring and "is empty" in (run.error or "")):
            try:
                self.lifecycle.engine_failed(campaign.id, f"run {run.id}: {run.error}")
            except InvalidTransition:
                pass

    def run_until_idle(self) -> None:
        """Tick and execute every due run in this thread until nothing is left: for tests and the CLI."""
        while True:
            self.tick()
            with self._lock:
                futures = list(self._running.values())
            if not futures:
                return
            for future in futures:
                future.result()

    def wait_for_runs(self, campaign_id: str) -> None:
        with self._lock:
            futures = [f for run_id, f in self._running.items() if run_id.startswith(f"{campaign_id}-r")]
        for future in futures:
            future.result()

    # background operation ----------------------------------------------------------------
    def start(self) -> None:
        """Tick in a background thread until ``shutdown``; resumes runs left by a crash on the first tick."""
        def loop() -> None:
            while not self._shutdown.is_set():
                try:
                    self.tick()
                except Exception:  # one bad campaign must never stop the scheduler for the others
                    log.exception("engine tick failed")
                self._wake.wait(TICK_SECONDS)
                self._wake.clear()

        if self.senders is not None:
            self.senders.warm()
        self._thread = threading.Thread(target=loop, name="campaigns-scheduler", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Runs in flight journal their batch and pause; they resume at the next start."""
        self._shutdown.set()
        self.signals.request_shutdown()  # runs in child processes see it too
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=True)  # each run's thread returns once its sender paused or was killed
        if self.senders is not None:
            self.senders.close()
        self.signals.clear_shutdown()
        self.ledger.close()
