"""Live administration (role admin): services, counters, opening hours, running text.

Each change runs through the office's writer like a counter step, so it answers
after it is committed, is audited with the admin's account and reaches every
screen as `config.changed`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import admin
from queue_server.domain.hours import HoursError, parse_hours
from queue_server.web.api.common import json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError

SERVICE_KEYS = {"id", "name", "prefix", "requirements", "standard_minutes", "fee", "open"}


def _service_json(request: Request, service_id: str) -> dict[str, Any]:
    found = next((s for s in service(request).services_view() if s["id"] == service_id), None)
    if found is None:  # pragma: no cover - the command just created or changed it
        raise ApiError(404, "unknown_service", f"there is no service {service_id!r}")
    return found


def _counter_json(request: Request, counter_id: str) -> dict[str, Any]:
    found = next((c for c in service(request).counters_view() if c["id"] == counter_id), None)
    if found is None:  # pragma: no cover - the command just created or changed it
        raise ApiError(404, "unknown_counter", f"there is no counter {counter_id!r}")
    return found


def _strings(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data[name]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(422, "invalid_request", f"field {name!r} must be a list of strings")
    return tuple(value)


def _optional_minutes(data: dict[str, Any]) -> int | None:
    value = data.get("standard_minutes")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ApiError(422, "invalid_request", "field 'standard_minutes' must be an integer or null")
    return value


def _bool(data: dict[str, Any], name: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise ApiError(422, "invalid_request", f"field {name!r} must be true or false")
    return value


def _text(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise ApiError(422, "invalid_request", f"field {name!r} must be a string")
    return value


async def create_service(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, SERVICE_KEYS)
    command = admin.CreateService(
        id=string_field(data, "id", max_length=64),
        name=string_field(data, "name", max_length=100),
        prefix=string_field(data, "prefix", max_length=2),
        requirements=_strings(data, "requirements") if "requirements" in data else (),
        standard_minutes=_optional_minutes(data),
        fee=_text(data, "fee") if "fee" in data else "",
        open=_bool(data, "open") if "open" in data else True,
    )
    await service(request).execute(command, actor=who.username)
    return json_response(_service_json(request, command.id), 201)


async def update_service(request: Request) -> Response:
    who = require(request, "admin")
    service_id: str = request.path_params["service"]
    data = await read_object(request, admin.SERVICE_FIELDS)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = string_field(data, "name", max_length=100)
    if "requirements" in data:
        changes["requirements"] = _strings(data, "requirements")
    if "standard_minutes" in data:
        changes["standard_minutes"] = _optional_minutes(data)
    if "fee" in data:
        changes["fee"] = _text(data, "fee")
    if "open" in data:
        changes["open"] = _bool(data, "open")
    await service(request).execute(
        admin.UpdateService(service_id, tuple(changes.items())), actor=who.username
    )
    return json_response(_service_json(request, service_id))


async def create_counter(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"id", "name", "services"})
    if "services" not in data:
        raise ApiError(422, "invalid_request", "field 'services' is required")
    command = admin.CreateCounter(
        id=string_field(data, "id", max_length=64),
        name=string_field(data, "name", max_length=100),
        services=_strings(data, "services"),
    )
    await service(request).execute(command, actor=who.username)
    return json_response(_counter_json(request, command.id), 201)


async def update_counter(request: Request) -> Response:
    who = require(request, "admin")
    counter_id: str = request.path_params["counter"]
    data = await read_object(request, admin.COUNTER_FIELDS)
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = string_field(data, "name", max_length=100)
    if "services" in data:
        changes["services"] = _strings(data, "services")
    await service(request).execute(
        admin.UpdateCounter(counter_id, tuple(changes.items())), actor=who.username
    )
    return json_response(_counter_json(request, counter_id))


async def get_hours(request: Request) -> Response:
    return json_response(service(request).hours_view())


async def put_hours(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(
        request, {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "closed_dates", "always_open"}
    )
    if data.pop("always_open", False) is True:
        hours = None
    else:
        try:
            hours = parse_hours(data)
        except HoursError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
    await service(request).execute(admin.SetHours(hours), actor=who.username)
    return json_response(service(request).hours_view())


async def get_running_text(request: Request) -> Response:
    return json_response({"running_text": service(request).office.state.running_text})


async def put_running_text(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"running_text"})
    if "running_text" not in data:
        raise ApiError(422, "invalid_request", "field 'running_text' is required")
    text = _text(data, "running_text")
    await service(request).execute(admin.SetRunningText(text), actor=who.username)
    return json_response({"running_text": text})
