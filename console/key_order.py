"""Keys reach the screen they were typed for, however fast they come (a paste, a laggy SSH link).

Textual hands each key to the focused widget's queue as soon as it arrives, before the keys ahead of it are
handled: in `/weekly`, the `/` that shows the search box is still queued when `w` is sent to the list (and opens
the approvals), and letters typed after `n` land on the list while the form is still being built. Here the app
sends one key at a time: the next leaves once the last has bubbled through every widget it passes (a marker
follows it) and the screen on top is mounted with its first focus given.
"""

from __future__ import annotations

from collections import deque

from textual import events, on
from textual.app import App
from textual.dom import DOMNode
from textual.message import Message

_WAKE_SECONDS = 0.01  # how soon to look again while a screen is being built


class KeyHandled(Message):
    """Posted behind a key to the widget it went to; it bubbles the same way, so it reaches the app last."""


class OrderedKeysApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self._held_keys: deque[events.Key] = deque()
        self._key_in_flight: DOMNode | None = None  # where the last key went, until its marker comes back
        self._ready_screen: object | None = None  # a screen seen mounted once: one more turn lets its focus land
        self._waking = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._held_keys.append(event)
            await self._send_keys()
        else:
            await super().on_event(event)

    @on(KeyHandled)
    async def _key_handled(self, message: KeyHandled) -> None:
        message.stop()
        self._key_in_flight = None
        self.call_later(self._send_keys)  # after what the key's action queued here (a focus it gave)

    async def _send_keys(self) -> None:
        while self._held_keys:
            if not self._keys_may_go():
                self._wake_later()
                return
            key = self._held_keys.popleft()
            await super().on_event(key)
            if key.is_forwarded:  # sent to a widget (not taken by a priority binding): its marker follows
                target = self.focused or self.screen
                if target.post_message(KeyHandled()):
                    self._key_in_flight = target

    def _keys_may_go(self) -> bool:
        """No key on its way, and the screen on top mounted with the focus its ``on_mount`` asked for (a
        ``call_later`` queued before it counted as mounted: seen once, then one more turn of the queue)."""
        if self._key_in_flight is not None:
            if self._key_in_flight.is_attached:
                return False
            self._key_in_flight = None  # removed before its marker came back: nothing left to wait for
        screen = self.screen
        if not screen.is_mounted:
            return False
        if self._ready_screen is not screen:
            self._ready_screen = screen
            return False
        return True

    def _wake_later(self) -> None:
        if not self._waking:
            self._waking = True
            self.set_timer(_WAKE_SECONDS, self._wake)

    def _wake(self) -> None:
        self._waking = False
        self.call_later(self._send_keys)
