"""Logging in and out through the API (bearer tokens)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server.engine.accounts import PASSWORD_MAX, USERNAME_MAX, InvalidCredentials, Throttled
from queue_server.web.api.common import json_response
from queue_server.web.auth import client_address, require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError
from queue_server.web.state import antre


def throttled(exc: Throttled) -> ApiError:
    unit = "second" if exc.wait == 1 else "seconds"
    return ApiError(
        429,
        "too_many_attempts",
        f"too many failed logins; try again in {exc.wait} {unit}",
        {"Retry-After": str(exc.wait)},
    )


async def login(request: Request) -> Response:
    data = await read_object(request, {"username", "password"})
    username = string_field(data, "username", max_length=USERNAME_MAX)
    password = string_field(data, "password", max_length=PASSWORD_MAX)
    try:
        session = await antre(request).accounts.log_in(username, password, client_address(request))
    except Throttled as exc:
        raise throttled(exc) from exc
    except InvalidCredentials as exc:
        raise ApiError(401, "invalid_credentials", "wrong username or password") from exc
    return json_response(
        {
            "token": session.token,
            "username": session.username,
            "role": session.role,
            "expires_in": session.expires_in,
        }
    )


async def logout(request: Request) -> Response:
    who = require(request, "officer", "door")
    await antre(request).accounts.log_out(who)
    return json_response({"status": "logged_out"})


async def me(request: Request) -> Response:
    who = require(request, "officer", "door")
    return json_response({"username": who.username, "role": who.role})
