"""The `campaigns` command: the console and the scripting subcommands, all through the API client."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.errors import CampaignsError, ValidationFailed
from store.vocabulary import CampaignType, Channel, Role, Status

from . import output
from .subcommands import Command, Group, WorkspaceCommand, arg, build_parser

if TYPE_CHECKING:  # the handlers import the client, the models and the rest when they run (_later, below)
    from store.client import CampaignsClient
    from store.models.token import IssuedToken

    from .target import Target


def _status(text: str) -> Status:
    for s in Status:
        if text.casefold().replace("_", " ").replace("-", " ") == s.value.casefold():
            return s
    raise argparse.ArgumentTypeError(f"unknown status {text!r}; use one of: {', '.join(s.value for s in Status)}")


def _later(module: str, name: str, *made_with: Any) -> Any:
    """A handler (or argument type) kept in ``console.MODULE``, imported only when it is called: declaring the
    command line, all `--help` needs, loads none of them; ``made_with`` are the arguments of a factory."""
    def call(*args: Any) -> Any:
        found = getattr(importlib.import_module(f".{module}", __package__), name)
        return (found(*made_with) if made_with else found)(*args)

    call.__name__ = name  # what argparse names in "invalid <type> value"
    return call


def main(argv: list[str] | None = None) -> int:
    # Start-up builds hundreds of thousands of objects (the API's and models' classes) and no garbage: the
    # cyclic collector scanning them again and again cost a fifth of an embedded command's time. It is off
    # until the command itself runs (_run), and back on however main ends.
    gc.disable()
    try:
        import asyncio

        args = build_parser(DESCRIPTION, OPTIONS, COMMANDS, default=CONSOLE).parse_args(argv)
        try:
            return asyncio.run(_run(args))
        except CampaignsError as error:
            output.err.print(f"error: {error.detail}", markup=False, soft_wrap=True)
            return 1
        except KeyboardInterrupt:
            output.err.print("interrupted")
            return 130
    finally:
        gc.enable()


async def _run(args: argparse.Namespace) -> int:
    command: Command | WorkspaceCommand = args.command
    user = args.user or os.environ.get("CAMPAIGNS_USER")
    data = _data_dir(args, command)
    if isinstance(command, WorkspaceCommand):
        if args.connect and not command.remote:
            raise ValidationFailed(f"`campaigns {command.name}` works on this machine's workspace only: drop --connect")
        gc.enable()  # the console and the servers run for hours
        return await command.handler(data, user, args)
    from .target import Target

    async with Target.of(args, data, user).connect(host=command.hosts(args),
                                                        group=getattr(args, "group", None)) as client:
        gc.enable()
        _print_notices(client)
        return await command.handler(client, args)


def _data_dir(args: argparse.Namespace, command: Command | WorkspaceCommand) -> Path | None:
    """``--data``, or with ``--demo`` the directory `campaigns demo` seeded (which only the demo commands create)."""
    if not args.demo:
        return args.data
    from .paths import default_demo_dir

    if args.data is not None or args.connect:
        raise ValidationFailed("--demo names the demo workspace: drop --data and --connect")
    data = default_demo_dir()
    if command.name not in ("demo", "seed-demo") and not (data.is_dir() and any(data.iterdir())):
        raise ValidationFailed(f"there is no demo workspace yet (in {data}): `campaigns demo` creates it")
    return data


def _print_notices(client: CampaignsClient) -> None:
    """What opening the workspace did (e.g. modes tightened): one line each on stderr, never in the output."""
    for notice in client.notices:
        output.err.print(notice, markup=False, soft_wrap=True)


async def _console(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    from .run import run_console
    from .target import Target

    return await run_console(Target.of(args, data, user))


async def _demo(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    """The console on the demo workspace, seeded the first time. Its founder (this OS account) seeds it:
    ``--user`` names one of the demo's people, who exists only once it is seeded, and only plays them."""
    from .paths import default_demo_dir

    data = data or default_demo_dir()
    if not data.exists() or not any(data.iterdir()):
        await _seed_demo(data, None)
    return await _console(data, user, args)


async def _seed_demo_command(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    from .paths import default_data_dir

    return await _seed_demo(data or default_data_dir(), user)


async def _seed_demo(data: Path, user: str | None) -> int:
    from store.embedded import connect

    async with connect(data, user, new=True) as client:
        _print_notices(client)
        seeded = await client.seed_demo()
    counts = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in seeded.model_dump().items())
    output.err.print(f"demo workspace ready in {data}: {counts}")
    return 0


