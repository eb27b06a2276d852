"""create_app(config, store, backend, clock): the one app, from explicit inputs; a typed lifespan state."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import BaseRoute

from queue_server.bus.base import Backend
from queue_server.bus.hub import Hub
from queue_server.domain.settings import OfficeConfig
from queue_server.engine.accounts import Accounts
from queue_server.engine.limits import RateLimiter
from queue_server.engine.offices import Store, served_store
from queue_server.engine.service import OfficeService
from queue_server.web.auth import SessionBackend, on_auth_error
from queue_server.web.errors import EXCEPTION_HANDLERS
from queue_server.web.live import LiveSockets
from queue_server.web.middleware import GuardMiddleware
from queue_server.web.routes import routes as all_routes
from queue_server.web.state import Antre

FULL_COLLECTION_SECONDS = 300.0


async def _collect_cycles_now_and_then() -> None:
    """A full collection every few minutes.

    The CLI raises the collector's thresholds so that busy moments see no long
    pauses; then old reference cycles (closed connections, mostly) would wait a
    long time. One short pause every five minutes frees them.
    """
    while True:
        await asyncio.sleep(FULL_COLLECTION_SECONDS)
        gc.collect()


def create_app(
    config: OfficeConfig,
    store: Store | Path,
    backend: Backend | None = None,
    clock: Callable[[], datetime] | None = None,
    extra_routes: list[BaseRoute] | None = None,
    pages: bool = True,
    serving: Callable[[], contextlib.AbstractAsyncContextManager[Antre]] | None = None,
) -> Starlette:
    """The app. Given a path, the lifespan opens (and locks) that database; given a Store, uses it."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Antre]]:
        async with contextlib.AsyncExitStack() as stack:
            if serving is not None:  # a worker of a deployment with a broker (web/deployment.py)
                yield {"antre": await stack.enter_async_context(serving())}
                return
            opened = stack.enter_context(served_store(store)) if isinstance(store, Path) else store
            yield {"antre": await stack.enter_async_context(_serving(opened))}

    @contextlib.asynccontextmanager
    async def _serving(opened: Store) -> AsyncIterator[Antre]:
        service = OfficeService(config, opened, Hub(backend), clock)
        await service.start()
        # What start-up loaded lives as long as the process: keep it out of GC scans.
        gc.freeze()
        state = Antre(
            config=config,
            service=service,
            accounts=Accounts(opened, config.session_hours),
            ticket_limiter=RateLimiter(config.tickets_per_minute_per_address),
        )
        collector = asyncio.create_task(_collect_cycles_now_and_then(), name="gc")
        try:
            yield state
        finally:
            collector.cancel()
            state.reports.stop()
            await service.stop()

    app = Starlette(
        routes=[*all_routes(config, pages), *(extra_routes or [])],
        middleware=[
            Middleware(LiveSockets),
            Middleware(GuardMiddleware),
            Middleware(AuthenticationMiddleware, backend=SessionBackend(), on_error=on_auth_error),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # /api/v1/services/ is not /api/v1/services: a redirect would echo the Host header.
    app.router.redirect_slashes = False
    return app
