"""The one place where errors become HTTP answers: RFC 9457 problem details for FastAPI apps."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from zistboom.core.errors import PROBLEM_BASE, ValidationError, ZistboomError

log = logging.getLogger("zistboom.problems")
PROBLEM_JSON = "application/problem+json"


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
    """Turn our exceptions, request validation errors and HTTP errors into problem details."""

    @app.exception_handler(ZistboomError)
    async def _zistboom_error(request: Request, error: ZistboomError) -> JSONResponse:
        if error.status >= 500:
            log.error("request failed: %s", error.detail)
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return problem_response(error.to_problem(instance=request.url.path), headers)

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
        return problem_response(
            {
                "type": PROBLEM_BASE + f"http-{error.status_code}",
                "title": str(error.detail),
                "status": error.status_code,
                "detail": str(error.detail),
                "instance": request.url.path,
            }
        )
