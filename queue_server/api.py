"""Thin JSON endpoints under /api/v1: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from queue_server import __version__, auth, sessions
from queue_server import commands as cmd
from queue_server.bodies import int_field, optional_string, read_object, string_field
from queue_server.domain import Outcome
from queue_server.errors import ApiError
from queue_server.jsoncodec import FastJSONResponse
from queue_server.service import OfficeService
from queue_server.tickets import Ticket

IDEMPOTENCY_KEY_MAX = 200


def _service(request: Request) -> OfficeService:
    service: OfficeService = request.app.state.service
    return service


def _json(body: Any, status: int = 200) -> Response:
    if status == 204:
        return Response(status_code=204)
    return FastJSONResponse(body, status_code=status)


def principal(request: Request) -> auth.Principal | None:
    return sessions.principal(request, request.method)


def require(request: Request, *roles: str) -> auth.Principal:
    who = principal(request)
    if who is None:
        raise ApiError(401, "unauthorized", "log in first (Authorization: Bearer <token>)")
    if not who.may(*roles):
        raise ApiError(403, "forbidden", f"the {who.role} role may not do this")
    return who


def idempotency_key(request: Request, scope: str) -> tuple[str, str] | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApiError(422, "invalid_request", "Idempotency-Key must be 1-200 printable characters")
    return scope, key


# ----- tickets ---------------------------------------------------------------------------


async def list_services(request: Request) -> Response:
    service = _service(request)
    waiting = service.office.waiting_counts()
    return _json([{**s, "waiting": waiting[s["id"]]} for s in service.services_view()])


async def issue_ticket(request: Request) -> Response:
    service = _service(request)
    who = principal(request)
    data = await read_object(request, {"service", "party_size"})
    service_id = string_field(data, "service")
    party_size = int_field(data, "party_size", "invalid_party_size", default=1)
    kiosk = paired_kiosk(request)
    # A key names one request of one client: someone else's key, or the same key with
    # another body, is a new request (and never hands over another visitor's token).
    address = sessions.client_address(request)
    if who is not None:
        client = f"user:{who.username}"
    elif kiosk is not None:
        client = f"kiosk:{kiosk}"
    else:
        client = f"address:{address}"
    idem = idempotency_key(request, f"tickets|{client}|{service_id}|{party_size}")
    # Only new tickets count: a retry of an answered request, or one that will be
    # refused anyway, must not use up the device's allowance.
    repeat = idem is not None and idem in service.idempotent
    limited = who is None and kiosk is None and not repeat and service_id in service.office.services
    if limited and not request.app.state.ticket_limiter.allow(address):
        raise ApiError(
            429,
            "too_many_requests",
            "too many tickets from this device; please wait a minute or ask at the desk",
            {"Retry-After": "60"},
        )
    token = auth.new_token()
    origin = "kiosk" if kiosk is not None else "door" if who is not None else "web"

    def respond(outcome: Outcome) -> tuple[int, Any]:
        ticket: Ticket = outcome.result
        return 201, {**service.office.view(ticket), "token": token}

    status, body = await service.execute(
        cmd.IssueTicket(service_id, party_size, auth.token_hash(token), origin), respond, idem
    )
    return _json(body, status)


def _ticket_for_token(request: Request) -> tuple[Ticket, dict[str, Any]]:
    token = request.path_params["token"]
    found = _service(request).ticket_by_token_hash(auth.token_hash(token)) if len(token) < 200 else None
    if found is None:
        raise ApiError(404, "unknown_ticket", "no ticket has this token")
    return found


async def get_ticket(request: Request) -> Response:
    return _json(_ticket_for_token(request)[1])


async def cancel_ticket(request: Request) -> Response:
    service = _service(request)
    ticket, _view = _ticket_for_token(request)
    if ticket.day != service.office.day or ticket.id not in service.office.tickets:
        raise ApiError(409, "ticket_not_cancellable", f"ticket {ticket.number} is {ticket.status}")
    status, body = await service.execute(
        cmd.CancelTicket(ticket.id), lambda outcome: (200, service.office.view(outcome.result))
    )
    return _json(body, status)


# ----- paired kiosks --------------------------------------------------------------------

KIOSK_COOKIE = "antre_kiosk"
KIOSK_HEADER = "x-kiosk-token"


def paired_kiosk(request: Request) -> str | None:
    """The name of the paired kiosk making this request, if it is one."""
    token = request.headers.get(KIOSK_HEADER) or request.cookies.get(KIOSK_COOKIE)
    if not token or len(token) > 200:
        return None
    return _service(request).storage.kiosk_by_token_hash(auth.token_hash(token))


async def pair_kiosk(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"name"})
    name = string_field(data, "name", max_length=64)
    token = auth.new_token()
    _service(request).storage.pair_kiosk(name, auth.token_hash(token), time_now_iso(request), who.username)
    return _json({"name": name, "token": token, "pair_url": f"/kiosk/pair?token={token}"}, 201)


async def list_kiosks(request: Request) -> Response:
    require(request, "admin")
    return _json(_service(request).storage.kiosks())


async def unpair_kiosk(request: Request) -> Response:
    require(request, "admin")
    name = request.path_params["name"]
    if not _service(request).storage.unpair_kiosk(name):
        raise ApiError(404, "unknown_kiosk", f"no kiosk named {name!r} is paired")
    return _json({"name": name, "paired": False})


async def kiosk_pair_page(request: Request) -> Response:
    """Opened once on the kiosk's own browser: remembers the device, then shows the kiosk."""
    token = request.query_params.get("token", "")
    if (
        not token
        or len(token) > 200
        or _service(request).storage.kiosk_by_token_hash(auth.token_hash(token)) is None
    ):
        raise ApiError(404, "unknown_kiosk", "this pairing link is not valid; ask the admin for a new one")
    response = RedirectResponse("/kiosk", status_code=303)
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=10 * 365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def time_now_iso(request: Request) -> str:
    return _service(request).now().isoformat(timespec="seconds")


