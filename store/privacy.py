"""Private by default (DESIGN.md 4): a workspace holds personal data, so only its owner's account reads it.

The process umask is tightened when a workspace opens, so whatever any module, or a child process
(which inherits the umask), creates afterwards is born 0600 (files) or 0700 (directories) without
each writer having to remember. A workspace made before that, or copied with loose modes, is
tightened when it opens and the user is told once. A data directory shared with a group (0710:
members reach the socket, never the files) keeps its mode.

Sockets that cannot live in the data directory (its path is too long for AF_UNIX) go to a private
0700 directory of the user, never to a path another account could have prepared.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

OWNER_ONLY = 0o077  # the group and other bits a private path must not have
SHARED_DATA_DIR = 0o710  # `campaigns engine --group G`: members may reach the socket, not list or read
RUNTIME_DIR_NAME = "campaigns"
SHOWN_CHANGES = 4  # a notice names this many paths, then counts the rest


def private_umask() -> None:
    """Add 0o077 to the umask, keeping any stricter bits; never a moment with a looser one."""
    previous = os.umask(OWNER_ONLY)
    os.umask(previous | OWNER_ONLY)


@dataclass(frozen=True)
class Tightened:
    """One path whose mode was tightened on open (``after`` None: we could not, it is not ours)."""

    path: Path
    before: int
    after: int | None
    owner: int

    def describe(self, data_dir: Path) -> str:
        name = "the directory" if self.path == data_dir else str(self.path.relative_to(data_dir))
        if self.after is None:
            return f"{name} {self.before:04o} (owned by uid {self.owner}, not ours: its owner must `chmod go= {self.path}`)"
        return f"{name} {self.before:04o}→{self.after:04o}"


def tighten(data_dir: Path) -> list[Tightened]:
    """Strip group and other bits from the data directory (0710 kept) and everything in it.

    Only directories and regular files change: a symlink's mode is its target's, and a socket's is
    its host's business. Nothing is ever loosened.
    """
    changes: list[Tightened] = []
    mode = stat.S_IMODE(os.lstat(data_dir).st_mode)
    if mode != SHARED_DATA_DIR:
        _strip(data_dir, changes)
    for parent, dirs, files in os.walk(data_dir):  # does not descend into symlinked directories
        for name in (*dirs, *files):
            _strip(Path(parent) / name, changes)
    return changes


def _strip(path: Path, changes: list[Tightened]) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:  # removed meanwhile (e.g. a signal file of a finishing child)
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return
    before = stat.S_IMODE(st.st_mode)
    if not before & OWNER_ONLY:
        return
    after = before & ~OWNER_ONLY
    try:
        os.chmod(path, after)
    except FileNotFoundError:
        return
    except PermissionError:  # not ours to change
        changes.append(Tightened(path, before, None, st.st_uid))
    else:
        changes.append(Tightened(path, before, after, st.st_uid))


def tightened_notice(data_dir: Path, changes: list[Tightened]) -> str | None:
    """One line for the user: what other accounts could read, what became owner-only, what is not ours to fix."""
    if not changes:
        return None
    refused = [c for c in changes if c.after is None]
    first = sorted(changes, key=lambda c: c.after is not None)  # what needs its owner's hand comes first
    shown = ", ".join(c.describe(data_dir) for c in first[:SHOWN_CHANGES])
    more = f" and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
    unfixed = f", {len(refused)} could not be" if refused else ""
    return (f"privacy: other accounts could read workspace {data_dir}; made {len(changes) - len(refused)} paths "
            f"owner-only{unfixed} ({shown}{more})")


def private_runtime_dir() -> Path:
    """A 0700 directory of ours for sockets: ``$XDG_RUNTIME_DIR/campaigns``, else ``<tmp>/campaigns-<uid>``.

    Either may have been made by another account (or be a symlink, or a file): then it is not used,
    and a fresh directory with an unguessable name is made instead (``tempfile.mkdtemp``, 0700). The
    lock's ``endpoint`` records the socket's path, so clients find it wherever it is.
    """
    for candidate in _runtime_candidates():
        if _usable(candidate):
            return candidate
    return Path(tempfile.mkdtemp(prefix=one_off_prefix()))


def one_off_prefix() -> str:
    """The name start of the unguessable directories ``private_runtime_dir`` falls back to."""
    return f"campaigns-{os.getuid()}-"


def _runtime_candidates() -> list[Path]:
    candidates = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and _owned_directory(Path(runtime)):
        candidates.append(Path(runtime) / RUNTIME_DIR_NAME)
    candidates.append(Path(tempfile.gettempdir()) / f"campaigns-{os.getuid()}")
    return candidates


def _usable(path: Path) -> bool:
    """Ours, a real directory, and 0700 (made so, or tightened); anything else is refused."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    if not _owned_directory(path):
        return False
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    if mode & OWNER_ONLY:
        try:
            os.chmod(path, mode & ~OWNER_ONLY)
        except OSError:
            return False
    return True


def _owned_directory(path: Path) -> bool:
    """A directory (not a symlink to one) owned by this process's account."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
