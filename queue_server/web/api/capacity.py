"""Capacity: how full the office is, people counted in and out at the door, the capacity itself."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import commands as cmd
from queue_server.web.api.common import answer, json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import int_field, read_object
from queue_server.web.errors import ApiError


async def get_occupancy(request: Request) -> Response:
    return json_response(service(request).occupancy())


async def _door(request: Request, make: type[cmd.DoorEnter] | type[cmd.DoorExit]) -> Response:
    who = require(request, "door")
    data = await read_object(request, {"count"})
    count = int_field(data, "count", "invalid_count")
    if count < 1 or count > 100_000:
        raise ApiError(422, "invalid_count", "count must be between 1 and 100000")
    return answer(await service(request).execute(make(count), actor=who.username))


async def door_enter(request: Request) -> Response:
    return await _door(request, cmd.DoorEnter)


async def door_exit(request: Request) -> Response:
    return await _door(request, cmd.DoorExit)


async def set_capacity(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"capacity"})
    capacity = int_field(data, "capacity", "invalid_capacity")
    return answer(await service(request).execute(cmd.SetCapacity(capacity), actor=who.username))
