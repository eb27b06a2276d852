"""The office's clock wakes just after each local midnight, and stops when the office stops."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.engine import clock

WITA = ZoneInfo("Asia/Makassar")


def test_the_wake_up_is_just_after_the_next_local_midnight() -> None:
    """23:59:30 local waits 31 s (midnight plus one second), whatever the UTC date is."""
    assert clock.seconds_to_midnight(datetime(2026, 12, 1, 23, 59, 30, tzinfo=WITA), WITA) == 31.0


def test_a_late_wake_up_never_spins() -> None:
    """Right after midnight the next wait is a whole day, and never under one second."""
    wait = clock.seconds_to_midnight(datetime(2026, 12, 2, 0, 0, 0, tzinfo=WITA), WITA)
    assert wait == 24 * 3600 + 1


async def test_the_ticks_stop_when_the_office_stops_taking_commands() -> None:
    """midnight_ticks returns once a tick answers False (the office is shutting down)."""

    class Office:
        zone = WITA
        ticks = 0

        def now(self) -> datetime:
            return datetime(2026, 12, 1, 23, 59, 59, tzinfo=WITA)  # one second to go, plus one

        async def tick(self) -> bool:
            self.ticks += 1
            return self.ticks < 2

    office = Office()
    await asyncio.wait_for(clock.midnight_ticks(office), timeout=10)
    assert office.ticks == 2
