"""A workspace: one data directory holding the campaign store, the profiles and the lock.

Opening one takes the directory's lock for the whole life of the process that runs its
engine, so two engines never write the same store, and makes the directory private
(store/privacy.py): it holds personal data.
"""

from __future__ import annotations

import gc
import getpass
from pathlib import Path

from .administration import Administration
from .clock import Clock, SystemClock
from .db.catalogue import Catalogue
from .db.lock import WorkspaceLock
from .lifecycle import Lifecycle
from .models import Role, User
from .privacy import private_umask, tighten, tightened_notice
from .profiles.db import ProfileStore


def default_user() -> str:
    return getpass.getuser()


class Workspace:
    def __init__(self, data_dir: Path, *, clock: Clock | None = None, founder: str | None = None) -> None:
        private_umask()  # before anything is created: every file and directory from here on is born private
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self.lock = WorkspaceLock(self.data_dir)
        self.lock.acquire()
        try:
            # Only the lock holder tightens: a process that finds the workspace hosted leaves it to the host.
            self.tightened = tighten(self.data_dir)
            self.catalogue = Catalogue(self.data_dir)
            self.profiles = ProfileStore(self.data_dir)
        except BaseException:
            self.lock.release()
            raise
        # The loaded catalogue lives as long as the process: keep the cyclic GC from re-scanning its
        # millions of objects on every collection (it tripled list latency at 10,000 campaigns).
        gc.freeze()
        self.lifecycle = Lifecycle(self.catalogue, self.clock)
        self.administration = Administration(self.catalogue, self.clock)
        self._ensure_an_admin(founder or default_user())

    def _ensure_an_admin(self, founder: str) -> None:
        """A new workspace belongs to whoever created it: that OS user becomes its first admin."""
        with self.catalogue.atomic():
            if not self.catalogue.users.all():
                self.catalogue.users.put(User(name=founder, role=Role.admin, display_name=founder))

    @property
    def notices(self) -> list[str]:
        """What opening the workspace did that its user should hear about, once (modes tightened)."""
        notice = tightened_notice(self.data_dir, self.tightened)
        return [notice] if notice else []

    def is_empty(self) -> bool:
        """Nothing but the founding admin: no campaigns, configurations, audiences or profiles."""
        c = self.catalogue
        return (not c.campaign_documents() and not c.channel_configurations.all() and not c.audiences.all()
                and len(c.users.all()) <= 1 and self.profiles.count() == 0)

    def close(self) -> None:
        try:
            self.profiles.close()
            self.catalogue.close()
        finally:
            self.lock.release()