async def _list(client: CampaignsClient, args: argparse.Namespace) -> int:
    query = dict(all=args.all, statuses=args.status, types=args.type, channels=args.channel, tags=args.tag,
                 search=args.search)
    if args.json:  # without a CampaignFilter: its module loads the campaign rules, a fifth of the start-up
        output.print_json(await client.list_json(**query))
        return 0
    from store.listing import CampaignFilter

    f = CampaignFilter(**query)
    rows = await client.list_campaigns(f)
    output.print_campaign_list(rows)
    output.err.print(f"{len(rows)} campaigns · {f.describe()}" + ("" if f.all or f.statuses else " (--all shows every status)"))
    return 0


async def _show(client: CampaignsClient, args: argparse.Namespace) -> int:
    campaign = await client.campaign(args.id)
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
        return 0
    output.print_campaign(campaign)
    if campaign.current.workflow is not None:
        counts = await client.workflow_counts(campaign.id) if campaign.live is not None else None
        output.print_workflow(campaign, counts)
    return 0


def _print_result(args: argparse.Namespace, campaign) -> int:
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
    else:
        output.out.print(campaign.id)
    return 0


async def _trigger(client: CampaignsClient, args: argparse.Namespace) -> int:
    """The context is JSON given inline or, as ``@FILE``, read from a file like a create file."""
    from . import run_commands
    from .documents import parse_document, read_document

    text = args.context
    context = read_document(Path(text[1:])) if text.startswith("@") else parse_document(text.encode(), "--context")
    if not isinstance(context, dict):
        raise ValidationFailed("--context must be a JSON object, e.g. '{\"orderId\": \"A-42\"}'")
    return await run_commands.trigger(client, args, context)


async def _create(client: CampaignsClient, args: argparse.Namespace) -> int:
    from store.client import edit_from_file_document

    from .documents import read_document

    campaign = await client.create_campaign(edit_from_file_document(read_document(args.file)))
    return _print_result(args, campaign)


async def _edit(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    """From --file, or in $EDITOR without it."""
    from store.client import edit_from_file_document

    from .documents import read_document
    from .target import Target

    target = Target.of(args, data, user)
    if args.file is None:
        return await _edit_in_editor(target, args)
    async with target.connect() as client:
        _print_notices(client)
        campaign = await client.edit_draft(args.id, edit_from_file_document(read_document(args.file)))
    return _print_saved(args, campaign)


def _print_saved(args: argparse.Namespace, campaign) -> int:
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
    else:
        output.err.print(f"{campaign.id}: draft v{campaign.draft.number} saved (revision {campaign.draft.revision})")
    return 0


async def _edit_in_editor(target: Target, args: argparse.Namespace) -> int:
    """Like `kubectl edit`, without holding the workspace while $EDITOR is open (for as long as a person likes).

    The draft is read and the workspace released; the edit is then saved through a fresh connection
    against the revision read, so a change someone made meanwhile is refused, naming who and when.
    A save that fails keeps the edited file and says where.
    """
    from store.client import edit_from_file_document
    from store.models import editable_document

    from .documents import parse_document, run_editor

    async with target.connect() as client:
        _print_notices(client)
        document = editable_document(await client.campaign(args.id))
    path = run_editor(document, args.id)
    if path is None:
        output.err.print("no changes made")
        return 0
    try:
        edit = edit_from_file_document(parse_document(path.read_bytes(), "the edited draft"))
        async with target.connect() as client:
            campaign = await client.edit_draft(args.id, edit)
    except CampaignsError as error:
        error.detail += f"; your edit is kept at {path} (`campaigns edit {args.id} --file {path}` saves it)"
        raise
    path.unlink()
    return _print_saved(args, campaign)


def _action(method: str, done: str, *options: str):
    """A lifecycle action on ``args.id``; ``options`` name further arguments passed on (e.g. the message)."""
    async def run(client: CampaignsClient, args: argparse.Namespace) -> int:
        campaign = await getattr(client, method)(args.id, *(getattr(args, o) for o in options))
        if args.json:
            output.print_json(campaign.model_dump(mode="json"))
        else:
            output.err.print(f"{campaign.id} ({campaign.name}) {done}; status {campaign.status.value}")
        return 0

    return run


async def _reviewed_revision(client: CampaignsClient, args: argparse.Namespace) -> int:
    """The draft revision a decision is on: ``--revision`` (the one the approver read), else the one shown now."""
    if args.revision is not None:
        return args.revision
    draft = (await client.campaign(args.id)).current
    output.err.print(f"deciding on revision {draft.revision} of {args.id} "
                     f"(last changed by {draft.updated_by} at {draft.updated_at:%Y-%m-%d %H:%M} UTC)")
    return draft.revision


async def _approve(client: CampaignsClient, args: argparse.Namespace) -> int:
    campaign = await client.approve(args.id, await _reviewed_revision(client, args))
    approval = campaign.current.approval
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
    elif approval is not None and approval.waiting:
        output.err.print(f"{campaign.id} ({campaign.name}) approved by you; still waiting for policy "
                         f"{', '.join(approval.waiting)}; status {campaign.status.value}")
    else:
        output.err.print(f"{campaign.id} ({campaign.name}) approved; status {campaign.status.value}")
    return 0


async def _request_changes(client: CampaignsClient, args: argparse.Namespace) -> int:
    campaign = await client.request_changes(args.id, args.message, await _reviewed_revision(client, args))
    if args.json:
        output.print_json(campaign.model_dump(mode="json"))
    else:
        approval = campaign.current.approval
        assert approval is not None, "the server returns the draft with the request it sent back"
        output.err.print(f"{campaign.id} ({campaign.name}) sent back to {approval.requested_by}: {args.message}")
    return 0


async def _duplicate(client: CampaignsClient, args: argparse.Namespace) -> int:
    return _print_result(args, await client.duplicate(args.id))


async def _delete(client: CampaignsClient, args: argparse.Namespace) -> int:
    remaining = await client.delete_campaign(args.id)
    if remaining is None:
        output.err.print(f"{args.id} deleted")
    else:
        output.err.print(f"{args.id}: open draft discarded; live version v{remaining.current.number} unchanged")
    if args.json:
        output.print_json(None if remaining is None else remaining.model_dump(mode="json"))
    return 0


async def _audit(client: CampaignsClient, args: argparse.Namespace) -> int:
    events = await client.audit_trail(args.id)
    if args.json:
        output.print_json([e.model_dump(mode="json") for e in events])
        return 0
    for e in events:
        version = f" v{e.version}" if e.version else ""
        proof = f"  ({e.proof})" if e.proof else ""
        output.out.print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.user:<12} {e.action}{version}  {e.detail}{proof}", markup=False)
    return 0


