"""The simulated office: its config, its accounts, and its server process.

`FieldServer` wraps `tests.support.server.ServerProcess` (reused as is) with
what the simulation needs on top: async start/stop so the event loop keeps
running while the server restarts, the signal used, and timings for the report.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.support.server import ServerProcess

T = TypeVar("T")

CAPACITY = 40

# (id, name, prefix, share of arrivals): the study's office, licensing and non-licensing.
SERVICES: tuple[tuple[str, str, str, float], ...] = (
    ("ktp", "KTP-el", "A", 0.45),
    ("kk", "Kartu Keluarga", "B", 0.30),
    ("surat", "Surat Keterangan / Legalisasi", "C", 0.25),
    # api-remote: the second step of surat's route (surat -> ambil); nobody picks it at the kiosk.
    ("ambil", "Pengambilan Dokumen", "D", 0.0),
)
REMOTE_SERVICE = "ktp"
REMOTE_QUOTA = 60  # remote tickets a day for ktp (api-remote); the checks hold the server to it
ROUTES = {"surat": "ambil"}
PRIORITY = "lansia"
MAX_PRIORITY_IN_A_ROW = 2
REJOIN_WITHIN_CALLS = 30

# Counter id -> the services it calls, in priority order (as in the config's `services`).
COUNTERS: dict[str, tuple[str, ...]] = {
    "1": ("ktp", "kk"),
    "2": ("ktp", "surat"),
    "3": ("ktp", "kk"),
    "4": ("kk", "ktp"),
    "5": ("kk", "surat"),
    "6": ("surat", "ktp", "ambil"),
    "7": ("surat", "kk", "ambil"),
}

ADMIN = ("kepala", "sandi-kepala-lapangan")
DOOR = ("pintu", "sandi-pintu-lapangan")


def officer_account(counter_id: str) -> tuple[str, str]:
    return f"petugas{counter_id}", f"sandi-petugas-{counter_id}-lapangan"


def field_office_toml(capacity: int = CAPACITY) -> str:
    """The simulated office: 3 services and a route's second step, 7 counters, no anonymous issuing
    limit; api-remote on: remote ktp tickets, priority visitors, missed-call rejoin."""
    lines = [
        "[office]",
        'name = "Kantor Kecamatan Simulasi"',
        'timezone = "Asia/Makassar"',
        'language = "id"',
        f"capacity = {capacity}",
        "",
        "[remote]",
        "enabled = true",
        "active_per_device = 100000",  # every simulated phone shares 127.0.0.1
        "",
        "[queue]",
        f"rejoin_within_calls = {REJOIN_WITHIN_CALLS}",
        "rejoin_after = 2",
        f'priority_categories = ["{PRIORITY}"]',
        f"max_priority_in_a_row = {MAX_PRIORITY_IN_A_ROW}",
        "",
    ]
    for service_id, name, prefix, _share in SERVICES:
        lines += ["[[services]]", f'id = "{service_id}"', f'name = "{name}"', f'prefix = "{prefix}"']
        if service_id == REMOTE_SERVICE:
            lines.append(f"remote_quota = {REMOTE_QUOTA}")
        if service_id in ROUTES:
            lines.append(f'next = "{ROUTES[service_id]}"')
        if service_id in ROUTES.values():
            lines.append("kiosk = false")
        lines.append("")
    for counter_id, services in COUNTERS.items():
        listed = ", ".join(f'"{s}"' for s in services)
        lines += [
            "[[counters]]",
            f'id = "{counter_id}"',
            f'name = "Loket {counter_id}"',
            f"services = [{listed}]",
            "",
        ]
    return "\n".join(lines)


@dataclass
class Restart:
    """One stop and start of the server, for the report."""

    at: float  # seconds since traffic started
    signal: str
    stop_s: float
    down_s: float
    exit_code: int


@dataclass
class FieldServer:
    workdir: Path
    capacity: int = CAPACITY
    process: ServerProcess = field(init=False)
    restarts: list[Restart] = field(default_factory=list)
    _busy: set[asyncio.Future[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.process = ServerProcess(self.workdir, config_text=field_office_toml(self.capacity))

    @property
    def port(self) -> int:
        return self.process.port

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def db_path(self) -> Path:
        return self.process.db_path

    def create_accounts(self) -> None:
        """The first account alone (it creates the database), then the rest at once: each
        `user add` is a new Python process hashing one password, about half a second."""
        accounts = [(*ADMIN, "admin"), (*DOOR, "door")]
        accounts += [(*officer_account(c), "officer") for c in COUNTERS]
        first, *others = accounts
        self.process.add_user(first[0], first[2], first[1])
        with ThreadPoolExecutor(max_workers=len(others)) as pool:
            done = [pool.submit(self._add_user, name, role, pw) for name, pw, role in others]
            for future in done:
                future.result()

    def _add_user(self, name: str, role: str, password: str) -> None:
        # Writers of one SQLite file wait for each other up to a busy timeout; with several
        # processes starting at once, one may still meet "database is locked": try again once.
        try:
            self.process.add_user(name, role, password)
        except RuntimeError:
            time.sleep(0.5)
            self.process.add_user(name, role, password)

    async def _in_thread(self, work: Callable[[], T]) -> T:
        """Run a blocking ServerProcess call off the loop; even if the caller is cancelled (Ctrl-C),
        the call finishes and `settle()` can wait for it, so no server is started behind our back."""
        future = asyncio.ensure_future(asyncio.to_thread(work))
        self._busy.add(future)
        future.add_done_callback(self._busy.discard)
        return await asyncio.shield(future)

    async def settle(self) -> None:
        """Wait for any start or stop still running in a thread."""
        if self._busy:
            await asyncio.wait(list(self._busy), timeout=60.0)

    async def start(self) -> None:
        await self._in_thread(lambda: self.process.start(30.0))

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        if sig == signal.SIGKILL:
            await self._in_thread(self.process.kill)
            return -signal.SIGKILL
        return await self._in_thread(lambda: self.process.stop(sig, 20.0))

    async def restart(self, sig: int, down_s: float, at: float) -> Restart:
        """Stop with `sig`, stay down `down_s` seconds, start again on the same port and database."""
        began = time.monotonic()
        code = await self.stop(sig)
        stopped = time.monotonic()
        await asyncio.sleep(down_s)
        await self.start()
        record = Restart(at, signal.Signals(sig).name, stopped - began, time.monotonic() - began, code)
        self.restarts.append(record)
        return record

    def log_text(self) -> str:
        return self.process.log_text()
