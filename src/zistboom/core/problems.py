"""The one place where errors become HTTP answers: RFC 9457 problem details for FastAPI apps."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from zistboom.core.errors import (
    PROBLEM_BASE,
    MethodNotAllowedError,
    ValidationError,
    ZistboomError,
)

log = logging.getLogger("zistboom.problems")
PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"


class ProblemField(BaseModel):
    """One offending input of a refused request."""

    field: str = Field(description="the input, e.g. 'code', 'limit' or 'endpoints.0.method'")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem-details document; more members may follow (``extra``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI of the problem type")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="what was wrong and what to do")
    instance: str | None = Field(default=None, description="the request path")
    errors: list[ProblemField] | None = Field(
        default=None, description="the offending inputs, each with its own message"
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, each a problem document."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status in statuses
    }


def install_problem_schema(app: FastAPI) -> None:
    """Publish :class:`Problem` in the app's OpenAPI components, where every error response
    of :func:`problem_responses` points."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def problem_response(
    problem: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON, headers=headers
    )


def _field_of(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "request")


def install_problem_handlers(app: FastAPI) -> None:
    """Turn our exceptions, request validation errors and HTTP errors into problem details,
    and publish the problem schema in the OpenAPI document."""
    install_problem_schema(app)

    @app.exception_handler(ZistboomError)
    async def _zistboom_error(request: Request, error: ZistboomError) -> JSONResponse:
        if error.status >= 500:
            log.error("request failed: %s", error.detail)
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        if isinstance(error, MethodNotAllowedError):
            headers["Allow"] = ", ".join(error.allow)
        return problem_response(error.to_problem(instance=request.url.path), headers or None)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        problem = ValidationError(detail or "invalid request").to_problem(request.url.path)
        problem["errors"] = errors
        return problem_response(problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Keep the router's headers; a 405's Allow lists every route of the path, not only
        # the first one the router tried (RFC 9110 §15.5.6).
        headers = dict(error.headers) if error.headers else {}
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(
            {
                "type": PROBLEM_BASE + f"http-{error.status_code}",
                "title": str(error.detail),
                "status": error.status_code,
                "detail": str(error.detail),
                "instance": request.url.path,
            },
            headers or None,
        )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app would take on this path (asked of the routes, which
    FastAPI may nest in included routers, rather than read from their attributes)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