async def _approvals(client: CampaignsClient, args: argparse.Namespace) -> int:
    rows = await client.awaiting_my_approval()
    if args.json:
        output.print_json([r.model_dump(mode="json", exclude_unset=True) for r in rows])
        return 0
    for r in rows:
        note = "  (yours: self-approval blocked)" if r.self_approval_blocked else ""
        output.out.print(f"{r.id:<10} {r.name}  requested by {r.requested_by} at {output.instant(r.requested_at)[:16]}{note}",
                         markup=False)
        for line in (r.request_message or "").splitlines():  # the requester's message, under its request
            output.out.print(f"{'':<10} > {line}", markup=False)
    output.err.print(f"{len(rows)} awaiting your approval")
    return 0


async def _users(client: CampaignsClient, args: argparse.Namespace) -> int:
    return _print_items(args, await client.users(), lambda u: (
        f"{u.name:<16} {u.role.value:<9} {u.os_account:<16} {u.display_name or ''}"))


async def _add_user(client: CampaignsClient, args: argparse.Namespace) -> int:
    """The new user's first token is printed once, alone on the last line: only its hash is kept."""
    from store.models import User

    user = await client.add_user(User(name=args.name, role=args.role, os_user=args.os_user))
    issued = await client.issue_token(user.name, args.days)
    if args.json:
        output.print_json({**user.model_dump(mode="json"), "token": issued.token,
                           "token_expires_at": issued.expires_at.isoformat()})
        return 0
    output.out.print(user.name, markup=False)
    return _print_token(issued)


async def _issue_token(client: CampaignsClient, args: argparse.Namespace) -> int:
    return _print_token(await client.issue_token(args.name, args.days))


def _print_token(issued: IssuedToken) -> int:
    output.err.print(f"a bearer token for `campaigns serve`, valid until {output.instant(issued.expires_at)[:16]}; "
                     "it is shown only now, keep it secret:", markup=False, soft_wrap=True)
    output.out.print(issued.token, markup=False, soft_wrap=True)
    return 0


