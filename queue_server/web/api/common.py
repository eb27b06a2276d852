"""What every JSON endpoint shares: the answer, typed results to HTTP, Idempotency-Key."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from queue_server import wire
from queue_server.engine.results import (
    CounterResult,
    Nothing,
    NoTicket,
    OccupancyResult,
    Result,
    TicketResult,
    UndoResult,
)
from queue_server.engine.service import OfficeService
from queue_server.web.errors import ApiError
from queue_server.web.state import antre

IDEMPOTENCY_KEY_MAX = 200


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return wire.dumps_bytes(content)


def json_response(body: Any, status: int = 200) -> Response:
    if status == 204:
        return Response(status_code=204)
    return FastJSONResponse(body, status_code=status)


def service(conn: HTTPConnection) -> OfficeService:
    return antre(conn).service


def answer(result: Result, created: bool = False) -> Response:
    """A typed result as api-v1 answers it."""
    match result:
        case TicketResult():
            body = dict(result.ticket)
            if result.token is not None:
                body["token"] = result.token
            return json_response(body, 201 if created else 200)
        case NoTicket() | Nothing():
            return json_response(None, 204)
        case CounterResult():
            return json_response({"id": result.id, "open": result.open})
        case OccupancyResult():
            return json_response(result.occupancy)
        case UndoResult():
            return json_response(
                {
                    "undone": result.undone,
                    "counter": result.counter,
                    "current": result.current,
                    "tickets": result.tickets,
                }
            )


def idempotency_key(request: Request, scope: str) -> tuple[str, str] | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApiError(422, "invalid_request", "Idempotency-Key must be 1-200 printable characters")
    return scope, key
