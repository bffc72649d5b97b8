"""Sending processes of a host: one process per sending slot, each watched through its connection.

A process pool is broken for good once one of its workers is killed; here each slot is its own process
(child.py), so a sender that dies (the OOM killer, a kill by hand) costs only the batch it was in,
which its run resumes in a new process: its end of the socket closes with it, which the host sees at
once. Processes are spawned from one long-lived thread, because the kernel's parent-death signal
(child.py) follows the thread that spawned the child, not the process. A slot whose run was stopped, or whose host is shutting down, is given a short grace to
end on its own; a sender hung in a send past it is killed, which the run's journal makes safe.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

STOP_GRACE = 0.5  # a sender still busy this long after a Stop is killed: the Stop takes effect within 1 s
SHUTDOWN_GRACE = 5.0  # a shutdown waits this long for a batch to be journaled, then kills the sender
WATCH = 0.2  # how often a host looks at its sender's stop and shutdown while it waits
SPARE = 1  # warm idle processes, so a due run starts without waiting for an interpreter to start

COMMAND = "from store.engine.child import main; main()"


class SenderLost(Exception):
    """The sending process ended without an answer: the run stays journaled and resumes elsewhere."""


@dataclass
class _Sender:
    process: subprocess.Popen
    connection: Connection

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()  # dead for sure: its run's lock is released only then
        self.connection.close()


class Senders:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = str(data_dir)
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="campaigns-spawner")
        self._idle: list[_Sender] = []
        self._lock = threading.Lock()
        self._closed = False

    def warm(self) -> None:
        """Start the spare processes now, not when the first run is due."""
        for _ in range(SPARE):
            self._spawner.submit(self._add_spare)

    def execute(self, job: tuple, *, halted: Callable[[], bool], shutting_down: Callable[[], bool]) -> str | None:
        """Send ``job`` to a sending process and return its answer (``execute_in_process``'s: the run as JSON,
        or None). Raises SenderLost when the process died
        or was killed because it outlived a stop or a shutdown by its grace."""
        sender = self._take()
        try:
            sender.connection.send(job)
        except OSError:
            sender.kill()
            raise SenderLost("the sending process was gone before it got the run") from None
        waiting_since: float | None = None
        while True:
            if wait([sender.connection], timeout=WATCH):
                try:
                    answer = sender.connection.recv()
                except (EOFError, OSError):
                    sender.kill()
                    raise SenderLost(f"the sending process {sender.process.pid} died "
                                     f"(exit code {sender.process.returncode})") from None
                self._give_back(sender)
                return answer
            if halted() or shutting_down():
                waiting_since = waiting_since or time.monotonic()
                grace = SHUTDOWN_GRACE if shutting_down() else STOP_GRACE
                if time.monotonic() - waiting_since >= grace:
                    sender.kill()
                    raise SenderLost(f"the sending process {sender.process.pid} was killed: "
                                     f"it did not pause within {grace:g} s of a stop or shutdown")

    def close(self) -> None:
        """Idle senders end; busy ones have been answered or killed by ``execute`` (the host waits for that)."""
        with self._lock:
            self._closed, idle, self._idle = True, self._idle, []
        for sender in idle:
            try:
                sender.connection.send(None)
            except OSError:
                pass
            try:
                sender.process.wait(SHUTDOWN_GRACE)
            except subprocess.TimeoutExpired:
                sender.process.kill()
            sender.connection.close()
        self._spawner.shutdown(wait=True)

    # slots -------------------------------------------------------------------------------
    def _spawn(self) -> _Sender:
        """In the spawner thread only (see the module's docstring)."""
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", COMMAND, str(theirs.fileno()), str(os.getpid()), self.data_dir],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        return _Sender(process, Connection(ours.detach()))

    def _add_spare(self) -> None:
        sender = self._spawn()
        with self._lock:
            if not self._closed:
                self._idle.append(sender)
                return
        sender.kill()

    def _take(self) -> _Sender:
        """A warm idle sender, or a new one; a spare is started behind it for the next run."""
        with self._lock:
            sender = self._idle.pop() if self._idle else None
        if sender is not None and sender.process.poll() is not None:  # died while idle
            sender.connection.close()
            sender = None
        if sender is None:
            sender = self._spawner.submit(self._spawn).result()
        if len(self._idle) < SPARE and not self._closed:
            self._spawner.submit(self._add_spare)
        return sender

    def _give_back(self, sender: _Sender) -> None:
        """Kept warm for the next run, unless enough are; an extra one ends."""
        with self._lock:
            if not self._closed and len(self._idle) <= SPARE:
                self._idle.append(sender)
                return
        try:
            sender.connection.send(None)
        except OSError:
            pass
        sender.connection.close()
