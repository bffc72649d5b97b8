"""The global options as people type them: before or after the subcommand, `--demo` for the demo's workspace,
and choices shown by their values in every `--help`."""

from __future__ import annotations

import argparse
import json

import pytest

from console.cli import COMMANDS, CONSOLE, DESCRIPTION, OPTIONS, main
from console.subcommands import build_parser

from .test_cli import run


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A demo workspace seeded with the global options after the subcommand, as the README shows it."""
    path = tmp_path_factory.mktemp("options") / "demo"
    assert main(["seed-demo", "--data", str(path), "--user", "root"]) == 0
    return path


def test_global_options_after_the_subcommand(seeded, capsys, monkeypatch):
    monkeypatch.delenv("CAMPAIGNS_DATA", raising=False)
    code, out, err = run(capsys, "list", "--data", str(seeded), "--json", "--user", "root")
    assert code == 0, err
    after = json.loads(out)
    code, out, err = run(capsys, "--data", str(seeded), "--user", "root", "list", "--json")
    assert code == 0, err
    assert json.loads(out) == after and after
    code, out, err = run(capsys, "users", "add", "bob", "--role", "viewer", "--data", str(seeded), "--user", "root")
    assert code == 0, err  # a nested action takes them too
    code, out, err = run(capsys, "profiles", "stats", "--user", "root", "--data", str(seeded))
    assert code == 0 and "profiles" in out, err


def test_an_option_before_the_subcommand_is_kept_when_the_subcommand_does_not_repeat_it():
    parser = build_parser(DESCRIPTION, OPTIONS, COMMANDS, default=CONSOLE)
    args = parser.parse_args(["--user", "chloe", "demo"])
    assert args.command.name == "demo" and args.user == "chloe"
    args = parser.parse_args(["demo", "--user", "chloe"])
    assert args.command.name == "demo" and args.user == "chloe"
    args = parser.parse_args(["login", "https://h:1", "--token", "t"])  # login's own --token stays its own
    assert args.login_token == "t" and args.token is None


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_help_lists_choices_by_value(capsys):
    parser = build_parser(DESCRIPTION, OPTIONS, COMMANDS, default=CONSOLE)
    helps = [p.format_help() for p in _parsers(parser)]
    assert not [h for h in helps if "Channel." in h or "Role." in h or "CampaignType." in h]
    assert any("{email,sms,push}" in h for h in helps) and any("{viewer,manager,approver,admin,api-client}" in h for h in helps)
    with pytest.raises(SystemExit) as exit:
        main(["list", "--channel", "fax"])
    assert exit.value.code == 2
    assert "invalid choice 'fax'; use one of: email, sms, push" in capsys.readouterr().err


def test_demo_option_reaches_the_demo_workspace(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CAMPAIGNS_DATA", raising=False)
    code, _, err = run(capsys, "list", "--demo", "--user", "root")
    assert code == 1 and "there is no demo workspace yet" in err and "`campaigns demo` creates it" in err
    assert not (tmp_path / "xdg" / "campaigns" / "demo").exists()  # refused, not created empty
    code, _, err = run(capsys, "seed-demo", "--demo", "--user", "root")
    assert code == 0 and "demo workspace ready" in err
    assert (tmp_path / "xdg" / "campaigns" / "demo" / "lock").exists()
    code, out, err = run(capsys, "list", "--demo", "--user", "root", "--json")
    assert code == 0 and json.loads(out), err
    code, _, err = run(capsys, "list", "--demo", "--data", str(tmp_path))
    assert code == 1 and "--demo names the demo workspace: drop --data and --connect" in err
