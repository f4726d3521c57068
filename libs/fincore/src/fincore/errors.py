"""RFC 9457 problem+json for every error a service returns; nothing else leaves as an error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
BASE = "https://finance-suite.dev/problems/"


class Problem(BaseModel):
    """RFC 9457 problem details, as every error leaves a service (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


_WHEN = {400: "Malformed request (a body that is not JSON, a bad Content-Length)",
         401: "No valid bearer token", 403: "The token lacks the scope or the company",
         404: "No such resource (or it belongs to a company the token does not grant)",
         409: "Conflict with the current state, or an Idempotency-Key reused for another request",
         413: "Request body too large", 422: "Invalid request: the problem names the fields or the rule"}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
    for status, text in _WHEN.items()
}


class ProblemError(Exception):
    """A domain or request error with an HTTP status; subclasses name the problem type."""

    status: int = 400
    type_: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, status: int | None = None, type_: str | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        if status is not None:
            self.status = status
        if type_ is not None:
            self.type_ = type_
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(ProblemError):
    status, type_, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type_, title = 409, "conflict", "Conflict"


class Unprocessable(ProblemError):
    status, type_, title = 422, "unprocessable", "Unprocessable content"


def problem(status: int, title: str, detail: str, *, type_: str, instance: str = "",
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": BASE + type_, "title": title, "status": status, "detail": detail, **extra}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_response(exc: ProblemError, request: Request) -> JSONResponse:
    return problem(exc.status, exc.title, exc.detail, type_=exc.type_, instance=request.url.path,
                   headers=exc.headers, **exc.extra)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(422, "Invalid request", f"{len(errors)} field(s) failed validation",
                       type_="validation", instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail),
                       type_=f"http-{exc.status_code}", instance=request.url.path,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged",
                       type_="internal", instance=request.url.path)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
