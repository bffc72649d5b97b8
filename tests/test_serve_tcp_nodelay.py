"""`campaigns serve`'s TCP connections send each write at once (TCP_NODELAY): without it a response written in
two parts (headers, body) waited out the client's delayed ACK, 40 ms a call over loopback."""

from __future__ import annotations

import asyncio
import socket

from store.network import Listen
from store.serving import serve_tcp


async def _app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_tcp_listener_and_its_connections_have_nodelay() -> None:
    async def scenario() -> None:
        listen = Listen(port=0)
        server, task = await serve_tcp(_app, listen)
        try:
            (listener,) = [s for srv in server.servers for s in srv.sockets]
            assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            reader, writer = await asyncio.open_connection("127.0.0.1", listen.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
            writer.close()
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 30)

    asyncio.run(scenario())
