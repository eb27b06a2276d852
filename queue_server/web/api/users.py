"""Accounts and the audit trail (role admin). Answers never carry a password or a hash."""

from __future__ import annotations

import json
from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from queue_server.engine.accounts import PASSWORD_MAX, PASSWORD_MIN, ROLES, USERNAME_MAX
from queue_server.web.api.common import json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError
from queue_server.web.state import antre


def _role(value: object) -> str:
    if not isinstance(value, str) or value not in ROLES:
        raise ApiError(422, "invalid_request", f"role must be one of {', '.join(ROLES)}")
    return value


def _password(value: object) -> str:
    if not isinstance(value, str) or not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise ApiError(422, "invalid_request", f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    return value


def _username(data: dict[str, object]) -> str:
    name = string_field(data, "username", max_length=USERNAME_MAX)  # type: ignore[arg-type]
    if not name.isprintable() or name.strip() != name:
        raise ApiError(422, "invalid_request", "username must be printable, without spaces at either end")
    return name


def _now(request: Request) -> str:
    return service(request).now().isoformat(timespec="seconds")


async def list_users(request: Request) -> Response:
    require(request, "admin")
    return json_response(await antre(request).accounts.users())


async def create_user(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"username", "role", "password"})
    username = _username(data)
    role = _role(data.get("role"))
    password = _password(data.get("password"))
    if not await antre(request).accounts.create_user(username, role, password, _now(request), who.username):
        raise ApiError(409, "user_exists", f"there is already an account {username!r}")
    return json_response({"username": username, "role": role, "disabled": False}, 201)


async def update_user(request: Request) -> Response:
    who = require(request, "admin")
    username: str = request.path_params["username"]
    data = await read_object(request, {"role", "password", "disabled"})
    role = _role(data["role"]) if "role" in data else None
    password = _password(data["password"]) if "password" in data else None
    disabled = data.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise ApiError(422, "invalid_request", "disabled must be true or false")
    updated = await antre(request).accounts.update_user(
        username, _now(request), who.username, role=role, password=password, disabled=disabled
    )
    if updated is None:
        raise ApiError(404, "unknown_user", f"there is no account {username!r}")
    return json_response(updated)


def _day(request: Request, name: str, default: str) -> str:
    value = request.query_params.get(name, default)
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise ApiError(422, "invalid_period", f"{name} must be a YYYY-MM-DD date") from exc


async def audit(request: Request) -> Response:
    require(request, "admin")
    today = service(request).day
    first = _day(request, "from", today)
    last = _day(request, "to", first if "from" in request.query_params else today)
    if first > last:
        raise ApiError(422, "invalid_period", "from is after to")
    entries = await service(request).store.audit(first, last)
    for entry in entries:
        # Stored as JSON text; answered as the object it is.
        entry["detail"] = json.loads(entry["detail"]) if entry["detail"] else {}
    return json_response({"entries": entries})
