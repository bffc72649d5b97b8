"""What the lost-engine banner says: what happened to the engine, in words, and how to bring it back.

An operator reads "[Errno 2] No such file or directory" as nothing; the cause (the socket file gone, a socket left
behind with nobody listening, a server that does not answer) says what happened, and where the engine runs (its
socket here, another account's shared engine, a server's URL) says who can start it again and how.
"""

from __future__ import annotations

import shlex

import httpx

_SOCKET_CAUSES = {
    FileNotFoundError: "stopped (its socket is gone)",
    ConnectionRefusedError: "stopped (its socket is left behind, but no process answers on it)",
    PermissionError: "cannot be reached: this account may no longer use its socket",
}
_SERVER_CAUSES = {
    ConnectionRefusedError: "refuses connections (nothing listens on that port)",
    FileNotFoundError: "cannot be reached",
}


def _os_causes(error: BaseException) -> list[OSError]:
    """The operating system's errors under httpx's, httpcore's and anyio's wrappers ("All connection attempts
    failed" wraps the refusal)."""
    causes = []
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError):
            causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    return causes


def _what(error: httpx.TransportError, causes: dict[type[OSError], str]) -> str:
    found = _os_causes(error)
    for kind, words in causes.items():
        if any(isinstance(cause, kind) for cause in found):
            return words
    if isinstance(error, httpx.TimeoutException):
        return "does not answer (busy or stuck)"
    if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "closed the connection in the middle of an answer (it stopped or restarted)"
    return f"cannot be reached ({error or type(error).__name__})"


def lost_engine(error: httpx.TransportError, *, remote: str | None, data_dir: str) -> str:
    """One or two sentences for the banner: what happened, then how to bring the engine back."""
    workspace = shlex.quote(data_dir)
    if remote is not None and remote.startswith(("http://", "https://")):
        return (f"The server at {remote} {_what(error, _SERVER_CAUSES)}. Whoever runs `campaigns serve` there "
                "starts it again; the console reconnects by itself.")
    what = _what(error, _SOCKET_CAUSES)
    if remote is not None and remote.startswith("the shared engine"):
        return (f"The shared engine of this workspace {what}. Its owner starts it again with "
                f"`campaigns engine --data {workspace}`; the console reconnects by itself.")
    return (f"The engine that hosted this workspace {what}. Start it again with `campaigns engine --data "
            f"{workspace}`, or quit and reopen the console to host it here.")
