"""One engine for several OS accounts on one host (`campaigns engine --group GROUP`).

The data directory becomes 0710 with the group: members may reach ``DATA/engine.sock`` (0660, same group)
but never list or read the files, which stay 0600. The kernel then names each connecting account
(store/peer.py). Another account's `campaigns` finds the socket by its fixed path, since the lock file that
records it is private; when it cannot get there it is told, in one line, what to ask for.
"""

from __future__ import annotations

import functools
import grp
import os
import pwd
import socket
import stat
from pathlib import Path

from .errors import Conflict, Unreachable, ValidationFailed
from .privacy import SHARED_DATA_DIR

SOCKET_NAME = "engine.sock"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes
SHARED_SOCKET = 0o660


def group_id(name: str) -> int:
    """The group to serve to, which this account must belong to (it becomes the directory's group)."""
    try:
        group = grp.getgrnam(name)
    except KeyError:
        raise ValidationFailed(f"no group {name!r} on this host; create it (`groupadd {name}`) "
                               "and add the operators to it (`usermod -aG GROUP NAME`)") from None
    me = pwd.getpwuid(os.geteuid())
    if os.geteuid() != 0 and group.gr_gid != me.pw_gid and me.pw_name not in group.gr_mem:
        raise ValidationFailed(f"you ({me.pw_name}) are not a member of group {name}: "
                               f"only a member can serve a workspace to it (`usermod -aG {name} {me.pw_name}`)")
    return group.gr_gid


def shared_socket_path(data_dir: Path) -> Path:
    """``DATA/engine.sock``: members must find it there, so a path too long for a socket is refused."""
    path = Path(data_dir) / SOCKET_NAME
    if len(str(path)) > MAX_SOCKET_PATH:
        raise ValidationFailed(f"{path} is too long for a Unix socket ({len(str(path))} characters, at most "
                               f"{MAX_SOCKET_PATH}); move the workspace to a shorter path to serve it to a group")
    return path


def open_directory_to(data_dir: Path, gid: int) -> None:
    """Members may traverse the data directory (to the socket), not list it."""
    os.chown(data_dir, -1, gid)
    os.chmod(data_dir, SHARED_DATA_DIR)


def open_socket_to(path: Path, gid: int) -> None:
    """Called on a socket bound 0600: its group is set before members are let in."""
    os.chown(path, -1, gid)
    os.chmod(path, SHARED_SOCKET)


def owned_by_another(data_dir: Path) -> bool:
    try:
        return os.stat(data_dir).st_uid != os.geteuid()
    except FileNotFoundError:
        return False


def reach(data_dir: Path) -> Path:
    """The socket of another account's workspace, or one line on how to get there."""
    st = os.stat(data_dir)
    owner = account_name(st.st_uid)
    path = Path(data_dir) / SOCKET_NAME
    group = _group(st.st_gid)
    served = stat.S_IMODE(st.st_mode) & 0o010
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(5)
            probe.connect(str(path))
        return path
    except PermissionError:
        if served and st.st_gid in os.getgroups():
            raise Unreachable(f"workspace {data_dir} is running an engine that is not served to group {group}; ask "
                              f"{owner} to restart it with `campaigns engine --data {data_dir} --group {group}`") from None
        if not served:
            raise Unreachable(f"workspace {data_dir} belongs to OS account {owner} and is not shared; ask {owner} to "
                              "serve it to your group (`campaigns engine --group GROUP`) or over the network "
                              "(`campaigns serve`), then use `campaigns --connect URL`") from None
        raise Unreachable(f"workspace {data_dir} is served to group {group}, which you are not in; ask an admin to add "
                          f"you (`usermod -aG {group} {account_name(os.geteuid())}`, then log in again), "
                          "or connect over the network with `campaigns --connect URL`") from None
    except (FileNotFoundError, ConnectionRefusedError):
        raise Unreachable(f"workspace {data_dir} belongs to OS account {owner} and no engine is serving it now; "
                          f"ask {owner} to start one (`campaigns engine --data {data_dir} --group {group}`)") from None
    except OSError as error:
        raise Conflict(f"cannot reach the engine of workspace {data_dir}: {error.strerror or error}") from None


@functools.lru_cache(maxsize=256)
def account_name(uid: int) -> str:
    """The login name of ``uid`` (each request asks, so the passwd lookup is remembered for the process)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"
