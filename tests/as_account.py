"""Run `campaigns ARGS` as another OS account: ``python tests/as_account.py ACCOUNT [--group G] -- ARGS``.

Started as root, it imports the whole command line first, then drops to the account for good (groups, gid,
uid, in that order) before running it, so the command really runs as that account: the kernel names it to
the engine's socket. Importing first matters here because the interpreter lives under root's 0700 home,
which the account could not read.
"""

from __future__ import annotations

import grp
import importlib
import os
import pkgutil
import pwd
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_everything() -> None:
    sys.path.insert(0, str(ROOT))
    for package in ("store", "console"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    for name in ("encodings.idna", "getpass", "json", "_strptime", "email.utils"):
        importlib.import_module(name)


def _become(account: str, groups: list[str]) -> None:
    entry = pwd.getpwnam(account)
    os.setgroups([grp.getgrnam(g).gr_gid for g in groups])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ.update(HOME="/nonexistent", USER=account, LOGNAME=account)


def main(argv: list[str]) -> int:
    separator = argv.index("--")
    account, *options = argv[:separator]
    groups = [options[i + 1] for i, o in enumerate(options) if o == "--group"]
    _import_everything()
    _become(account, groups)
    from console.cli import main as campaigns

    return campaigns(argv[separator + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
