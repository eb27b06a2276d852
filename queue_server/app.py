"""create_app(): the routes list, middleware and lifespan, built from explicit inputs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from queue_server import api, auth, db_lock, live
from queue_server.config import OfficeConfig
from queue_server.errors import EXCEPTION_HANDLERS
from queue_server.hub import Hub
from queue_server.middleware import GuardMiddleware
from queue_server.service import OfficeService
from queue_server.storage import Storage

FULL_COLLECTION_SECONDS = 300.0
ADDRESS_FREE_FAILURES = 30


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
    db_path: Path,
    clock: Callable[[], datetime] | None = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        lock = db_lock.acquire(db_path)  # one writer per database, also under `uvicorn --workers N`
        storage = Storage(db_path)
        service = OfficeService(config, storage, Hub(), clock)
        await service.start()
        # What start-up loaded lives as long as the process: keep it out of GC scans.
        gc.freeze()
        app.state.service = service
        collector = asyncio.create_task(_collect_cycles_now_and_then(), name="gc")
        try:
            yield
        finally:
            collector.cancel()
            await service.stop()
            storage.close()
            lock.release()

    routes: list[BaseRoute] = [*api.ROUTES, *live.ROUTES, *(extra_routes or [])]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(GuardMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # /api/v1/services/ is not /api/v1/services: a redirect would echo the Host header.
    app.router.redirect_slashes = False
    app.state.config = config
    app.state.login_throttle = auth.LoginThrottle()
    # Counters share an office network: one officer's typos must not lock out the next,
    # so an address gets more tries than a name before it has to wait.
    app.state.address_throttle = auth.LoginThrottle(free_failures=ADDRESS_FREE_FAILURES)
    app.state.ticket_limiter = auth.RateLimiter(config.tickets_per_minute_per_address)
    return app
