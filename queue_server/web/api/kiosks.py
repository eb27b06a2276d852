"""Paired kiosks: a device the admin paired is never rate-limited (api-v1 extension, docs/protocol.md)."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from queue_server.web.api.common import json_response, service
from queue_server.web.auth import require
from queue_server.web.bodies import read_object, string_field
from queue_server.web.errors import ApiError
from queue_server.web.state import antre, base_path, cookie_path

KIOSK_COOKIE = "antre_kiosk"
KIOSK_HEADER = "x-kiosk-token"


async def paired_kiosk(conn: HTTPConnection) -> str | None:
    """The name of the paired kiosk making this request, if it is one."""
    token = conn.headers.get(KIOSK_HEADER) or conn.cookies.get(KIOSK_COOKIE)
    if not token or len(token) > 200:
        return None
    return await antre(conn).accounts.kiosk(token)


async def pair_kiosk(request: Request) -> Response:
    who = require(request, "admin")
    data = await read_object(request, {"name"})
    name = string_field(data, "name", max_length=64)
    now = service(request).now().isoformat(timespec="seconds")
    token = await antre(request).accounts.pair_kiosk(name, now, who.username)
    return json_response({"name": name, "token": token, "pair_url": f"/kiosk/pair?token={token}"}, 201)


async def list_kiosks(request: Request) -> Response:
    require(request, "admin")
    return json_response(await antre(request).accounts.kiosks())


async def unpair_kiosk(request: Request) -> Response:
    who = require(request, "admin")
    name = request.path_params["name"]
    now = service(request).now().isoformat(timespec="seconds")
    if not await antre(request).accounts.unpair_kiosk(name, now, who.username):
        raise ApiError(404, "unknown_kiosk", f"no kiosk named {name!r} is paired")
    return json_response({"name": name, "paired": False})


async def kiosk_pair_page(request: Request) -> Response:
    """Opened once on the kiosk's own browser: remembers the device, then shows the kiosk."""
    token = request.query_params.get("token", "")
    if not token or len(token) > 200 or await antre(request).accounts.kiosk(token) is None:
        raise ApiError(404, "unknown_kiosk", "this pairing link is not valid; ask the admin for a new one")
    response = RedirectResponse(f"{base_path(request)}/kiosk", status_code=303)
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=10 * 365 * 24 * 3600,
        path=cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
