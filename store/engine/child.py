"""Executing a run in a child process: sending is CPU work, and a console hosting the engine must stay
responsive while a million messages go out (one interpreter cannot share its lock fairly between a
tight sending loop and a user interface)."""

from __future__ import annotations

from pathlib import Path

from ..clock import SystemClock
from ..models import Run
from ..profiles.db import ProfileStore
from .ledger import Ledger
from .outbox import Outbox
from .runner import RunSpec, execute_run
from .signals import Signals


def warm_up() -> None:
    """Run once per worker at start, so the first run does not pay for imports."""


def run_in_child(data_dir: str, run_json: str, spec_json: str | None, failure: str | None) -> str:
    """Execute one run from its resolved spec (or fail it with ``failure``); returns the journaled run."""
    data = Path(data_dir)
    profiles, ledger, outbox, signals = ProfileStore(data), Ledger(data), Outbox(data), Signals(data)
    run = Run.model_validate_json(run_json)
    spec = RunSpec.model_validate_json(spec_json) if spec_json else failure
    try:
        finished = execute_run(profiles, ledger, outbox, SystemClock(), run, spec,
                               stopped=lambda: signals.halted(run.campaign_id), shutdown=signals.shutting_down)
        return finished.model_dump_json()
    finally:
        profiles.close()
        ledger.close()
