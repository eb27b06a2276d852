"""Counters (role officer): call the next or a given number, recall, serve, finish, no-show,
transfer, undo, open and close."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import commands as cmd
from queue_server.web.api.common import answer, idempotency_key, json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import optional_string, read_object, string_field
from queue_server.web.errors import ApiError

ExpectingStep = type[cmd.Recall] | type[cmd.Serve] | type[cmd.Finish] | type[cmd.NoShow]


async def list_counters(request: Request) -> Response:
    return json_response(service(request).counters_view())


def _counter_id(request: Request) -> str:
    counter_id: str = request.path_params["counter"]
    if not service(request).has_counter(counter_id):
        raise ApiError(404, "unknown_counter", f"there is no counter {counter_id!r}")
    return counter_id


async def _run(request: Request, command: cmd.Command, scope: str | None = None) -> Response:
    """Run a counter step as the officer making the request (it is audited under that account)."""
    who = require(request, "officer")
    idem = idempotency_key(request, scope) if scope else None
    return answer(await service(request).execute(command, idem, actor=who.username))


async def call_next(request: Request) -> Response:
    who = require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    return await _run(request, cmd.CallNext(counter_id, who.username), f"call-next:{counter_id}")


async def call_number(request: Request) -> Response:
    who = require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"number"})
    number = string_field(data, "number", max_length=10)
    return await _run(request, cmd.CallNumber(counter_id, number, who.username), f"call:{counter_id}")


def _expected_ticket(data: dict[str, Any]) -> int | None:
    if data.get("ticket") is None:
        return None
    value = data["ticket"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, "invalid_request", "field 'ticket' must be a ticket id")
    return value


async def _step(request: Request, make: ExpectingStep, step: str) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"ticket"}, empty_ok=True)
    return await _run(request, make(counter_id, _expected_ticket(data)), f"{step}:{counter_id}")


async def recall(request: Request) -> Response:
    return await _step(request, cmd.Recall, "recall")


async def serve(request: Request) -> Response:
    return await _step(request, cmd.Serve, "serve")


async def finish(request: Request) -> Response:
    return await _step(request, cmd.Finish, "finish")


async def no_show(request: Request) -> Response:
    return await _step(request, cmd.NoShow, "no-show")


async def transfer(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"service", "ticket"})
    command = cmd.Transfer(counter_id, string_field(data, "service"), _expected_ticket(data))
    return await _run(request, command, f"transfer:{counter_id}")


async def undo(request: Request) -> Response:
    """Take back the counter's last step (a stray key): the tickets as they were before it."""
    require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    return await _run(request, cmd.Undo(counter_id), f"undo:{counter_id}")


async def open_counter(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    await read_object(request, set(), empty_ok=True)
    return await _run(request, cmd.OpenCounter(counter_id))


async def close_counter(request: Request) -> Response:
    require(request, "officer")
    counter_id = _counter_id(request)
    data = await read_object(request, {"reason"}, empty_ok=True)
    reason = optional_string(data, "reason", max_length=40)
    return await _run(request, cmd.CloseCounter(counter_id, reason))
