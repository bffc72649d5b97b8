"""Errors as problem JSON (RFC 9457): ``type``, ``title``, ``status``, ``detail``, plus field ``errors``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ..errors import CampaignsError, ValidationFailed
from ..models import field_errors

PROBLEM_BASE = "urn:campaigns:problem:"


def problem_response(error: CampaignsError) -> JSONResponse:
    body = {"type": PROBLEM_BASE + error.problem, "title": error.title, "status": error.status, "detail": error.detail}
    if isinstance(error, ValidationFailed) and error.errors:
        body["errors"] = error.errors
    return JSONResponse(body, status_code=error.status, media_type="application/problem+json")


def install(app: FastAPI) -> None:
    @app.exception_handler(CampaignsError)
    async def _known(request: Request, error: CampaignsError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(ValidationError)
    async def _model(request: Request, error: ValidationError) -> JSONResponse:
        return problem_response(ValidationFailed.of(field_errors(error)))

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or "(body)",
                   "message": str(e["msg"]).removeprefix("Value error, ")} for e in error.errors()]
        return problem_response(ValidationFailed.of(errors))
