"""Request bodies within the documented limits (DESIGN.md 4, "Bounded input"), before FastAPI sees them.

A pure ASGI middleware: it counts bytes as they arrive and stops reading the moment a body passes
``REQUEST_BODY_BYTES`` (a ``Content-Length`` over it is refused before reading anything), so a 50 MB
upload never sits in memory. A body within the limit is checked for nesting depth in one linear pass
before it is handed on, because Python's ``json`` recurses once per level and 100,000 levels would
end in a RecursionError (a 500) inside the framework. Profile imports are streamed in chunks of whole
records whose size the file decides (``store.import_chunks``), so their endpoint takes any size.
"""

from __future__ import annotations

import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import TooLarge, ValidationFailed
from ..limits import REQUEST_BODY_BYTES, UNBOUNDED_PATHS, in_words, too_deep
from .problems import problem_response


def _too_large() -> TooLarge:
    return TooLarge(f"the request body is over the limit of {in_words(REQUEST_BODY_BYTES)}; "
                    "send less (profile files go through `campaigns profiles import`)")


class BoundedBody:
    """Refuses a body over ``limit`` bytes with 413 and one nested deeper than ``JSON_DEPTH`` with 422."""

    def __init__(self, app: ASGIApp, limit: int = REQUEST_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = math.inf if scope["path"] in UNBOUNDED_PATHS else self.limit
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await problem_response(_too_large())(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await problem_response(_too_large())(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        reason = too_deep(body) if body else None
        if reason:
            await problem_response(ValidationFailed.of([{"field": "(body)", "message": reason}]))(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read here, handed to the app as one message; then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