async def _revoke_tokens(client: CampaignsClient, args: argparse.Namespace) -> int:
    revoked = await client.revoke_tokens(args.name)
    output.err.print(f"{revoked} token{'s' if revoked != 1 else ''} of {args.name} revoked", markup=False)
    return 0


async def _set_role(client: CampaignsClient, args: argparse.Namespace) -> int:
    user = await client.set_role(args.name, args.role)
    output.err.print(f"{user.name} is now {user.role.value}")
    return 0


async def _remove_user(client: CampaignsClient, args: argparse.Namespace) -> int:
    await client.remove_user(args.name)
    output.err.print(f"{args.name} removed")
    return 0


def _print_items(args: argparse.Namespace, items: list, line) -> int:
    """A list as JSON (models or dicts) for scripts, or one line per item for people."""
    if args.json:
        output.print_json([i.model_dump(mode="json") if hasattr(i, "model_dump") else i for i in items])
    else:
        for item in items:
            output.out.print(line(item), markup=False)
    return 0


def _print_json_or(args: argparse.Namespace, value: object, text: str) -> int:
    if getattr(args, "json", False):
        output.print_json(value)
    else:
        output.out.print(text, markup=False)
    return 0


async def _import_profiles(client: CampaignsClient, args: argparse.Namespace) -> int:
    from .profile_import import import_profiles

    return await import_profiles(client, args.file, as_json=args.json)


async def _show_profile(client: CampaignsClient, args: argparse.Namespace) -> int:
    profile = await client.profile(args.id)
    if args.json:
        output.print_json(profile.model_dump(mode="json"))
    else:
        output.out.print_json(profile.model_dump_json(exclude_defaults=True))
    return 0


async def _profile_stats(client: CampaignsClient, args: argparse.Namespace) -> int:
    stats = await client.profile_stats()
    output.out.print(f"{stats.profiles} profiles", markup=False)
    for name, count in stats.lists.items():
        output.out.print(f"  list {name}: {count}", markup=False)
    return 0


async def _audiences(client: CampaignsClient, args: argparse.Namespace) -> int:
    audiences = await client.audiences()
    rows = [{**a.model_dump(mode="json"), "size": await client.audience_size(a.id)} for a in audiences]
    return _print_items(args, rows, lambda r: f"{r['id']:<24} {r['size']:>9,}  {r['name']}")


async def _channels(client: CampaignsClient, args: argparse.Namespace) -> int:
    return _print_items(args, await client.channel_configurations(), lambda c: (
        f"{c.id:<24} {c.channel.value:<6} {c.category.value:<14} {c.provider.value:<8} {c.sender}"))


# The command line, declared once: each subcommand with its help, arguments and handler ----------------------
DESCRIPTION = "Campaign operations: list, edit, approve and activate campaigns."
OPTIONS = (
    arg("--data", type=Path, help="workspace directory (default: $CAMPAIGNS_DATA or a per-user directory)"),
    arg("--user", help="act as this workspace user (default: $CAMPAIGNS_USER or your OS user)"),
    arg("--connect", metavar="URL", help="act on the workspace `campaigns serve` serves at URL, as your token's user"),
    arg("--token", help="the bearer token for --connect (default: $CAMPAIGNS_TOKEN, else `campaigns login`'s)"),
    arg("--ca-cert", type=Path, metavar="FILE",
        help="trust this CA for an https --connect (default: $CAMPAIGNS_CA_BUNDLE, else the system's)"),
    arg("--demo", action="store_true", help="act on the demo workspace `campaigns demo` made (instead of --data)"),
)
CAMPAIGN_ID = arg("id", metavar="ID", help="campaign id, e.g. cmp-42")
JSON = arg("--json", action="store_true", help="print JSON instead of text")
ON_CAMPAIGN = (CAMPAIGN_ID, JSON)
GROUP_ARG = arg("--group", metavar="GROUP", help="serve the socket to this OS group's members, each acting as the "
                "workspace user of their OS account (from then on --user is refused here for good)")
TOKEN_DAYS_ARG = arg("--days", type=int, metavar="N", help="days the bearer token is valid (default 90, at most 3650)")
REVISION = arg("--revision", type=int, help="the draft revision you reviewed (`show --json`); default: the current one")


def _always(args: argparse.Namespace) -> bool:
    return True


CONSOLE = WorkspaceCommand("console", "open the console (also what `campaigns` alone does)", _console, remote=True)