# ----- capacity --------------------------------------------------------------------------


async def get_occupancy(request: Request) -> Response:
    return _json(_service(request).office.occupancy.as_dict())


async def _door(request: Request, make: type[cmd.DoorEnter] | type[cmd.DoorExit]) -> Response:
    require(request, "door")
    data = await read_object(request, {"count"})
    count = int_field(data, "count", "invalid_count")
    if count < 1 or count > 100_000:
        raise ApiError(422, "invalid_count", "count must be between 1 and 100000")
    status, body = await _service(request).execute(make(count), lambda outcome: (200, outcome.result))
    return _json(body, status)


async def door_enter(request: Request) -> Response:
    return await _door(request, cmd.DoorEnter)


async def door_exit(request: Request) -> Response:
    return await _door(request, cmd.DoorExit)


async def set_capacity(request: Request) -> Response:
    require(request, "admin")
    data = await read_object(request, {"capacity"})
    capacity = int_field(data, "capacity", "invalid_capacity")
    status, body = await _service(request).execute(
        cmd.SetCapacity(capacity), lambda outcome: (200, outcome.result)
    )
    return _json(body, status)


# ----- accounts --------------------------------------------------------------------------


async def login(request: Request) -> Response:
    data = await read_object(request, {"username", "password"})
    username = string_field(data, "username", max_length=auth.USERNAME_MAX)
    password = string_field(data, "password", max_length=auth.PASSWORD_MAX)
    session = await sessions.log_in(request, username, password)
    return _json(
        {
            "token": session.token,
            "username": session.username,
            "role": session.role,
            "expires_in": session.expires_in,
        }
    )


async def logout(request: Request) -> Response:
    who = require(request, "officer", "door")
    _service(request).storage.delete_session(who.token_hash)
    return _json({"status": "logged_out"})


async def me(request: Request) -> Response:
    who = require(request, "officer", "door")
    return _json({"username": who.username, "role": who.role})


# ----- counters --------------------------------------------------------------------------


async def list_counters(request: Request) -> Response:
    office = _service(request).office
    return _json([office.counter_view(c) for c in office.counters.values()])


def _counter_id(request: Request) -> str:
    counter_id: str = request.path_params["counter"]
    if counter_id not in _service(request).office.counters:
        raise ApiError(404, "unknown_counter", f"there is no counter {counter_id!r}")
    return counter_id


def _ticket_answer(service: OfficeService) -> Any:
    def respond(outcome: Outcome) -> tuple[int, Any]:
        if outcome.result is None:
            return 204, None
        return 200, service.office.view(outcome.result)

    return respond


async def _counter_command(request: Request, command: cmd.Command, scope: str | None = None) -> Response:
    service = _service(request)
    idem = idempotency_key(request, scope) if scope else None
    status, body = await service.execute(command, _ticket_answer(service), idem)
    return _json(body, status)


async def call_next(request: Request) -> Response:
    who = require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    return await _counter_command(request, cmd.CallNext(counter_id, who.username), f"call-next:{counter_id}")


async def call_number(request: Request) -> Response:
    who = require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"number"})
    number = string_field(data, "number", max_length=10)
    return await _counter_command(
        request, cmd.CallNumber(counter_id, number, who.username), f"call:{counter_id}"
    )


def _expected_ticket(data: dict[str, Any]) -> int | None:
    if data.get("ticket") is None:
        return None
    value = data["ticket"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, "invalid_request", "field 'ticket' must be a ticket id")
    return value


async def _simple_counter_step(request: Request, make: Any, step: str) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"ticket"}, empty_ok=True)
    return await _counter_command(request, make(counter_id, _expected_ticket(data)), f"{step}:{counter_id}")


async def recall(request: Request) -> Response:
    return await _simple_counter_step(request, cmd.Recall, "recall")


