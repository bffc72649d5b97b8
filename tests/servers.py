"""Real loopback servers for provider tests: an aiosmtpd SMTP server and a threaded HTTP server.

Both bind port 0 (a free port chosen by the kernel), record what they receive, count the TCP
connections they accept (to prove reuse), and can be scripted to misbehave for the next N
messages: refuse with a given reply, drop the connection, or (HTTP) hang. A silent TCP server
stands in for a gateway that accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DROP = "drop"


# -- SMTP ---------------------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    reply: str  # what the server answered at the end of DATA


class SmtpRecorder:
    """aiosmtpd handler: keeps accepted messages; refuses or drops at a chosen stage on request."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.messages: list[Received] = []  # accepted
        self.attempts: list[Received] = []  # every message whose content arrived, accepted or not
        self.logins: list[tuple[str, str]] = []
        self.quits = 0
        self._credentials = credentials
        self._plan: dict[str, deque[str]] = {"MAIL": deque(), "RCPT": deque(), "DATA": deque()}
        self._lock = threading.Lock()

    def refuse_next(self, n: int, reply: str = "550 5.1.1 user unknown", *, at: str = "RCPT") -> None:
        with self._lock:
            self._plan[at].extend([reply] * n)

    def drop_next(self, n: int = 1, *, at: str = "DATA") -> None:
        """Close the connection instead of answering: at DATA, after the content arrived."""
        with self._lock:
            self._plan[at].extend([DROP] * n)

    def _take(self, stage: str) -> str | None:
        with self._lock:
            plan = self._plan[stage]
            return plan.popleft() if plan else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        action = self._take("MAIL")
        if action == DROP:
            server.transport.close()
        if action:
            return action
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        action = self._take("RCPT")
        if action == DROP:
            server.transport.close()
        if action:
            return action
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = self._take("DATA")
        if action == DROP:
            server.transport.close()
            return "250 never heard"
        reply = action or f"250 2.0.0 Ok: queued as Q{len(self.messages) + 1}"
        received = Received(envelope.mail_from, list(envelope.rcpt_tos),
                            email.message_from_bytes(envelope.content, policy=policy.default), reply)
        self.attempts.append(received)
        if not action:
            self.messages.append(received)
        return reply

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == self._credentials, handled=False)


class _Controller(Controller):
    """Counts sessions and learns the real port when bound to port 0."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[Any] = []

    def factory(self):
        session = super().factory()
        self.sessions.append(session)
        return session

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """``with SmtpServer() as server:`` a real SMTP server on 127.0.0.1:<free port>."""

    def __init__(self, *, credentials: tuple[str, str] | None = None, tls_context=None) -> None:
        self.handler = SmtpRecorder(credentials)
        kwargs: dict[str, Any] = {"server_hostname": "localhost"}
        if credentials:
            kwargs.update(authenticator=self.handler.authenticate, auth_require_tls=tls_context is not None)
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        self._controller = _Controller(self.handler, hostname="127.0.0.1", port=0, **kwargs)

    host = "127.0.0.1"

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def connections(self) -> int:
        return len(self._controller.sessions)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def hang_up(self) -> None:
        """Close every open session from the server side, as an idle timeout would."""
        async def close_all() -> None:
            open_sessions = [s for s in self._controller.sessions if s.transport is not None]
            for session in open_sessions:
                session.transport.close()
            while any(s.transport is not None for s in open_sessions):  # until each one's connection_lost ran
                await asyncio.sleep(0.01)
        asyncio.run_coroutine_threadsafe(close_all(), self._controller.loop).result(5)

    def __enter__(self) -> "SmtpServer":
        self._controller.start()
        self._controller.sessions.clear()  # forget the controller's own start-up probe
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


# -- HTTP ---------------------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    connection: int  # client port: one per TCP connection

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'
    hang: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 5  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def do_POST(self) -> None:
        owner: HttpServer = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        owner.requests.append(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                      body, self.client_address[1]))
        answer = owner._take()
        if answer.hang:
            owner._release.wait(answer.hang)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def process_request(self, request, client_address) -> None:
        self.connections += 1
        super().process_request(request, client_address)


class HttpServer:
    """``with HttpServer() as server:`` a real HTTP/1.1 server on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._plan: deque[_Answer] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd = _CountingServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        return self._httpd.connections

    def answer_next(self, n: int, status: int, *, headers: dict[str, str] | None = None,
                    body: bytes | str | dict = b"") -> None:
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._plan.extend(_Answer(status, headers or {}, body) for _ in range(n))

    def hang_next(self, n: int = 1, seconds: float = 10.0) -> None:
        """Answer only after ``seconds`` (or at shutdown): long past any client timeout under test."""
        with self._lock:
            self._plan.extend(_Answer(hang=seconds) for _ in range(n))

    def _take(self) -> _Answer:
        with self._lock:
            return self._plan.popleft() if self._plan else _Answer()

    def __enter__(self) -> "HttpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


# -- TCP that never answers ----------------------------------------------------------------------

class SilentServer:
    """``with SilentServer() as server:`` accepts TCP connections on 127.0.0.1 and never sends a byte.

    A hung gateway as an operator meets it: the connect succeeds, the greeting or the answer never
    comes. ``port`` may name a port that was free (a refusing gateway that comes back as a hung one).
    """

    host = "127.0.0.1"

    def __init__(self, port: int = 0) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, port))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self.peers: list[int] = []  # client ports, in the order the kernel queued the connections
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, (_, port) = self._listener.accept()
            except OSError:  # closed: the server is stopping
                return
            self._held.append(conn)
            self.peers.append(port)

    def connections_so_far(self, deadline: float = 30.0) -> int:
        """How many connections arrived before this call, counted exactly despite the accept thread's lag:
        a marker connection joins the same queue, so once it is accepted every earlier one has been."""
        with socket.create_connection((self.host, self.port), timeout=deadline) as marker:
            mine = marker.getsockname()[1]
            give_up = time.monotonic() + deadline
            while mine not in self.peers:
                if time.monotonic() > give_up:
                    raise AssertionError(f"the silent server did not accept a connection within {deadline} s")
                time.sleep(0.01)
            before = self.peers.index(mine)
        self.peers.remove(mine)
        return before

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (a bare close would not)
        self._listener.close()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
