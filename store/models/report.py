"""What the engine tells about one campaign: its report (runs and totals) and an activation preview."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Model, Status
from .run import Run, RunCounters


class Report(Model):
    campaign_id: str
    name: str
    status: Status
    status_reason: str | None = None
    totals: RunCounters
    failures: dict[str, int] = Field(default_factory=dict, description="failed deliveries by reason, e.g. provider_unavailable")
    runs: list[Run]
    next_runs: list[datetime]


class ActivationPreview(Model):
    """What a person confirms before activating: who, how many, who would be left out and when."""

    version: int
    audience: str | None
    audience_size: int
    expected_exclusions: dict[str, int]
    expected_sends: int
    schedule: str
    next_runs: list[datetime]
    needs_approval: str | None = Field(None, description="the policies (comma-separated) whose approval it needs")
    approval_state: str | None = None
    problems: list[dict[str, str]] = Field(description="field and message of each problem activation would refuse")
    rate: int | None = Field(None, description="messages a second the version's rate control allows (None: unthrottled)")
    expected_seconds: float | None = Field(None, description="how long a run takes at that rate")
    beyond_time_limit: int = Field(0, description="expected sends a run would not reach in its 12-hour limit "
                                               "(excluded as throttle_timeout)")
