"""Tickets (no login): the services to choose from, issue, follow and cancel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import commands as cmd
from queue_server.domain.events import TicketView
from queue_server.domain.remote import normalize_phone
from queue_server.domain.tickets import Ticket
from queue_server.engine.accounts import token_hash
from queue_server.web.api import remote
from queue_server.web.api.common import answer, idempotency_key, json_response, service
from queue_server.web.api.kiosks import paired_kiosk
from queue_server.web.auth import client_address, principal
from queue_server.web.bodies import int_field, read_object, string_field
from queue_server.web.errors import ApiError
from queue_server.web.state import antre


async def list_services(request: Request) -> Response:
    return json_response(service(request).services_with_waiting())


async def issue_ticket(request: Request) -> Response:
    office = service(request)
    who = principal(request)
    data = await read_object(request, {"service", "party_size", *remote.REMOTE_FIELDS})
    service_id = string_field(data, "service")
    party_size = int_field(data, "party_size", "invalid_party_size", default=1)
    fields = remote.extras(data)
    kiosk = await paired_kiosk(request)
    # A key names one request of one client: someone else's key, or the same key with
    # another body, is a new request (and never hands over another visitor's token).
    address = client_address(request)
    if who is not None:
        client = f"user:{who.username}"
    elif kiosk is not None:
        client = f"kiosk:{kiosk}"
    else:
        client = f"address:{address}"
    # The remote kind, day and priority are part of the request (never the NIK or phone: scopes are stored).
    extra = f"|remote:{fields['date'] or ''}" if fields["remote"] else ""
    extra += f"|priority:{fields['priority']}" if fields["priority"] else ""
    idem = idempotency_key(request, f"tickets|{client}|{service_id}|{party_size}{extra}")
    # Only new tickets count: a retry of an answered request, or one that will be
    # refused anyway, must not use up the device's allowance.
    limited = who is None and kiosk is None and not office.is_repeat(idem) and office.has_service(service_id)
    if limited and not antre(request).ticket_limiter.allow(address):
        raise ApiError(
            429,
            "too_many_requests",
            "too many tickets from this device; please wait a minute or ask at the desk",
            {"Retry-After": "60"},
        )
    origin = "kiosk" if kiosk is not None else "door" if who is not None else "web"
    if fields["remote"]:
        return await remote.issue(request, fields, service_id, party_size, origin, idem, who)
    actor = who.username if who is not None else None
    phone = normalize_phone(fields["phone"]) if fields["phone"] is not None else None
    result = await office.issue_ticket(service_id, party_size, origin, idem, actor, fields["priority"], phone)
    return answer(result, created=True)


async def ticket_for_token(request: Request) -> tuple[Ticket, TicketView]:
    token: str = request.path_params["token"]
    found = await service(request).ticket_by_token_hash(token_hash(token)) if len(token) < 200 else None
    if found is None:
        raise ApiError(404, "unknown_ticket", "no ticket has this token")
    return found


async def get_ticket(request: Request) -> Response:
    return json_response((await ticket_for_token(request))[1])


async def cancel_ticket(request: Request) -> Response:
    office = service(request)
    ticket, _view = await ticket_for_token(request)
    if not office.is_live(ticket):
        raise ApiError(409, "ticket_not_cancellable", f"ticket {ticket.number} is {ticket.status}")
    return answer(await office.execute(cmd.CancelTicket(ticket.id)))
