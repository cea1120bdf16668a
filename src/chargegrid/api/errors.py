"""The one place that turns failures into HTTP status codes and JSON error bodies."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from chargegrid.domain.errors import DomainError, ErrorKind

_STATUS = {
    ErrorKind.NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorKind.CONFLICT: HTTPStatus.CONFLICT,
    ErrorKind.INVALID: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorKind.FORBIDDEN: HTTPStatus.FORBIDDEN,
}


def error_body(status: int, message: str, details: object = None) -> JSONResponse:
    body: dict[str, object] = {"error": {"status": status, "message": message}}
    if details is not None:
        body["error"] = {**body["error"], "details": details}  # type: ignore[dict-item]
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        details = None
        if error.field is not None:
            location = ".".join(part for part in ("body", error.field) if part)
            details = [{"location": location, "message": error.message}]
        return error_body(_STATUS[error.kind], error.message, details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        response = error_body(error.status_code, str(error.detail))
        if error.headers:
            response.headers.update(error.headers)
        return response

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, error: IntegrityError) -> JSONResponse:
        # A concurrent request created the same record between our check and our insert
        # (PostgreSQL; SQLite serialises writers, so the service's own check answers there).
        return error_body(HTTPStatus.CONFLICT, "conflicts with an existing record")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        # Still logged with its traceback by the server; the client gets JSON, not text.
        return error_body(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; see the server log")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "location": ".".join(str(part) for part in problem["loc"]),
                "message": problem["msg"],
            }
            for problem in error.errors()
        ]
        summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        return error_body(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: {summary}", problems)
