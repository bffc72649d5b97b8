"""Executing one run of an orchestrated campaign: its version's workflow, activity by activity.

Set activities (audiences, combine, split…) are computed in the profile store by ``Populations``; each
channel activity is a child run ``"{run}.{activity}"`` delivered by the runner's own code (claimed batches,
rate control, exclusions, its own 12-hour limit) over its inbound transition's population. The ledger records
each activity once it is done, so a resume after a kill starts at the activity it was in: an activity whose
population was computed but not recorded is computed again (``evaluate`` is idempotent), a channel activity's
child run resumes like any run, so no profile gets a message twice. A Wait activity holds its branch until
its time on the injected clock; when nothing else can go on, the run returns still running with a wake time,
holding no sender slot (waits may last days).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..clock import Clock, SystemClock
from ..models import Category, ChannelConfiguration, Run, RunFailure, RunStatus, Version
from ..models.audience import Rule
from ..models.common import Model
from ..models.workflow import CHANNELS, ActivityKind, ActivityState, ChannelActivity, Wait, Workflow
from ..profiles.db import ProfileStore
from ..profiles.workflow_sql import Populations
from ..workspace import Workspace
from .fence import Fences
from .ledger import ACTIVE, ActivityRecord, Ledger
from .outbox import Outbox
from .runner import RunBusy, RunFailed, RunSpec, deliver_run, execute_run, fenced, plan_delivery, version_of
from .signals import Signals

SAMPLES = 5  # profile ids kept per transition, for a preview
DONE, WAITING, RUNNING = ActivityState.done.value, ActivityState.waiting.value, ActivityState.running.value


class WorkflowSpec(Model):
    """What a workflow run needs from the catalogue, resolved by the process that holds it (like ``RunSpec``)."""

    campaign_id: str
    category: Category
    version: Version
    audiences: dict[str, Rule]
    configs: dict[str, ChannelConfiguration]

    @property
    def workflow(self) -> Workflow:
        assert self.version.workflow is not None  # resolve_workflow refuses a version without one
        return self.version.workflow


Spec = RunSpec | WorkflowSpec | RunFailed
"""A run as resolved by its host: an action campaign's, an orchestrated campaign's, or why it cannot run."""


def resolve_workflow(ws: Workspace, run: Run) -> WorkflowSpec:
    """The run's version with the audiences and channel configurations its activities name; says clearly
    which activity names one that no longer exists."""
    campaign = ws.catalogue.campaign(run.campaign_id)
    version = version_of(campaign, run.version)
    if version.workflow is None:
        raise RunFailed(RunFailure.version_missing, f"version {run.version} of {campaign.id} has no workflow")
    audiences: dict[str, Rule] = {}
    configs: dict[str, ChannelConfiguration] = {}
    for activity in version.workflow.activities:
        name = getattr(activity, "audience", None)
        if name is not None and name not in audiences:
            audience = ws.catalogue.audiences.find(name)
            if audience is None:
                raise RunFailed(RunFailure.audience_missing,
                                f"activity {activity.id}: audience {name!r} no longer exists")
            audiences[name] = audience.rule
        if ActivityKind(activity.kind) in CHANNELS:
            slug = activity.channel_configuration or ""  # type: ignore[union-attr]
            config = ws.catalogue.channel_configurations.find(slug)
            if config is None:
                raise RunFailed(RunFailure.channel_configuration_missing,
                                f"activity {activity.id}: channel configuration {slug!r} was deleted; an admin must "
                                "recreate it, then activate the campaign again")
            configs[slug] = config
    return WorkflowSpec(campaign_id=campaign.id, category=campaign.category, version=version, audiences=audiences,
                        configs=configs)


def execute(profiles: ProfileStore, ledger: Ledger, outbox: Outbox, fences: Fences, clock: Clock, run: Run,
            spec: Spec, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> Run:
    """Execute (or resume) a run of any campaign: an orchestrated one's workflow, another's audience (or close
    a run that could not be resolved)."""
    if isinstance(spec, WorkflowSpec):
        return execute_workflow(profiles, ledger, outbox, fences, clock, run, spec, stopped, shutdown)
    return execute_run(profiles, ledger, outbox, fences, clock, run, spec, stopped, shutdown)


def execute_in_process(data: Path, run_json: str, spec_json: str | None, failure: RunFailed | None,
                       workflow: bool = False) -> str | None:
    """A sending process's job: execute one run (resolved by the host, which holds the catalogue);
    the journaled run as JSON, or None when another live process owns the run."""
    profiles, ledger, outbox, signals = ProfileStore(data), Ledger(data), Outbox(data), Signals(data)
    run = Run.model_validate_json(run_json)
    spec_type = WorkflowSpec if workflow else RunSpec
    spec = spec_type.model_validate_json(spec_json) if spec_json else failure
    assert spec is not None  # the host gives one or the other
    try:
        return execute(profiles, ledger, outbox, Fences(data), SystemClock(), run, spec,
                       stopped=lambda: signals.halted(run.campaign_id),
                       shutdown=signals.shutting_down).model_dump_json()
    except RunBusy:
        return None
    finally:
        profiles.close()
        ledger.close()


def execute_workflow(profiles: ProfileStore, ledger: Ledger, outbox: Outbox, fences: Fences, clock: Clock, run: Run,
                     spec: WorkflowSpec, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> Run:
    """Run (or resume) a workflow run until it ends, stops, waits or shuts down; returns it as journaled.
    Fenced like ``execute_run``: RunBusy when a live process already holds it."""
    return fenced(fences, ledger, run,
                  lambda held: _Walk(profiles, ledger, outbox, clock, held, spec, stopped, shutdown).go())


class _Walk:
    """One pass over a workflow run: every activity whose inputs are done, until none can go on."""

    def __init__(self, profiles: ProfileStore, ledger: Ledger, outbox: Outbox, clock: Clock, run: Run,
                 spec: WorkflowSpec, stopped: Callable[[], bool], shutdown: Callable[[], bool]) -> None:
        self.profiles, self.ledger, self.outbox, self.clock, self.run = profiles, ledger, outbox, clock, run
        self.spec, self.stopped, self.shutdown = spec, stopped, shutdown
        self.workflow = spec.workflow

    def go(self) -> Run:
        run = self.run
        if run.status is RunStatus.pending:
            self.ledger.start_run(run.id, now=self.clock.now(), targeted=0, last_id=None)
            run = self.run = self.ledger.run(run.id)
        self.ledger.set_wake(run.id, None)
        populations = Populations(self.profiles, run.id)
        failure = None
        try:
            try:
                outcome = self._walk(populations)
            except RunFailed as error:
                outcome, failure = "failed", error
            if outcome in ("done", "stopped", "failed"):  # it ended: its counts stay in the ledger, not its rows
                populations.drop()
        finally:
            populations.close()
        if outcome == "shutdown":
            return self.ledger.run(run.id)
        if outcome == "waiting":
            self.ledger.set_wake(run.id, min(r.wait_until for r in self.ledger.activities(run.id).values()
                                             if r.state == WAITING and r.wait_until is not None))
            return self.ledger.run(run.id)
        status = {"done": RunStatus.completed, "stopped": RunStatus.stopped}.get(outcome, RunStatus.failed)
        self.ledger.end_run(run.id, status, now=self.clock.now(),  # its counters: its activities', rolled up
                            error=failure.message if failure else None, failure=failure.reason if failure else None)
        return self.ledger.run(run.id)

    def _walk(self, populations: Populations) -> str:
        """"done", "waiting", "stopped" or "shutdown"; raises RunFailed naming the activity that failed."""
        if self.stopped():  # a run waiting on a Wait activity is woken to be stopped
            return "stopped"
        records = self.ledger.activities(self.run.id)
        order = self.workflow.order()
        while True:
            moved = False
            for activity in order:
                record = records.get(activity.id)
                if record is not None and record.state == DONE:
                    continue
                if any(records.get(t.source) is None or records[t.source].state != DONE
                       for t in self.workflow.inbound(activity.id)):
                    continue
                if self.stopped():
                    return "stopped"
                if self.shutdown():
                    return "shutdown"
                if isinstance(activity, Wait) and not self._waited(activity, record):
                    continue
                kind = ActivityKind(activity.kind)
                if kind in CHANNELS:
                    outcome = self._deliver(activity, populations)  # type: ignore[arg-type]
                    if outcome is not None:
                        return outcome
                try:
                    result = populations.evaluate(self.workflow, activity, seed=f"{self.spec.campaign_id}:{activity.id}",
                                                  audiences=self.spec.audiences)
                except Exception as error:  # a CSV or rule the store cannot read: the run says which activity
                    self.ledger.record_activity(self.run.id, ActivityRecord(
                        activity.id, ActivityState.failed.value, error=str(error)))
                    raise RunFailed(RunFailure.workflow_activity_failed, f"activity {activity.id}: {error}") from None
                records[activity.id] = ActivityRecord(
                    activity.id, DONE, result.inbound, dict(result.outbound), result.unrouted,
                    record.wait_until if record else None,
                    {name: populations.sample(name, SAMPLES) for name in result.outbound})
                self.ledger.record_activity(self.run.id, records[activity.id])
                moved = True
            if not moved:
                break
        if all(records.get(a.id) is not None and records[a.id].state == DONE for a in order):
            return "done"
        return "waiting"

    def _waited(self, activity: Wait, record: ActivityRecord | None) -> bool:
        """Whether the wait is over; the first time, its end is journaled (so a resume keeps it)."""
        if record is None or record.wait_until is None:
            record = ActivityRecord(activity.id, WAITING, wait_until=activity.ends_at(self.clock.now()))
            self.ledger.record_activity(self.run.id, record)
        assert record.wait_until is not None
        return self.clock.now() >= record.wait_until

    def _deliver(self, activity: ChannelActivity, populations: Populations) -> str | None:
        """The channel activity's child run, to its end (None) or to a stop, a shutdown, a failure."""
        self.ledger.record_activity(self.run.id, ActivityRecord(activity.id, RUNNING))
        child = self.ledger.child_run(self.run, activity.id, now=self.clock.now())
        if child.status.value in ACTIVE:
            inbound = self.workflow.inbound(activity.id)[0].name
            plan = plan_delivery(child.id, self.spec.campaign_id, self.spec.category, activity.channel,
                                 activity.message_content(), activity.rate_control,
                                 self.spec.configs[activity.channel_configuration or ""],
                                 self.ledger.context(self.run.id), _PopulationRows(populations, inbound))
            child = deliver_run(self.ledger, self.outbox, self.clock, child, plan, self.stopped, self.shutdown,
                                empty_fails=False)
        if child.status.value in ACTIVE:
            return "shutdown"
        if child.status is RunStatus.stopped:
            self.ledger.record_activity(self.run.id, ActivityRecord(activity.id, ActivityState.stopped.value))
            return "stopped"
        if child.status is RunStatus.failed:
            self.ledger.record_activity(self.run.id, ActivityRecord(activity.id, ActivityState.failed.value,
                                                                    error=child.error))
            raise RunFailed(child.failure or RunFailure.every_send_failed, f"activity {activity.id}: {child.error}")
        return None


class _PopulationRows:
    """A transition's population as a channel activity's rows (``runner.RowSource``)."""

    def __init__(self, populations: Populations, transition: str) -> None:
        self.populations, self.transition = populations, transition
        self.name = f"transition {transition!r}"

    def bounds(self) -> tuple[int, str | None]:
        return self.populations.bounds(self.transition)

    def rows(self, **page):
        return self.populations.rows(self.transition, **page)
