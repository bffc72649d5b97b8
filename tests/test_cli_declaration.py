"""The CLI's parser is built from its declarations: each subcommand parses to its own declaration (and so
its handler), nested actions too, nothing else is in the parser, and a group without a handler of its own
demands one of its actions."""

from __future__ import annotations

import argparse

import pytest

from console.cli import COMMANDS, CONSOLE, DESCRIPTION, OPTIONS
from console.subcommands import Command, Group, build_parser


def _check(parser: argparse.ArgumentParser, declarations) -> None:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(sub.choices) == [d.name for d in declarations]  # each declared once, nothing undeclared
    for d in declarations:
        parsed = sub.choices[d.name]
        if isinstance(d, Group):
            assert parsed.get_default("command") is None
            _check(parsed, d.actions)
            continue
        assert parsed.get_default("command") is d and callable(d.handler)
        if isinstance(d, Command) and d.actions:
            _check(parsed, d.actions)


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    return build_parser(DESCRIPTION, OPTIONS, COMMANDS, default=CONSOLE)


def test_every_declared_subcommand_parses_to_its_own_handler(parser):
    _check(parser, COMMANDS)
    assert parser.parse_args([]).command is CONSOLE  # `campaigns` alone opens the console
    assert parser.parse_args(["users"]).command.name == "users"
    assert parser.parse_args(["users", "add", "bob", "--role", "viewer"]).command.name == "add"


def test_a_group_without_an_action_is_refused(parser, capsys):
    with pytest.raises(SystemExit) as exit:
        parser.parse_args(["profiles"])
    assert exit.value.code == 2 and "the following arguments are required: ACTION" in capsys.readouterr().err
