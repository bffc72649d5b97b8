"""The CLI's subcommands declared once each (name, help, arguments, handler); the argparse parser is built
from the declarations, so a subcommand cannot exist without its handler, nor a handler without its subcommand.

The parser records the chosen declaration as ``args.command``; nested actions (``users add``) are
declarations of their own whose handler replaces their parent's. A ``Group`` has no handler of its own:
one of its actions must be named.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.client import CampaignsClient

ClientHandler = Callable[[CampaignsClient, argparse.Namespace], Awaitable[int]]
# Opens the workspace itself (or not at all): the console, the demo, an edit in $EDITOR. Given --data, --user.
WorkspaceHandler = Callable[[Path | None, str | None, argparse.Namespace], Awaitable[int]]


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call: its flags or name, and its keywords."""

    names: tuple[str, ...]
    options: dict[str, Any]


def arg(*names: str, **options: Any) -> Arg:
    return Arg(names, options)


@dataclass(frozen=True)
class Command:
    """A subcommand run on a connected client; ``hosts`` says when it runs the engine here (unless another
    process already does): the commands that make the engine work, or wait on it."""

    name: str
    help: str
    handler: ClientHandler
    args: Sequence[Arg] = ()
    hosts: Callable[[argparse.Namespace], bool] = field(default=lambda args: False)
    actions: Sequence[Command] = ()  # optional nested subcommands, e.g. `users add` beside `users`


@dataclass(frozen=True)
class Group:
    """Subcommands under one name, one of which must be given (`profiles import`)."""

    name: str
    help: str
    actions: Sequence[Command]


@dataclass(frozen=True)
class WorkspaceCommand:
    """A subcommand whose handler opens the workspace itself; ``remote`` when it also works over ``--connect``
    (the others need this machine's files: `serve`, `seed-demo`)."""

    name: str
    help: str
    handler: WorkspaceHandler
    args: Sequence[Arg] = ()
    remote: bool = False


Declaration = Command | Group | WorkspaceCommand


def build_parser(description: str, options: Sequence[Arg], commands: Sequence[Declaration],
                 default: WorkspaceCommand) -> argparse.ArgumentParser:
    """The parser of ``campaigns``: ``args.command`` is the chosen declaration (``default`` without one)."""
    parser = argparse.ArgumentParser(prog="campaigns", description=description)
    _add_args(parser, options)
    parser.set_defaults(command=default)
    _add_commands(parser, commands, dest="_command", metavar="COMMAND", required=False, top=True)
    return parser


def _add_commands(parser: argparse.ArgumentParser, commands: Sequence[Declaration], *, dest: str,
                  metavar: str, required: bool, top: bool) -> None:
    sub = parser.add_subparsers(dest=dest, metavar=metavar, required=required)
    for command in commands:
        # Top-level subcommands repeat their help as their --help description; nested actions only list it.
        sp = sub.add_parser(command.name, help=command.help, description=command.help if top else None)
        if isinstance(command, Group):
            _add_commands(sp, command.actions, dest=f"_{command.name}_action", metavar="ACTION", required=True,
                          top=False)
            continue
        _add_args(sp, command.args)
        sp.set_defaults(command=command)
        if isinstance(command, Command) and command.actions:
            _add_commands(sp, command.actions, dest=f"_{command.name}_action", metavar="ACTION", required=False,
                          top=False)


def _add_args(parser: argparse.ArgumentParser, args: Sequence[Arg]) -> None:
    for a in args:
        parser.add_argument(*a.names, **a.options)