COMMANDS: tuple[Command | Group | WorkspaceCommand, ...] = (
    WorkspaceCommand("demo", "open the console on a demo workspace (seeded in a new per-user directory the first time)",
                     _demo),
    CONSOLE,
    WorkspaceCommand("seed-demo", "fill a new, empty directory (--data) with a realistic demo workspace",
                     _seed_demo_command, args=(arg("--force-user", help=argparse.SUPPRESS),)),
    Command("list", "list campaigns (Stopped, Completed and Archived are hidden unless --all or --status)", _list, args=(
        JSON,
        arg("--all", action="store_true", help="show every status"),
        arg("--status", action="append", default=[], type=_status, help="only this status (repeatable)"),
        arg("--type", action="append", default=[], type=CampaignType, choices=list(CampaignType),
            help="action, api or orchestrated"),
        arg("--channel", action="append", default=[], type=Channel, choices=list(Channel), help="email, sms or push"),
        arg("--tag", action="append", default=[], help="has this tag (repeatable: any of them)"),
        arg("--search", default="", help="text in the name or a tag"))),
    Command("show", "show a campaign: live and draft side by side", _show, args=ON_CAMPAIGN),
    Command("create", "create a campaign from a JSON file in the shape `show --json` prints", _create,
            args=(JSON, arg("--file", type=Path, required=True))),
    WorkspaceCommand("edit", "edit the draft (created beside a Live or Scheduled version); opens $EDITOR without --file",
                     _edit, args=(*ON_CAMPAIGN, arg("--file", type=Path)), remote=True),
    Command("request-approval", "ask for approval of the draft, with an optional message to the approvers",
            _action("request_approval", "sent for approval", "message"),
            args=(*ON_CAMPAIGN, arg("--message", "-m", help="what the approvers should know"))),
    Command("cancel-request", "withdraw your approval request",
            _action("cancel_approval_request", "approval request withdrawn"), args=ON_CAMPAIGN),
    Command("approve", "approve the draft (an approver; not your own)", _approve, args=(*ON_CAMPAIGN, REVISION)),
    Command("activate", "activate the draft (approved where a policy asks)", _later("run_commands", "activate"), args=ON_CAMPAIGN,
            hosts=_always),
    Command("stop", "stop a Live or Scheduled campaign: final",
            _action("stop", "stopped for good; future runs cancelled"), args=ON_CAMPAIGN),
    Command("archive", "archive a campaign that is not a Draft", _action("archive", "archived"), args=ON_CAMPAIGN),
    Command("delete", "delete a Draft campaign, or discard the open draft beside a live version", _delete,
            args=ON_CAMPAIGN),
    Command("request-changes", "send the draft back with a message saying what to change", _request_changes,
            args=(*ON_CAMPAIGN, REVISION, arg("--message", "-m", required=True))),
    Command("duplicate", "copy a campaign into a new Draft", _duplicate, args=ON_CAMPAIGN),
    Command("audit", "the audit trail of a campaign", _audit, args=ON_CAMPAIGN),
    Command("approvals", "campaigns awaiting my approval", _approvals, args=(JSON,)),
    Command("users", "workspace users and their roles", _users, args=(JSON,), actions=(
        Command("add", "add a user (admin)", _add_user, args=(
            arg("name"), arg("--role", type=Role, choices=list(Role), required=True),
            arg("--os-user", metavar="ACCOUNT", help="the OS account that acts as this user on a shared host "
                "(default: the same name)"), TOKEN_DAYS_ARG,
            arg("--json", action="store_true"))),
        Command("set-role", "change a user's role (admin)", _set_role,
                args=(arg("name"), arg("role", type=Role, choices=list(Role)))),
        Command("remove", "remove a user (admin)", _remove_user, args=(arg("name"),)),
        Command("token", "issue another bearer token for a user, printed once (admin)", _issue_token,
                args=(arg("name"), TOKEN_DAYS_ARG)),
        Command("revoke", "revoke every bearer token of a user (admin)", _revoke_tokens, args=(arg("name"),)))),
    Group("policies", "approval policies: who must approve which campaigns (changes: admin)", actions=(
        Command("list", "every policy: id, enabled, name, conditions, approvers", _later("policy_commands", "list_policies"),
                args=(JSON,)),
        Command("add", "add a policy from a JSON file in the shape `policies list --json` prints",
                _later("policy_commands", "add_policy"), args=(arg("--file", type=Path, required=True),)),
        Command("edit", "change a policy from --file, or in $EDITOR without it", _later("policy_commands", "edit_policy"),
                args=(arg("id", metavar="ID"), arg("--file", type=Path))),
        Command("disable", "stop a policy from applying (kept, can be enabled again)",
                _later("policy_commands", "set_enabled", False), args=(arg("id", metavar="ID"),)),
        Command("enable", "make a disabled policy apply again", _later("policy_commands", "set_enabled", True),
                args=(arg("id", metavar="ID"),)))),
    Group("profiles", "profiles: import, show, stats", actions=(
        Command("import", "import profiles from CSV (dotted column names) or JSON lines", _import_profiles,
                args=(arg("file", type=Path), arg("--json", action="store_true", help="print the summary as JSON"))),
        Command("show", "show one profile", _show_profile, args=(arg("id"), arg("--json", action="store_true"))),
        Command("stats", "profile and list counts", _profile_stats))),
    Command("trigger", "send a Live API campaign now to named profiles, with context for {{context.*}}", _trigger,
            hosts=_always, args=(
                *ON_CAMPAIGN,
                arg("--profile", "-p", action="append", dest="profiles", metavar="ID",
                    help="a profile to send to (repeatable, up to 20)"),
                arg("--request-id", metavar="R", help="the call's id: the same id again answers the first execution "
                    "and sends nothing (default: a new one)"),
                arg("--context", default="{}", metavar="JSON|@FILE",
                    help='a JSON object, e.g. \'{"orderId": "A-42"}\', or @FILE to read it from a file'))),
    Command("test", "test an orchestrated campaign's workflow: every transition's count, nothing sent or saved",
            _later("workflow_commands", "test"), args=(*ON_CAMPAIGN, arg(
                "--live", action="store_true", help="test the live version (default: the draft if there is one)"))),
    Command("runs", "the runs of a campaign with their counters", _later("run_commands", "runs"), hosts=lambda args: args.follow,
            args=(*ON_CAMPAIGN, arg("--follow", "-f", action="store_true",
                                    help="print the run in flight once a second (counters, rate, time left) until it ends"))),
    Command("report", "a campaign's totals, runs, exclusions by reason and next runs", _later("run_commands", "report"),
            args=ON_CAMPAIGN),
    Command("outbox", "the newest messages the outbox provider wrote (oldest of them first)", _later("run_commands", "outbox"),
            hosts=lambda args: args.follow, args=(
                arg("--channel", type=Channel, choices=list(Channel)),
                arg("--campaign", metavar="ID"),
                arg("--limit", "-n", type=_later("run_commands", "outbox_limit"), default=50, metavar="N",
                    help="how many of the newest messages (default 50)"),
                arg("--since", type=_later("run_commands", "since_time"), metavar="WHEN",
                    help="only messages sent since then: a duration (10m, 2h, 1d) or a time (local unless zoned)"),
                arg("--follow", "-f", action="store_true", help="keep printing new messages until Ctrl-C"),
                arg("--json", action="store_true", help="one JSON object per line"))),
    Command("engine", "run the engine headless, serving this workspace to other commands, until SIGTERM or Ctrl-C",
            _later("run_commands", "engine"), hosts=_always, args=(GROUP_ARG,)),
    WorkspaceCommand("serve", "run the engine with the API on a TCP port for bearer tokens, until SIGTERM or Ctrl-C",
                     _later("serve", "serve"), args=(
                         arg("--host", default="127.0.0.1", help="address to bind (not loopback: needs TLS)"),
                         arg("--port", type=int, default=8765, help="TCP port (0: any free one)"),
                         arg("--tls-cert", type=Path, metavar="FILE", help="TLS certificate (PEM)"),
                         arg("--tls-key", type=Path, metavar="FILE", help="its private key (PEM)"),
                         arg("--insecure", action="store_true", help="allow a non-loopback bind without TLS"),
                         GROUP_ARG)),
    WorkspaceCommand("login", "check a token for a server's URL and keep it for --connect URL (in a file only you read)",
                     _later("login", "login"), args=(arg("url", metavar="URL"),
                                  arg("--token", dest="login_token", help="the token (default: asked for, or one line "
                                      "of standard input)"))),
    WorkspaceCommand("logout", "forget the token kept for URL (the only one, when not given)",
                     _later("login", "logout"), args=(
        arg("url", metavar="URL", nargs="?"), arg("--all", action="store_true", help="forget every kept token"))),
    Command("audiences", "audiences with their sizes", _audiences, args=(JSON,)),
    Command("channels", "channel configurations", _channels, args=(JSON,)),
)


if __name__ == "__main__":
    sys.exit(main())
