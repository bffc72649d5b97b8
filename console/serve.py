"""`campaigns serve`: the engine, hosted like `campaigns engine`, with the API on a TCP port for bearer tokens."""

from __future__ import annotations

import argparse
from pathlib import Path

from store.embedded import connect
from store.network import Listen

from . import output, run_commands
from .paths import default_data_dir

INSECURE = ("warning: serving without TLS off this machine: tokens and campaign data cross the network in clear, "
            "readable and replayable by anyone on the path")


async def serve(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    listen = Listen(args.host, args.port, args.tls_cert, args.tls_key)
    problem = listen.problem(args.insecure)
    if problem:
        output.err.print(f"error: {problem}", markup=False, soft_wrap=True)
        return 2
    if args.insecure and listen.tls_cert is None:
        output.err.print(INSECURE, markup=False, soft_wrap=True)
    stop = run_commands.stop_on_signals()
    try:
        async with connect(data or default_data_dir(), user, host=True, listen=listen, group=args.group) as client:
            if not client.remote:
                output.err.print(f"serving the API at {listen.url} (every call but /healthz needs a bearer token)",
                                 markup=False)
            return await run_commands.engine(client, args, stop)
    except OSError as error:
        output.err.print(f"error: cannot listen on {listen.host}:{listen.port}: {error.strerror or error}; "
                         "choose another --host or --port", markup=False, soft_wrap=True)
        return 1
