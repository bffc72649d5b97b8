"""Runs a workspace's engine until idle; the crash test SIGKILLs it at random moments and restarts it."""

from __future__ import annotations

import sys

from store.engine.engine import Engine
from store.workspace import Workspace


def main(data_dir: str) -> None:
    ws = Workspace(data_dir)
    engine = Engine(ws)
    print("ready", flush=True)
    engine.run_until_idle()
    engine.shutdown()
    ws.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
