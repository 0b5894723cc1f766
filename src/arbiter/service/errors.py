"""How the API answers an error: one JSON body for every kind (:class:`ErrorBody`), never
a traceback.

An :class:`~arbiter.domain.errors.ArbiterError` answers with its class's ``http_status``
(422 bad input or an infeasible problem, 429 busy, 503 the store, 500 the solver) and its
one-paragraph message, file and field; a request FastAPI cannot validate answers 422
naming the parameter; :class:`ApiError` (401, 403, 404, 409, 413) carries its own status.
Anything else is a bug: 500, the traceback in the server's log only.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from arbiter.domain.errors import ArbiterError, InputError
from arbiter.service.models import ErrorBody

__all__ = ["ERRORS", "ApiError", "error_body", "install_error_handlers", "status_name"]

_log = logging.getLogger("arbiter.service")

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422, 503)
}
"""The error answers every authenticated route documents (its own come on top)."""


class ApiError(HTTPException):
    """An answer other than success that is not bad input: not authenticated (401), not
    allowed (403), not found (404), not ready (409), too large (413)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers=dict(headers or {}))
        self.message = message
        self.field = field


def status_name(status: int) -> str:
    """The HTTP status in words, as an error name: 404 -> ``NotFound``."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return "".join(w.capitalize() for w in phrase.replace("-", " ").split())


def error_body(
    error: str,
    message: str,
    *,
    field: str | None = None,
    file: str | None = None,
    valid: str | None = None,
) -> dict[str, Any]:
    """The JSON document of an error answer."""
    body = ErrorBody(error=error, message=message, field=field, file=file, valid=valid)
    return body.model_dump(mode="json")


def _answer(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def _arbiter_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArbiterError)
    status = int(getattr(type(exc), "http_status", 500))
    if isinstance(exc, InputError):
        body = error_body(
            type(exc).__name__, str(exc), field=exc.field, file=exc.file, valid=exc.valid
        )
    else:
        body = error_body(type(exc).__name__, str(exc))
    if status >= 500:
        _log.error("%s: %s", type(exc).__name__, exc)
    return _answer(status, body)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    field = exc.field if isinstance(exc, ApiError) else None
    body = error_body(status_name(exc.status_code), str(exc.detail), field=field)
    return _answer(exc.status_code, body, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems: Sequence[Any] = exc.errors()
    first = problems[0] if problems else {}
    where = _where(first.get("loc", ()))
    shown = [f"{_where(p.get('loc', ()))}: {p.get('msg', 'invalid')}" for p in problems[:5]]
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    message = f"the request is not valid: {'; '.join(shown)}{more}".rstrip(": ")
    return _answer(422, error_body("InputError", message, field=where or None))


def _where(loc: Sequence[Any]) -> str:
    """A validation error's location as a field path: ``query.limit``, ``body.fleet``."""
    parts = [str(p) for p in loc]
    path = ""
    for p in parts:
        path += f"[{p}]" if p.isdigit() and path else (f".{p}" if path else p)
    return path


async def _bug(_request: Request, exc: Exception) -> JSONResponse:
    _log.error("internal error", exc_info=exc)
    message = (
        f"internal error ({type(exc).__name__}): a bug in arbiter; the server's log has the details"
    )
    return _answer(500, error_body("InternalError", message))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with an :class:`ErrorBody`."""
    app.add_exception_handler(ArbiterError, _arbiter_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _bug)
