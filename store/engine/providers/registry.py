"""Which code sends for which provider, in one table: the runner looks a configuration up, never branches.

``isolation_key`` names the gateway a configuration sends to; the engine gives each key its own
sending slots, so a gateway that hangs holds only its own (issue 8.3). ``open_provider`` opens the
network provider of a configuration; the outbox has none, as the engine appends its lines itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...clock import Clock
from ...models import ChannelConfiguration
from ...models import Provider as ProviderKind
from ..message import Provider
from . import smtp, webhook


SLOTS_PER_GATEWAY = 2  # sends through any one gateway at a time: a hung one holds only these


@dataclass(frozen=True, slots=True)
class Registration:
    isolation_key: Callable[[ChannelConfiguration], str]
    open: Callable[[ChannelConfiguration, Clock], Provider] | None = None  # None: written by the engine itself


REGISTRY: dict[ProviderKind, Registration] = {
    ProviderKind.outbox: Registration(lambda config: "outbox"),
    ProviderKind.smtp: Registration(smtp.isolation_key, lambda config, clock: smtp.SmtpProvider(config, clock=clock)),
    ProviderKind.webhook: Registration(webhook.isolation_key,
                                       lambda config, clock: webhook.WebhookProvider(config, clock=clock)),
}


def isolation_key(config: ChannelConfiguration) -> str:
    """``"outbox"``, ``"smtp:host:port"``, ``"webhook:host:port"``: configurations with one key share slots."""
    return REGISTRY[config.provider].isolation_key(config)


def open_provider(config: ChannelConfiguration, clock: Clock) -> Provider | None:
    """The network provider that sends for ``config``, or None for the outbox (the runner writes it in batches)."""
    opener = REGISTRY[config.provider].open
    return None if opener is None else opener(config, clock)
