"""Reports in their own process: the year's ledger is built and kept there, so the work of a big
report never holds the server's interpreter lock and the live screens do not wait for it.

The server keeps one `ReportProcess` (a single worker, started at the first report); each call
names a module-level function here with picklable arguments (paths, frozen settings, periods).
The worker reads the database read-only on its own connection and keeps each file's ledger
between calls, refreshing it with the events committed since.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from queue_server.domain.settings import OfficeConfig
from queue_server.reports import queries

T = TypeVar("T")

_CONNECTIONS: dict[str, sqlite3.Connection] = {}


@dataclass(frozen=True)
class DatabaseFile:
    """What the queries need of a database in the worker: its path (the ledger's key)."""

    path: Path


def _open(path: str) -> tuple[Any, sqlite3.Connection]:
    conn = _CONNECTIONS.get(path)
    if conn is None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        _CONNECTIONS[path] = conn
    return DatabaseFile(Path(path)), conn


def report(path: str, config: OfficeConfig, span: queries.Period, by: str, group: str) -> dict[str, Any]:
    db, conn = _open(path)
    return queries.report(db, conn, config, span, by, group)  # type: ignore[arg-type]


def occupancy(path: str, config: OfficeConfig, span: queries.Period, group: str) -> dict[str, Any]:
    db, conn = _open(path)
    return queries.occupancy(db, conn, config, span, group)  # type: ignore[arg-type]


def tickets_behind(
    path: str, span: queries.Period, service: str | None, counter: str | None, officer: str | None
) -> list[dict[str, Any]]:
    db, conn = _open(path)
    return queries.tickets_behind(db, conn, span, service, counter, officer)  # type: ignore[arg-type]


def reports_page(path: str, config: OfficeConfig, span: queries.Period, group: str) -> dict[str, Any]:
    """Everything /admin/reports shows for a period, in one trip to the worker."""
    db, conn = _open(path)
    out: dict[str, Any] = {
        by: queries.report(db, conn, config, span, by, group)["rows"]  # type: ignore[arg-type]
        for by in ("office", "service", "counter", "officer")
    }
    out["per_day"] = queries.report(db, conn, config, span, "office", "day")["rows"]  # type: ignore[arg-type]
    out["punctual"] = queries.report(db, conn, config, span, "counter", "day")["rows"]  # type: ignore[arg-type]
    out["officer_days"] = queries.report(db, conn, config, span, "officer", "day")["rows"]  # type: ignore[arg-type]
    out["occupancy"] = queries.occupancy(db, conn, config, span, group)["rows"]  # type: ignore[arg-type]
    out["occupancy_days"] = queries.occupancy(db, conn, config, span, "day")["rows"]  # type: ignore[arg-type]
    return out


class ReportProcess:
    """One worker process for the server's reports, started on first use, stopped with the server."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            # spawn, not fork: the server has threads (writer, readers) a fork would copy mid-step.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
