"""Stop and shutdown requests that reach a run wherever it executes: a thread of the engine or a
child process (the console hosts sending in child processes so that CPU-bound runs never hold
the interface's interpreter). They are files in the data directory: cheap to test, seen by every
process, and a stop survives a restart.
"""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY = "signals"


class Signals:
    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / DIRECTORY
        self.directory.mkdir(parents=True, exist_ok=True)
        self._shutdown = str(self.directory / "shutdown")

    def _stop_file(self, campaign_id: str) -> str:
        return str(self.directory / f"halt-{campaign_id}")

    def halt(self, campaign_id: str) -> None:
        """The campaign was stopped or archived: its runs in flight halt before their next message."""
        Path(self._stop_file(campaign_id)).touch()

    def resume(self, campaign_id: str) -> None:
        """A newly activated version of the campaign may send again."""
        try:
            os.unlink(self._stop_file(campaign_id))
        except FileNotFoundError:
            pass

    def halted(self, campaign_id: str) -> bool:
        return os.path.exists(self._stop_file(campaign_id))

    def request_shutdown(self) -> None:
        Path(self._shutdown).touch()

    def clear_shutdown(self) -> None:
        try:
            os.unlink(self._shutdown)
        except FileNotFoundError:
            pass

    def shutting_down(self) -> bool:
        return os.path.exists(self._shutdown)
