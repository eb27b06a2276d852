"""An event on the wire: its JSON text and WebSocket frame, encoded once.

The domain's events are dataclasses; here each becomes an `Envelope` the
moment it happens, and that same text goes to the database, to the bus and to
every screen. Only the few fields the server routes on are kept beside it, so
a long history of envelopes costs the garbage collector little.
"""

from __future__ import annotations

from typing import Any

import orjson
from websockets.frames import Frame, Opcode

from queue_server.domain import events as ev

DecodeError = orjson.JSONDecodeError


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


def dumps_bytes(data: Any) -> bytes:
    return orjson.dumps(data)


def loads(raw: str | bytes) -> Any:
    return orjson.loads(raw)


class Envelope:
    """One office event, kept as its JSON text (plus its frame while it is being sent)."""

    __slots__ = ("_frame", "at", "seq", "text", "ticket_id", "ticket_position", "ticket_service", "type")

    def __init__(
        self,
        type: str,
        seq: int,
        at: str,
        text: str,
        ticket_id: int | None = None,
        ticket_service: str | None = None,
        ticket_position: int | None = None,
    ) -> None:
        self.type = type
        self.seq = seq
        self.at = at
        self.text = text
        self.ticket_id = ticket_id
        self.ticket_service = ticket_service
        # Where the event's ticket stands in its queue: a phone behind it need not look again.
        self.ticket_position = ticket_position
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        """The WebSocket frame carrying this event, built once for every screen."""
        if self._frame is None:
            self._frame = text_frame(self.text)
        return self._frame

    def forget_frame(self) -> None:
        self._frame = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads(self.text)
        return data

    def event(self) -> ev.Event:
        """The domain event back (for replicas and the board's rebuild at start)."""
        return ev.from_dict(self.as_dict())

    def __repr__(self) -> str:
        return f"Envelope({self.type!r}, seq={self.seq})"


def encode(event: ev.Event) -> Envelope:
    ticket = event.ticket
    text = dumps(ev.as_dict(event))
    if ticket is not None:
        return Envelope(
            event.TYPE, event.seq, event.at, text, ticket["id"], ticket["service"], ticket.get("position")
        )
    return Envelope(event.TYPE, event.seq, event.at, text)


def decode(text: str) -> Envelope:
    data = orjson.loads(text)
    ticket = data.get("ticket")
    if isinstance(ticket, dict):
        return Envelope(
            data["type"],
            data["seq"],
            data["at"],
            text,
            ticket.get("id"),
            ticket.get("service"),
            ticket.get("position"),
        )
    return Envelope(data["type"], data["seq"], data["at"], text)


def text_frame(text: str) -> bytes:
    """An unmasked, unfragmented server-to-client text frame (RFC 6455)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
