"""The CLI's subcommands declared once each (name, help, arguments, handler); the argparse parser is built
from the declarations, so a subcommand cannot exist without its handler, nor a handler without its subcommand.

The parser records the chosen declaration as ``args.command``; nested actions (``users add``) are
declarations of their own whose handler replaces their parent's. A ``Group`` has no handler of its own:
one of its actions must be named. The global options (``--data``, ``--user``…) are accepted before or after
the subcommand, as people type them (`campaigns list --data DIR`).
"""

from __future__ import annotations

import argparse
from enum import Enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # declaring the command line loads no client: a handler imports what it uses when it runs
    from store.client import CampaignsClient

ClientHandler = Callable[["CampaignsClient", argparse.Namespace], Awaitable[int]]
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
    _add_commands(parser, commands, options, dest="_command", metavar="COMMAND", required=False, top=True)
    return parser


def _add_commands(parser: argparse.ArgumentParser, commands: Sequence[Declaration], options: Sequence[Arg], *,
                  dest: str, metavar: str, required: bool, top: bool) -> None:
    sub = parser.add_subparsers(dest=dest, metavar=metavar, required=required)
    for command in commands:
        # Top-level subcommands repeat their help as their --help description; nested actions only list it.
        sp = sub.add_parser(command.name, help=command.help, description=command.help if top else None)
        if isinstance(command, Group):
            _add_global_options(sp, options, ())
            _add_commands(sp, command.actions, options, dest=f"_{command.name}_action", metavar="ACTION",
                          required=True, top=False)
            continue
        _add_args(sp, command.args)
        _add_global_options(sp, options, command.args)
        sp.set_defaults(command=command)
        if isinstance(command, Command) and command.actions:
            _add_commands(sp, command.actions, options, dest=f"_{command.name}_action", metavar="ACTION",
                          required=False, top=False)


def _add_global_options(parser: argparse.ArgumentParser, options: Sequence[Arg], own: Sequence[Arg]) -> None:
    """The global options again after the subcommand. Their default is "not given", so one typed before the
    subcommand is not reset by the subcommand's parser; a flag the subcommand declares itself stays its own
    (`login --token`)."""
    taken = {name for a in own for name in a.names}
    group = parser.add_argument_group("global options (also accepted before the command)")
    _add_args(group, [Arg(a.names, {**a.options, "default": argparse.SUPPRESS}) for a in options
                      if not taken & set(a.names)])


def _add_args(parser: argparse.ArgumentParser | argparse._ArgumentGroup, args: Sequence[Arg]) -> None:
    for a in args:
        parser.add_argument(*a.names, **_by_value(a.options))


def _by_value(options: dict[str, Any]) -> dict[str, Any]:
    """Enum choices listed and typed by their values (``email, sms, push``): argparse shows a choice with
    ``str()``, which for an Enum is its class-qualified name (``Channel.email``)."""
    choices = options.get("choices")
    if not choices or not all(isinstance(c, Enum) for c in choices):
        return options
    kind = type(choices[0])
    values = [c.value for c in choices]

    def parse(text: str) -> Enum:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r}; use one of: {', '.join(values)}") from None

    parse.__name__ = kind.__name__  # what argparse names in its other errors
    return {**options, "type": parse, "metavar": "{" + ",".join(values) + "}"}

