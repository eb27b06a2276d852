"""A regency on one deployment: every office under `/o/<id>`, each with its own database, writer,
seq, accounts and screens, plus `GET /api/v1/offices` and the `/offices` page (api-scale.md).

Each office is the very app `create_app` builds for one office; here it is mounted under its
path and its lifespan runs inside the regency's, so an office behaves exactly as it does alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from queue_server.domain.settings import OfficeConfig
from queue_server.web.api.common import json_response
from queue_server.web.app import create_app
from queue_server.web.errors import EXCEPTION_HANDLERS, ApiError
from queue_server.web.live import live_endpoint
from queue_server.web.middleware import GuardMiddleware
from queue_server.web.pages.render import STATIC_DIR, Renderer
from queue_server.web.state import Antre


class MountedOffice:
    """One office's app under `/o/<id>`, with the state its own lifespan yielded."""

    def __init__(self, office_id: str, app: Starlette) -> None:
        self.office_id = office_id
        self.app = app
        self.state: dict[str, Any] = {}

    @property
    def antre(self) -> Antre:
        state: Antre = self.state["antre"]
        return state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = dict(scope)
        scope["state"] = {**scope.get("state", {}), **self.state}
        await self.app(scope, receive, send)


class RegencySockets:
    """`/o/<id>/ws/...` straight to the office's live socket with the office's state, past the
    regency's router and mount and the office's middleware (see live.LiveSockets: an open socket
    keeps every layer it passed alive)."""

    def __init__(self, app: ASGIApp, offices: Mapping[str, MountedOffice]) -> None:
        self.app = app
        self.offices = offices

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith("/o/"):
            office = self.offices.get(scope["path"][3:].partition("/")[0])
            if office is not None:
                root = f"/o/{office.office_id}"
                endpoint = live_endpoint(scope, root)
                if endpoint is not None:
                    scope = {**scope, "root_path": root, "state": {**scope.get("state", {}), **office.state}}
                    await endpoint(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _summary(office: MountedOffice) -> dict[str, Any]:
    service = office.antre.service
    occupancy = service.occupancy()
    return {
        "id": office.office_id,
        "name": office.antre.config.name,
        "waiting": sum(service.office.state.waiting_counts().values()),
        "inside": occupancy["inside"],
        "capacity": occupancy["capacity"],
        "outside": occupancy["outside"],
    }


def create_regency_app(
    offices: Mapping[str, OfficeConfig],
    data_dir: Path,
    clock: Callable[[], datetime] | None = None,
    office_app: Callable[[str, OfficeConfig], Starlette] | None = None,
) -> Starlette:
    """Every office of `offices` (id -> config) under `/o/<id>`, its database `data_dir/<id>.db`.

    `office_app` builds an office's app instead of the default (a worker with a broker does)."""

    def build(office_id: str, config: OfficeConfig) -> Starlette:
        if office_app is not None:
            return office_app(office_id, config)
        return create_app(config, data_dir / f"{office_id}.db", clock=clock)

    mounted = {
        office_id: MountedOffice(office_id, build(office_id, config))
        for office_id, config in sorted(offices.items())
    }
    any_config = next(iter(offices.values()))
    renderer = Renderer(any_config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for office in mounted.values():
                state = await stack.enter_async_context(office.app.router.lifespan_context(office.app))
                office.state = dict(state or {})
            yield

    async def list_offices(request: Request) -> Response:
        return json_response([_summary(o) for o in mounted.values()])

    async def unknown_office(request: Request) -> Response:
        office = request.path_params["office"]
        raise ApiError(404, "unknown_office", f"there is no office {office!r} on this server")

    async def healthz(request: Request) -> Response:
        stopping = [o.office_id for o in mounted.values() if not o.antre.service.accepting]
        if stopping:
            raise ApiError(503, "shutting_down", "the server is not accepting work")
        return json_response({"status": "ok", "offices": sorted(mounted)})

    async def offices_page(request: Request) -> Response:
        rows = [_summary(o) for o in mounted.values()]
        return renderer.render_regency(request, "offices.html", "offices", {"offices": rows}, offices=rows)

    async def home(request: Request) -> Response:
        return RedirectResponse("/offices", status_code=303)

    regency = Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/api/v1/offices", list_offices),
            Route("/offices", offices_page),
            Route("/o/{office}", unknown_office),
            Route(
                "/o/{office}/{rest:path}", unknown_office, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
            ),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
        ],
        middleware=[Middleware(GuardMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    regency.router.redirect_slashes = False
    routes: list[BaseRoute] = [Mount(f"/o/{office_id}", app=office) for office_id, office in mounted.items()]
    app = Starlette(
        routes=[*routes, Mount("", app=regency)],
        middleware=[Middleware(RegencySockets, offices=mounted)],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.offices = mounted
    return app
