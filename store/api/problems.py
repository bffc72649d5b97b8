"""Errors as problem JSON (RFC 9457): ``type``, ``title``, ``status``, ``detail``, plus field ``errors``.

Every refusal, the store's own and the framework's (an unknown path, a wrong method, a body that does not
parse), answers ``application/problem+json``; and the OpenAPI description declares each of those answers
on every operation that can give it, so a client generated from it, or schemathesis, meets no surprise.
"""

from __future__ import annotations

import re
from typing import Any
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException

from ..errors import CampaignsError, NotFound, ValidationFailed
from ..limits import UNBOUNDED_PATHS
from ..models import field_errors

PROBLEM_BASE = "urn:campaigns:problem:"
PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the field, e.g. draft.schedule.end; (body) for the whole body")
    message: str


class Problem(BaseModel):
    """The body of every refusal."""

    type: str = Field(description=f"{PROBLEM_BASE}<kind>, e.g. {PROBLEM_BASE}not-found")
    title: str
    status: int
    detail: str = Field(description="what was wrong and what to do, in one line")
    errors: list[FieldError] = Field(default_factory=list, description="field by field, when the input was invalid")


def problem_response(error: CampaignsError) -> JSONResponse:
    return _answer(Problem(type=PROBLEM_BASE + error.problem, title=error.title, status=error.status,
                           detail=error.detail, errors=_field_errors(error)), getattr(error, "headers", None))


def _field_errors(error: CampaignsError) -> list[FieldError]:
    return [FieldError.model_validate(e) for e in error.errors] if isinstance(error, ValidationFailed) else []


def _answer(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.model_dump(exclude_defaults=True), status_code=problem.status,
                        media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(CampaignsError)
    async def _known(request: Request, error: CampaignsError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(ValidationError)
    async def _model(request: Request, error: ValidationError) -> JSONResponse:
        return problem_response(ValidationFailed.of(field_errors(error)))

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(ValidationFailed.of([_field_error(e) for e in error.errors()]))

    @app.exception_handler(HTTPException)
    async def _framework(request: Request, error: HTTPException) -> JSONResponse:
        return _framework_problem(request, error)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            return declare_answers(generate())  # generate() keeps it as app.openapi_schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _field_error(e: dict) -> dict[str, str]:
    if e["type"] == "json_invalid":  # loc is ("body", character position): say so in words
        return {"field": "(body)", "message": f"not valid JSON at character {e['loc'][-1]} "
                                              f"({e.get('ctx', {}).get('error', e['msg'])}); send one JSON object"}
    return {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "(body)",
            "message": str(e["msg"]).removeprefix("Value error, ")}


def _framework_problem(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own refusals as problems; a 405 names every method the path allows (``Allow``), not
    only those of the first route that matched it."""
    where = f"{request.method} {request.url.path}"
    if error.status_code == 404:
        return problem_response(NotFound(f"no such endpoint: {where}; the API's operations are listed at /docs"))
    headers = dict(error.headers or {})
    if error.status_code == 405:
        allowed = _allowed_methods(request) or [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed on {request.url.path}; use {' or '.join(allowed)}"
    elif error.status_code == 400:  # FastAPI could not decode the body (not UTF-8, say)
        detail = f"the body could not be read ({error.detail.lower()}); send one JSON object in UTF-8"
    else:
        detail = f"{where}: {error.detail}"
    title = HTTPStatus(error.status_code).phrase
    return _answer(Problem(type=PROBLEM_BASE + title.lower().replace(" ", "-"), title=title, status=error.status_code,
                           detail=detail), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the description gives the request's path (the framework names only those of the
    first route it matched: GET on /v1/campaigns, though POST is there too)."""
    found: set[str] = set()
    for template, item in request.app.openapi()["paths"].items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}/]+\}", template))
        if re.fullmatch(pattern, request.url.path):
            found.update(method.upper() for method in item if method in _METHODS)
    return sorted(found)


_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


# The description -------------------------------------------------------------------------------------------
ANSWERS = {
    400: "The body could not be read",
    401: "No user, or one who is not a user of the workspace",
    403: "The caller's role does not allow it",
    404: "Something it names does not exist",
    409: "Not possible in the current status, or changed by someone else since it was read (stale revision)",
    413: "The request body is over the documented limit",
    422: "Invalid input: each field's error is listed",
}


def answers(method: str, path: str, operation: dict) -> list[int]:
    """The refusals one operation can give, from what it takes: every operation is authenticated and
    role-checked; one that names something in its path can miss it; one with a body can fail to parse it,
    find it too large or invalid, and name things that do not exist; one that changes something can conflict."""
    body = "requestBody" in operation
    codes = [401, 403]
    if any(p["in"] == "path" for p in operation.get("parameters", [])) or body:
        codes.append(404)
    if method != "get":
        codes.append(409)
    if body:
        codes += [400, 413] if path not in UNBOUNDED_PATHS else [400]
    if body or operation.get("parameters"):
        codes.append(422)
    return codes


def declare_answers(description: dict) -> dict:
    """Add the problem answers to every operation of a generated description (in place), replacing the
    framework's 422 schema, which our handler never sends."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = description.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["Problem"] = schema
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in description.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in answers(method, path, operation):
                responses[str(status)] = {"description": ANSWERS[status], "content": content}
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return description
