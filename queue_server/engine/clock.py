"""The office's clock: the day rolls over at local midnight even when nobody presses anything.

A `Tick` through the writer lets the rules close yesterday (domain/day.py); old
idempotency records are forgotten at the same moment.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Ticking(Protocol):
    zone: ZoneInfo

    def now(self) -> datetime: ...

    async def tick(self) -> bool:
        """Roll over if midnight passed; False once the office stopped taking commands."""
        ...


def seconds_to_midnight(now: datetime, zone: ZoneInfo) -> float:
    """Seconds until just after the next local midnight (at least one, so a late wake-up never spins)."""
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), zone)
    return max(1.0, (tomorrow - now).total_seconds() + 1)


async def midnight_ticks(office: Ticking) -> None:
    """Wake the office just after each local midnight until it stops taking commands."""
    while True:
        await asyncio.sleep(seconds_to_midnight(office.now(), office.zone))
        if not await office.tick():
            return
