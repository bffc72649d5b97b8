"""Errors that reach a person: each says what was wrong and what to do.

Every error carries an HTTP status and a problem type so the API can turn it into
problem JSON (``type``, ``title``, ``status``, ``detail``) and the client can raise
the same class again on the other side.
"""

from __future__ import annotations


class CampaignsError(Exception):
    """Base of every error the store raises on purpose."""

    status: int = 400
    problem: str = "bad-request"
    title: str = "Request refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(CampaignsError):
    status, problem, title = 404, "not-found", "Not found"


class ValidationFailed(CampaignsError):
    """Input that does not make a valid object; ``errors`` lists field-level messages."""

    status, problem, title = 422, "validation-failed", "Invalid input"

    def __init__(self, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []

    @classmethod
    def of(cls, errors: list[dict], prefix: str = "") -> "ValidationFailed":
        """One line naming every field (for a person), with the list kept for forms and problem JSON."""
        return cls(prefix + "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


class Forbidden(CampaignsError):
    status, problem, title = 403, "forbidden", "Not allowed for your role"


class InvalidTransition(CampaignsError):
    status, problem, title = 409, "invalid-transition", "Not possible in this status"


class StaleRevision(CampaignsError):
    status, problem, title = 409, "stale-revision", "Changed by someone else"


class Conflict(CampaignsError):
    status, problem, title = 409, "conflict", "Conflict"


class WorkspaceLocked(CampaignsError):
    """Another process holds the workspace lock."""

    status, problem, title = 423, "workspace-locked", "Workspace in use"

    def __init__(self, detail: str, pid: int | None = None) -> None:
        super().__init__(detail)
        self.pid = pid


class Unreachable(CampaignsError):
    """Another OS account's workspace whose engine this account cannot reach."""

    status, problem, title = 503, "unreachable", "Workspace not reachable"


class StoreCorrupted(CampaignsError):
    """A store file cannot be read; it is left untouched for a person to inspect."""

    status, problem, title = 500, "store-corrupted", "Store file unreadable"


class Unauthenticated(CampaignsError):
    status, problem, title = 401, "unauthenticated", "Not authenticated"


class TooLarge(CampaignsError):
    """A request body over the documented limit (``store.limits``), refused before it is read whole."""

    status, problem, title = 413, "too-large", "Request too large"


ERRORS_BY_PROBLEM: dict[str, type[CampaignsError]] = {
    cls.problem: cls
    for cls in (
        CampaignsError, NotFound, ValidationFailed, Forbidden, InvalidTransition,
        StaleRevision, Conflict, WorkspaceLocked, StoreCorrupted, Unauthenticated, TooLarge,
    )
}
