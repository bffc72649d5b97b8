"""`campaigns login URL` and `campaigns logout`: keep (or forget) a server's token on this machine, so
`campaigns --connect URL` needs no ``--token``."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from store.errors import ValidationFailed
from store.remote import connect_remote, normal_url

from . import output
from .target import ca_cert
from .token_file import read_tokens, write_tokens


async def login(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    """The token is checked with the server (who it names) before it is kept."""
    url = normal_url(args.url)
    tokens = read_tokens()  # a file we could not write back is refused before asking for a secret
    token = args.login_token or args.token or _ask_token(url)
    async with connect_remote(url, token, ca_cert=ca_cert(args)) as client:
        me = await client.me()
    path = write_tokens({**tokens, url: token})
    output.err.print(f"logged in to {url} as {me.user.name} ({me.user.role.value}); token kept in {path}",
                     markup=False, soft_wrap=True)
    return 0


def _ask_token(url: str) -> str:
    """Without echo on a terminal; one line from a pipe (``campaigns users token NAME | campaigns login URL``)."""
    token = getpass.getpass(f"token for {url}: ") if sys.stdin.isatty() else sys.stdin.readline()
    if not token.strip():
        raise ValidationFailed("no token given: paste the token an admin printed with `campaigns users token NAME`")
    return token.strip()


async def logout(data: Path | None, user: str | None, args: argparse.Namespace) -> int:
    tokens = read_tokens()
    if args.all:
        urls = list(tokens)
    elif args.url:
        urls = [normal_url(args.url)]
    elif len(tokens) <= 1:
        urls = list(tokens)
    else:
        raise ValidationFailed(f"logged in to {len(tokens)} servers ({', '.join(tokens)}): name one, or give --all")
    removed = [url for url in urls if tokens.pop(url, None) is not None]
    if removed:
        write_tokens(tokens)
    for url in removed:
        output.err.print(f"logged out of {url}: its token is forgotten here (it stays valid until an admin revokes it "
                         "with `campaigns users revoke NAME`)", markup=False, soft_wrap=True)
    if not removed:
        output.err.print(f"not logged in to {urls[0] if urls else 'any server'}; nothing to remove", markup=False)
    return 0
