"""Every error leaves the server in one shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from queue_server.domain.errors import Conflict, DomainError, Invalid, Limited, NotFound
from queue_server.engine.errors import Unavailable
from queue_server.web.headers import SECURITY_HEADERS
from queue_server.web.i18n import Catalogs, choose_language

log = logging.getLogger(__name__)

DOMAIN_STATUS: dict[type[DomainError], int] = {NotFound: 404, Invalid: 422, Conflict: 409, Limited: 429}
"""Each kind of refusal has one status; the code inside says which refusal it is."""


def domain_status(error: DomainError) -> int:
    return next((status for kind, status in DOMAIN_STATUS.items() if isinstance(error, kind)), 409)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


LOCALIZED = frozenset(
    {
        "remote_disabled",
        "remote_quota_reached",
        "invalid_date",
        "invalid_nik",
        "nik_required",
        "nik_has_active_ticket",
        "invalid_phone",
        "too_many_active",
        "unknown_priority",
        "not_remote",
        "booked_for_another_day",
        "rejoin_not_allowed",
        "checkin_at_entrance",
    }
)
"""api-remote's codes: their message is built from the code and details in the visitor's language
(`?lang=`, the language cookie, else the office's), from messages/{id,en}.json `error.<code>`."""
_CATALOGS = Catalogs()


def localized_message(request: Request, code: str, details: dict[str, Any] | None) -> str:
    """`error.<code>` (or `error.<code>.<reason>`) in the request's language, filled from `details`."""
    config = getattr(getattr(request.state, "antre", None), "config", None)
    lang = choose_language(request, getattr(config, "language", "id"))
    translate = _CATALOGS.translator(lang)
    params = {k: v for k, v in (details or {}).items() if isinstance(v, str | int)}
    reason = params.get("reason")
    if isinstance(reason, str) and translate.has(f"error.{code}.{reason}"):
        return translate(f"error.{code}.{reason}", **params)
    return translate(f"error.{code}", **params)


class BodyTooLarge(Exception):
    """Raised while reading a request body that passes the size limit."""


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details and "opens_at" in details:
        error["opens_at"] = details["opens_at"]  # api-office: office_closed carries it in the error itself
    if details:
        error["details"] = details  # facts for the screen's own wording (docs/protocol.md)
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def on_api_error(request: Request, exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def on_domain_error(request: Request, exc: DomainError) -> Response:
    message = localized_message(request, exc.code, exc.details) if exc.code in LOCALIZED else exc.message
    return error_response(domain_status(exc), exc.code, message, details=exc.details)


async def on_unavailable(request: Request, exc: Unavailable) -> Response:
    return error_response(503, exc.code, exc.message, {"Retry-After": "2"})


async def on_body_too_large(request: Request, exc: Exception) -> Response:
    return error_response(413, "body_too_large", "the request body is larger than 64 KiB")


async def on_http_exception(request: Request, exc: HTTPException) -> Response:
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 404:
        message = f"no such page or endpoint: {request.url.path}"
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Starlette answers this one outside our middleware, so add the security headers here.
    response = error_response(500, "internal_error", "something went wrong on the server; it was logged")
    for name, value in SECURITY_HEADERS:
        response.headers[name.decode()] = value.decode()
    return response


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: on_api_error,
    DomainError: on_domain_error,
    Unavailable: on_unavailable,
    BodyTooLarge: on_body_too_large,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
