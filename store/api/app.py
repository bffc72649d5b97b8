"""The FastAPI app factory: one app per open workspace."""

from __future__ import annotations

from fastapi import FastAPI

from ..workspace import Workspace
from . import campaigns, problems, profiles, workspace
from .identity import EmbeddedIdentity, Identity


def create_app(ws: Workspace, identity: Identity | None = None) -> FastAPI:
    app = FastAPI(title="Campaigns API", version="1", description="Campaign operations: lifecycle, approvals, profiles.")
    app.state.workspace = ws
    app.state.identity = identity or EmbeddedIdentity()
    problems.install(app)
    for module in (campaigns, workspace, profiles):
        app.include_router(module.router)
    return app