async def serve(request: Request) -> Response:
    return await _simple_counter_step(request, cmd.Serve, "serve")


async def finish(request: Request) -> Response:
    return await _simple_counter_step(request, cmd.Finish, "finish")


async def no_show(request: Request) -> Response:
    return await _simple_counter_step(request, cmd.NoShow, "no-show")


async def transfer(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"service", "ticket"})
    command = cmd.Transfer(counter_id, string_field(data, "service"), _expected_ticket(data))
    return await _counter_command(request, command, f"transfer:{counter_id}")


async def undo(request: Request) -> Response:
    """Take back the counter's last step (a stray key): the tickets as they were before it."""
    require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    service = _service(request)

    def respond(outcome: Outcome) -> tuple[int, Any]:
        result = outcome.result
        current = result["current"]
        return 200, {
            "undone": result["undone"],
            "counter": result["counter"],
            "current": service.office.view(current) if current is not None else None,
            "tickets": [service.office.view(t) for t in result["tickets"]],
        }

    idem = idempotency_key(request, f"undo:{counter_id}")
    status, body = await service.execute(cmd.Undo(counter_id), respond, idem)
    return _json(body, status)


def _counter_answer(outcome: Outcome) -> tuple[int, Any]:
    counter = outcome.result
    return 200, {"id": counter.id, "open": counter.open}


async def open_counter(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    status, body = await _service(request).execute(cmd.OpenCounter(counter_id), _counter_answer)
    return _json(body, status)


async def close_counter(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"reason"}, empty_ok=True)
    reason = optional_string(data, "reason", max_length=40)
    status, body = await _service(request).execute(cmd.CloseCounter(counter_id, reason), _counter_answer)
    return _json(body, status)


# ----- state and events ------------------------------------------------------------------


async def get_state(request: Request) -> Response:
    return _json(_service(request).snapshot())


def parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        since = int(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "since must be an integer") from exc
    if since < 0:
        raise ApiError(422, "invalid_request", "since must be 0 or more")
    return since


async def get_events(request: Request) -> Response:
    """Polling fallback for screens whose network blocks WebSockets."""
    service = _service(request)
    since = parse_since(request.query_params.get("since"))
    missed = service.hub.since(since) if since is not None else None
    if missed is None:
        snapshot = service.snapshot()
        return _json({"seq": snapshot["seq"], "snapshot": snapshot, "events": []})
    # A page of at most 1000 events; the client asks again from the last one it got.
    page = missed[:1000]
    return _json({"seq": service.hub.last_seq, "events": [e.as_dict() for e in page]})


async def healthz(request: Request) -> Response:
    service = _service(request)
    if not service.accepting:
        raise ApiError(503, "shutting_down", "the server is not accepting work")
    return _json({"status": "ok", "version": __version__})


ROUTES = [
    Route("/healthz", healthz),
    Route("/api/v1/services", list_services),
    Route("/api/v1/tickets", issue_ticket, methods=["POST"]),
    Route("/api/v1/tickets/{token}", get_ticket, methods=["GET"]),
    Route("/api/v1/tickets/{token}", cancel_ticket, methods=["DELETE"]),
    Route("/api/v1/occupancy", get_occupancy),
    Route("/api/v1/occupancy/enter", door_enter, methods=["POST"]),
    Route("/api/v1/occupancy/exit", door_exit, methods=["POST"]),
    Route("/api/v1/capacity", set_capacity, methods=["PUT"]),
    Route("/api/v1/login", login, methods=["POST"]),
    Route("/api/v1/logout", logout, methods=["POST"]),
    Route("/api/v1/me", me),
    Route("/api/v1/counters", list_counters),
    Route("/api/v1/counters/{counter}/call-next", call_next, methods=["POST"]),
    Route("/api/v1/counters/{counter}/call", call_number, methods=["POST"]),
    Route("/api/v1/counters/{counter}/recall", recall, methods=["POST"]),
    Route("/api/v1/counters/{counter}/serve", serve, methods=["POST"]),
    Route("/api/v1/counters/{counter}/finish", finish, methods=["POST"]),
    Route("/api/v1/counters/{counter}/no-show", no_show, methods=["POST"]),
    Route("/api/v1/counters/{counter}/transfer", transfer, methods=["POST"]),
    Route("/api/v1/counters/{counter}/undo", undo, methods=["POST"]),
    Route("/api/v1/counters/{counter}/open", open_counter, methods=["POST"]),
    Route("/api/v1/counters/{counter}/close", close_counter, methods=["POST"]),
    Route("/api/v1/kiosks", pair_kiosk, methods=["POST"]),
    Route("/api/v1/kiosks", list_kiosks, methods=["GET"]),
    Route("/api/v1/kiosks/{name}", unpair_kiosk, methods=["DELETE"]),
    Route("/kiosk/pair", kiosk_pair_page),
    Route("/api/v1/state", get_state),
    Route("/api/v1/events", get_events),
]
