"""The event vocabulary: what the office tells its screens.

Each state change becomes one or more events with a per-office `seq` that rises
by exactly one per event, across restarts. Events carry ticket numbers, never
tokens or personal data. Payloads are documented in docs/protocol.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

TICKET_ISSUED = "ticket.issued"
"""A ticket was issued; its status is `waiting` (admitted at once) or `outside`."""
TICKET_ADMITTED = "ticket.admitted"
"""An `outside` ticket may now come in: it is `waiting` in its service's queue."""
TICKET_CALLED = "ticket.called"
"""A counter called a ticket: the display shows it and announces it."""
TICKET_RECALLED = "ticket.recalled"
"""A counter called its current ticket again: announce it again."""
TICKET_SERVING = "ticket.serving"
"""The visitor arrived at the counter and is being served."""
TICKET_DONE = "ticket.done"
"""Service finished (or the day ended while the ticket was at a counter)."""
TICKET_NO_SHOW = "ticket.no_show"
"""The visitor did not come after being called."""
TICKET_CANCELLED = "ticket.cancelled"
"""The visitor cancelled, or the day ended before the ticket was called."""
TICKET_TRANSFERRED = "ticket.transferred"
"""A counter sent the ticket to another service's queue, keeping its place."""
OCCUPANCY_CHANGED = "occupancy.changed"
"""Inside count, capacity or the outside queue changed."""
COUNTER_OPENED = "counter.opened"
"""A counter opened (or reopened after a pause)."""
COUNTER_CLOSED = "counter.closed"
"""A counter closed or paused, with an optional reason."""
CONFIG_CHANGED = "config.changed"
"""Services or counters changed; screens should take a fresh snapshot."""
DAY_STARTED = "day.started"
"""Local midnight passed: numbering restarts and yesterday's queue is closed."""

ALL_TYPES = (
    TICKET_ISSUED,
    TICKET_ADMITTED,
    TICKET_CALLED,
    TICKET_RECALLED,
    TICKET_SERVING,
    TICKET_DONE,
    TICKET_NO_SHOW,
    TICKET_CANCELLED,
    TICKET_TRANSFERRED,
    OCCUPANCY_CHANGED,
    COUNTER_OPENED,
    COUNTER_CLOSED,
    CONFIG_CHANGED,
    DAY_STARTED,
)


@dataclass(frozen=True)
class Event:
    """One office event. `payload` holds the type-specific fields."""

    type: str
    seq: int
    at: str
    payload: dict[str, Any]
    _encoded: list[str] = field(default_factory=list, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, "at": self.at, **self.payload}

    def encoded(self) -> str:
        """The JSON text of this event, encoded once however many screens get it."""
        if not self._encoded:
            self._encoded.append(json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=False))
        return self._encoded[0]

    @property
    def ticket_id(self) -> int | None:
        ticket = self.payload.get("ticket")
        return ticket["id"] if isinstance(ticket, dict) else None


def decode(text: str) -> Event:
    data = json.loads(text)
    event_type = data.pop("type")
    seq = data.pop("seq")
    at = data.pop("at")
    return Event(event_type, seq, at, data, [text])
