"""The event vocabulary: what the office tells its screens.

Each state change becomes one or more events with a per-office `seq` that rises
by exactly one per event, across restarts. Events carry ticket numbers, never
tokens or personal data. Payloads are documented in docs/protocol.md.
"""

from __future__ import annotations

from typing import Any

from websockets.frames import Frame, Opcode

from queue_server import jsoncodec

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
TICKET_UNDONE = "ticket.undone"
"""A counter took back its last step: the ticket is as it was before (in the queue, or at the counter)."""
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
    TICKET_UNDONE,
    OCCUPANCY_CHANGED,
    COUNTER_OPENED,
    COUNTER_CLOSED,
    CONFIG_CHANGED,
    DAY_STARTED,
)


class Event:
    """One office event, kept as its JSON text.

    The text is encoded once, when the event happens, and that same string goes to
    the database and to every screen. Only the few fields the server routes on are
    kept beside it, so a long history of events costs the garbage collector little.
    """

    __slots__ = ("_frame", "at", "seq", "text", "ticket_id", "ticket_service", "type")

    def __init__(
        self,
        type: str,
        seq: int,
        at: str,
        text: str,
        ticket_id: int | None = None,
        ticket_service: str | None = None,
    ) -> None:
        self.type = type
        self.seq = seq
        self.at = at
        self.text = text
        self.ticket_id = ticket_id
        self.ticket_service = ticket_service
        self._frame: bytes | None = None

    @classmethod
    def create(cls, type: str, seq: int, at: str, payload: dict[str, Any]) -> Event:
        text = jsoncodec.dumps({"type": type, "seq": seq, "at": at, **payload})
        ticket = payload.get("ticket")
        if isinstance(ticket, dict):
            return cls(type, seq, at, text, ticket["id"], ticket["service"])
        return cls(type, seq, at, text)

    def encoded(self) -> str:
        return self.text

    @property
    def frame(self) -> bytes:
        """The WebSocket frame carrying this event, built once for every screen."""
        if self._frame is None:
            self._frame = text_frame(self.text)
        return self._frame

    def forget_frame(self) -> None:
        self._frame = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsoncodec.loads(self.text)
        return data

    @property
    def payload(self) -> dict[str, Any]:
        """The type-specific fields (decoded on demand: tests and rare paths only)."""
        data = self.as_dict()
        for key in ("type", "seq", "at"):
            data.pop(key, None)
        return data

    def __repr__(self) -> str:
        return f"Event({self.type!r}, seq={self.seq})"


def text_frame(text: str) -> bytes:
    """An unmasked, unfragmented server-to-client text frame (RFC 6455)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def decode(text: str) -> Event:
    data = jsoncodec.loads(text)
    ticket = data.get("ticket")
    if isinstance(ticket, dict):
        return Event(data["type"], data["seq"], data["at"], text, ticket.get("id"), ticket.get("service"))
    return Event(data["type"], data["seq"], data["at"], text)
