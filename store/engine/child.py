"""The sending process: runs are executed in child processes of their host.

Sending is CPU work, and a console hosting the engine must stay responsive while a million messages go
out (one interpreter cannot share its lock fairly between a tight sending loop and a user interface).
A sending process never outlives its host: the very first thing it does, before any heavy import, is
ask the kernel to kill it when the host dies (``PR_SET_PDEATHSIG``), then check that the host is still
its parent, since the host may have died before the request was made. Ctrl-C reaches the whole process
group; only the host decides what it means (it asks runs to pause through the shutdown signal), so a
sender ignores SIGINT. It talks to its host over one socket, so the host sees its death as the end of it.

Started as ``python -c "from store.engine.child import main; main()" FD HOST_PID DATA_DIR``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_host(host_pid: int) -> None:
    """Linux: SIGKILL this process when the thread that spawned it (the host's spawner) dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != host_pid:
        os._exit(0)  # the host died before we could ask: nobody would read our result


def main() -> None:
    """A sending slot's process: execute the runs the host sends, one at a time, until told to end."""
    fd, host_pid, data_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    die_with_host(host_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from multiprocessing.connection import Connection

    from .workflow_runner import execute_in_process  # before the first job: a due run starts without paying for imports

    connection = Connection(fd)
    data = Path(data_dir)
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        connection.send(execute_in_process(data, *job))
