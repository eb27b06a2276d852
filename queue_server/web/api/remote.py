"""api-remote over HTTP: remote tickets and bookings, check-in at the entrance, rejoin after a
missed call. The rules live in domain/remote.py and domain/rejoin.py; this module only reads
bodies, decides who is asking, and words the refusals in the visitor's language."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import commands as cmd
from queue_server.domain.tickets import Ticket
from queue_server.engine import idempotency
from queue_server.engine.accounts import Principal, token_hash
from queue_server.engine.remote import issue_remote
from queue_server.web.api.common import answer, service
from queue_server.web.api.kiosks import paired_kiosk
from queue_server.web.auth import client_address, principal, require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError, localized_message
from queue_server.web.state import cookie_path

REMOTE_FIELDS = frozenset({"remote", "date", "nik", "phone", "priority"})
"""What POST /api/v1/tickets takes beyond api-v1 (api-remote)."""
DEVICE_COOKIE = "antre_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600


def extras(data: dict[str, Any]) -> dict[str, Any]:
    """The api-remote fields of an issue body, type-checked (422 invalid_request otherwise)."""
    remote = data.get("remote", False)
    if not isinstance(remote, bool):
        raise ApiError(422, "invalid_request", "field 'remote' must be true or false")
    found: dict[str, Any] = {"remote": remote or "date" in data}
    if remote is False and "remote" in data and "date" in data:
        raise ApiError(422, "invalid_request", "field 'date' is for remote tickets")
    for name in ("date", "nik", "phone", "priority"):
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 64):
            raise ApiError(422, "invalid_request", f"field {name!r} must be a string")
        found[name] = value
    if found["nik"] is not None and not found["remote"]:
        raise ApiError(422, "invalid_request", "field 'nik' is for remote tickets")
    return found


async def issue(
    request: Request,
    fields: dict[str, Any],
    service_id: str,
    party_size: int,
    origin: str,
    idem: idempotency.Key | None,
    who: Principal | None,
) -> Response:
    """POST /api/v1/tickets with "remote": true (or a date): a remote or booked ticket."""
    device, new_device = None, False
    if who is None and origin == "web":
        device = request.cookies.get(DEVICE_COOKIE)
        if not device or len(device) > 64:
            device, new_device = secrets.token_urlsafe(24), True
    limited = who is None and origin == "web"
    result = await issue_remote(
        service(request),
        service=service_id,
        party_size=party_size,
        date=fields["date"],
        nik=fields["nik"],
        phone=fields["phone"],
        priority=fields["priority"],
        device=device,
        address=client_address(request) if limited else None,
        idempotency_key=idem,
        actor=who.username if who is not None else None,
    )
    response = answer(result, created=True)
    if new_device and device is not None:
        # The per-device limit of active remote tickets (api-remote) follows this cookie.
        response.set_cookie(
            DEVICE_COOKIE,
            device,
            max_age=DEVICE_COOKIE_SECONDS,
            path=cookie_path(request),
            httponly=True,
            samesite="lax",
        )
    return response


async def _ticket(request: Request) -> Ticket:
    """The ticket of the token in the path: today's, a booking, or an older one (404 if none)."""
    token: str = request.path_params["token"]
    office = service(request)
    if len(token) >= 200:
        raise ApiError(404, "unknown_ticket", localized_message(request, "unknown_ticket", {}))
    found = office.live_ticket(token_hash(token))
    if found is None:
        older = await office.ticket_by_token_hash(token_hash(token))
        if older is None:
            raise ApiError(404, "unknown_ticket", localized_message(request, "unknown_ticket", {}))
        found = older[0]
    return found


async def check_in_by_token(request: Request) -> Response:
    """POST /api/v1/tickets/{token}/check-in: only at the entrance (a paired kiosk, door or admin)."""
    who = principal(request)
    kiosk = await paired_kiosk(request)
    if kiosk is None and (who is None or not who.may("door")):
        raise ApiError(403, "checkin_at_entrance", localized_message(request, "checkin_at_entrance", {}))
    await read_object(request, set(), empty_ok=True)
    ticket = await _ticket(request)
    office = service(request)
    if not office.is_live(ticket):
        details = {"number": ticket.number, "status": str(ticket.status)}
        raise ApiError(409, "not_remote", localized_message(request, "not_remote", details))
    actor = who.username if who is not None else None
    return answer(await office.execute(cmd.CheckIn(ticket_id=ticket.id), actor=actor))


async def check_in_by_number(request: Request) -> Response:
    """POST /api/v1/check-in {"number"}: the door keeper checks a visitor in by today's number."""
    who = require(request, "door")
    data = await read_object(request, {"number"})
    number = string_field(data, "number", max_length=16)
    return answer(await service(request).execute(cmd.CheckIn(number=number), actor=who.username))


async def rejoin_by_token(request: Request) -> Response:
    """POST /api/v1/tickets/{token}/rejoin: the visitor who missed their call comes back."""
    await read_object(request, set(), empty_ok=True)
    ticket = await _ticket(request)
    office = service(request)
    if not office.is_live(ticket):
        details = {"number": ticket.number, "status": str(ticket.status), "reason": "not_today"}
        raise ApiError(409, "rejoin_not_allowed", localized_message(request, "rejoin_not_allowed", details))
    return answer(await office.execute(cmd.Rejoin(ticket_id=ticket.id)))


async def rejoin_by_number(request: Request) -> Response:
    """POST /api/v1/rejoin {"number"}: staff put a missed call back in the queue."""
    who = require(request, "door", "officer")
    data = await read_object(request, {"number"})
    number = string_field(data, "number", max_length=16)
    return answer(await service(request).execute(cmd.Rejoin(number=number), actor=who.username))
