"""The app of one worker of a deployment with a broker (`serve --broker`, `--workers N`, `--edge`).

Each office's app is the one `create_app` builds, with a lifespan that serves the office through
its `OfficeRole` (writer here, or replica); the regency's routes stay as they are; the worker's
gate (web/workers.py) stands in front of it all.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.types import ASGIApp

from queue_server.bus.redis import Broker
from queue_server.domain.settings import OfficeConfig
from queue_server.engine.accounts import Accounts
from queue_server.engine.limits import RateLimiter
from queue_server.engine.roles import OfficeRole
from queue_server.engine.service import DEFAULT_OFFICE, OfficeService
from queue_server.web.app import create_app
from queue_server.web.regency import create_regency_app
from queue_server.web.state import Antre
from queue_server.web.workers import Worker, WorkerGate


def _office_app(role: OfficeRole, config: OfficeConfig) -> Starlette:
    @contextlib.asynccontextmanager
    async def serving() -> AsyncIterator[Antre]:
        await role.start()
        service = role.service
        antre = Antre(
            config=config,
            service=service,
            accounts=Accounts(service.store, config.session_hours),
            ticket_limiter=RateLimiter(config.tickets_per_minute_per_address),
        )

        def now_writing(writer: OfficeService) -> None:
            antre.service = writer
            antre.accounts = Accounts(writer.store, config.session_hours)

        role.on_writer.append(now_writing)
        try:
            yield antre
        finally:
            antre.reports.stop()
            await role.stop()

    return create_app(config, Path("."), serving=serving)


def create_worker_app(
    offices: Mapping[str, OfficeConfig],
    databases: Mapping[str, Path] | None,
    broker_url: str,
    single: bool,
    clock: Callable[[], datetime] | None = None,
) -> WorkerGate:
    """`databases` maps each office to its database file; None on an edge worker (no database)."""
    broker = Broker(broker_url)
    roles = {
        office_id: OfficeRole(
            office_id, config, databases[office_id] if databases is not None else None, broker, clock
        )
        for office_id, config in offices.items()
    }
    worker = Worker(roles, broker, single)
    if single:
        ((office_id, config),) = offices.items()
        inner: ASGIApp = _office_app(roles[office_id], config)
    else:
        inner = create_regency_app(
            offices,
            Path("."),
            clock,
            office_app=lambda office_id, config: _office_app(roles[office_id], config),
        )
    return WorkerGate(inner, worker)


__all__ = ["DEFAULT_OFFICE", "create_worker_app"]
