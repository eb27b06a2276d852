"""The supervisor's hand on the live queue (role admin): cancel, reactivate, transfer; the day's tickets."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import supervise
from queue_server.domain.tickets import Status
from queue_server.web.api.common import answer, json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError


def _ticket_id(request: Request) -> int:
    raw: str = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "unknown_ticket", "no such ticket")
    return int(raw)


async def cancel(request: Request) -> Response:
    who = require(request, "admin")
    ticket_id = _ticket_id(request)
    await read_object(request, set(), empty_ok=True)
    return answer(await service(request).execute(supervise.SupervisorCancel(ticket_id), actor=who.username))


async def reactivate(request: Request) -> Response:
    who = require(request, "admin")
    ticket_id = _ticket_id(request)
    await read_object(request, set(), empty_ok=True)
    return answer(await service(request).execute(supervise.Reactivate(ticket_id), actor=who.username))


async def transfer(request: Request) -> Response:
    who = require(request, "admin")
    ticket_id = _ticket_id(request)
    data = await read_object(request, {"service"})
    target = string_field(data, "service", max_length=64)
    command = supervise.SupervisorTransfer(ticket_id, target)
    return answer(await service(request).execute(command, actor=who.username))


async def list_tickets(request: Request) -> Response:
    require(request, "admin")
    office = service(request)
    day = request.query_params.get("day", office.day)
    try:
        day = date.fromisoformat(day).isoformat()
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "day must be a YYYY-MM-DD date") from exc
    status = request.query_params.get("status")
    if status is not None and status not in set(Status):
        raise ApiError(422, "invalid_request", f"status must be one of {', '.join(Status)}")
    wanted = request.query_params.get("service")
    views = (
        office.live_views()
        if day == office.day
        else [t.as_dict(None) for t in await office.store.tickets_of_day(day)]
    )
    views = [
        v
        for v in views
        if (status is None or v["status"] == status) and (wanted is None or v["service"] == wanted)
    ]
    return json_response(views)
