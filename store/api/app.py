"""The FastAPI app factory: one app per open workspace."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from ..engine.engine import Engine
from ..workspace import Workspace
from . import ajo, authoring, campaigns, engine, problems, profiles, workflows, workspace
from .bounded_body import BoundedBody
from .identity import Identity, OsAccountIdentity, TokenIdentity, current_user


def create_app(ws: Workspace, eng: Engine | None = None, identity: Identity | None = None) -> FastAPI:
    """The API over one open workspace and its engine (created here unless the caller hosts one)."""
    networked = isinstance(identity, TokenIdentity)
    # Over the network every answer but /healthz needs a token, the schema included; the docs pages are not served.
    app = FastAPI(title="Campaigns API", version="1",
                  description="Campaign operations: lifecycle, approvals, profiles, runs and delivery.",
                  openapi_url=None if networked else "/openapi.json",
                  docs_url=None if networked else "/docs", redoc_url=None if networked else "/redoc")
    app.state.workspace = ws
    app.state.engine = eng or Engine(ws)
    app.state.identity = identity or OsAccountIdentity()
    problems.install(app)
    app.add_middleware(BoundedBody)  # body size and JSON depth, before anything parses the body
    for module in (campaigns, engine, authoring, workspace, profiles, ajo, workflows):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Open to anyone, on every transport: load balancers and monitors call it without a token."""
        return {"status": "ok"}

    if networked:
        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(current_user)])
        def schema() -> dict[str, Any]:
            return app.openapi()

    return app
