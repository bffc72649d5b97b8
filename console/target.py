"""Where a command acts: a workspace directory on this machine (as ``--user``), or a server reached with
``--connect URL``, where the token (``--token``, ``$CAMPAIGNS_TOKEN`` or `campaigns login`'s file) says who you are."""

from __future__ import annotations

import argparse
import os
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from store.client import CampaignsClient
from store.embedded import connect
from store.errors import ValidationFailed

from .paths import default_data_dir
from .token_file import read_tokens


@dataclass(frozen=True)
class Target:
    data: Path | None = None
    user: str | None = None
    url: str | None = None  # with --connect: the server, and the token to show it
    token: str = ""
    ca_cert: Path | None = None

    @classmethod
    def of(cls, args: argparse.Namespace, data: Path | None, user: str | None) -> Target:
        """The target the global options name; refused in one line when they contradict each other."""
        if not args.connect:
            if args.token:
                raise ValidationFailed("--token is for a server: give --connect URL with it")
            return cls(data=data, user=user)
        if args.data is not None or args.user is not None:
            raise ValidationFailed("--connect acts as the user its token names: drop --data and --user")
        from store.remote import normal_url  # TLS and the server's client only for --connect

        url = normal_url(args.connect)
        return cls(url=url, token=_token(url, args.token), ca_cert=ca_cert(args))

    def connect(self, *, host: bool = False, group: str | None = None) -> AbstractAsyncContextManager[CampaignsClient]:
        """A client of the target; ``host`` runs the engine here when the workspace is local and free (serving
        its socket to ``group``)."""
        if self.url:
            from store.remote import connect_remote

            return connect_remote(self.url, self.token, ca_cert=self.ca_cert)
        return connect(self.data or default_data_dir(), self.user, host=host, group=group)


def _token(url: str, given: str | None) -> str:
    token = given or os.environ.get("CAMPAIGNS_TOKEN") or read_tokens().get(url)
    if not token:
        raise ValidationFailed(f"no token for {url}: run `campaigns login {url}`, or give --token or set CAMPAIGNS_TOKEN")
    return token


def ca_cert(args: argparse.Namespace) -> Path | None:
    """A private CA to trust for https (``--ca-cert`` or ``$CAMPAIGNS_CA_BUNDLE``); None: the system's."""
    given = args.ca_cert or os.environ.get("CAMPAIGNS_CA_BUNDLE")
    return Path(given) if given else None
