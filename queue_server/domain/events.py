"""What the office tells its screens: one frozen dataclass per event type.

Every event has the office's `seq` (rising by exactly one per event, across
restarts) and the office-local time `at`. Events carry ticket views (numbers,
never tokens or personal data). They hold no JSON and no frames: `wire.py`
encodes each event once for the database and every screen. Payloads are
documented in docs/protocol.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

TicketView = dict[str, Any]
"""A ticket as screens see it (`Ticket.as_dict` plus its position and wait estimate)."""
Waiting = dict[str, int]
"""Visitors not yet called, per service id: the whole map after the event."""


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at: str
    TYPE: ClassVar[str] = ""

    def payload(self) -> dict[str, Any]:
        """The type-specific fields, in declaration order."""
        return {name: getattr(self, name) for name in _payload_fields(type(self))}

    @property
    def ticket(self) -> TicketView | None:
        return None


@dataclass(frozen=True, slots=True)
class TicketEvent(Event):
    """An event about one ticket: the ticket after the event and the waiting counts."""

    ticket_view: TicketView
    waiting: Waiting

    @property
    def ticket(self) -> TicketView | None:
        return self.ticket_view


@dataclass(frozen=True, slots=True)
class TicketIssued(TicketEvent):
    """A ticket was issued; its status is `waiting` (admitted at once) or `outside`."""

    TYPE: ClassVar[str] = "ticket.issued"


@dataclass(frozen=True, slots=True)
class TicketAdmitted(TicketEvent):
    """An `outside` ticket may now come in: it is `waiting` in its service's queue."""

    TYPE: ClassVar[str] = "ticket.admitted"


@dataclass(frozen=True, slots=True)
class TicketCalled(TicketEvent):
    """A counter called a ticket: the display shows it and announces it."""

    counter: str
    TYPE: ClassVar[str] = "ticket.called"


@dataclass(frozen=True, slots=True)
class TicketRecalled(TicketEvent):
    """A counter called its current ticket again: announce it again."""

    counter: str
    TYPE: ClassVar[str] = "ticket.recalled"


@dataclass(frozen=True, slots=True)
class TicketServing(TicketEvent):
    """The visitor arrived at the counter and is being served."""

    counter: str
    TYPE: ClassVar[str] = "ticket.serving"


@dataclass(frozen=True, slots=True)
class TicketDone(TicketEvent):
    """Service finished; `counter` is None when the day's end closed the ticket."""

    counter: str | None
    TYPE: ClassVar[str] = "ticket.done"


@dataclass(frozen=True, slots=True)
class TicketNoShow(TicketEvent):
    """The visitor did not come after being called; `counter` is None when the day's end closed an
    unchecked remote ticket (api-remote)."""

    counter: str | None
    TYPE: ClassVar[str] = "ticket.no_show"


@dataclass(frozen=True, slots=True)
class TicketCancelled(TicketEvent):
    """The visitor cancelled (`visitor`), or the day ended before the ticket was called (`day_end`)."""

    reason: str
    TYPE: ClassVar[str] = "ticket.cancelled"


@dataclass(frozen=True, slots=True)
class TicketTransferred(TicketEvent):
    """A counter sent the ticket to another service's queue, keeping its place."""

    from_service: str
    from_counter: str
    TYPE: ClassVar[str] = "ticket.transferred"


@dataclass(frozen=True, slots=True)
class TicketUndone(TicketEvent):
    """A counter took back its last `step`: the ticket is as it was before (queued, or at the counter)."""

    counter: str
    step: str
    TYPE: ClassVar[str] = "ticket.undone"


@dataclass(frozen=True, slots=True)
class TicketReactivated(TicketEvent):
    """A supervisor put a no-show or cancelled ticket back in its queue, at its original place."""

    TYPE: ClassVar[str] = "ticket.reactivated"


@dataclass(frozen=True, slots=True)
class TicketCheckedIn(TicketEvent):
    """A remote ticket was checked in at the entrance: now `waiting`, or `outside` until admitted."""

    TYPE: ClassVar[str] = "ticket.checked_in"


@dataclass(frozen=True, slots=True)
class TicketActivated(TicketEvent):
    """A booked ticket's day began: it is `remote` now, in its service's order by its booking time."""

    TYPE: ClassVar[str] = "ticket.activated"


@dataclass(frozen=True, slots=True)
class TicketRejoined(TicketEvent):
    """A no-show came back: `waiting` again, behind at most `rejoin_after` of those waiting."""

    TYPE: ClassVar[str] = "ticket.rejoined"


@dataclass(frozen=True, slots=True)
class TicketRouted(TicketEvent):
    """A route step ended: the ticket waits at the back of its next step's queue, still inside."""

    from_service: str
    from_counter: str | None
    TYPE: ClassVar[str] = "ticket.routed"


@dataclass(frozen=True, slots=True)
class OccupancyChanged(Event):
    """Inside count, capacity or the outside queue changed."""

    occupancy: dict[str, int]
    TYPE: ClassVar[str] = "occupancy.changed"


@dataclass(frozen=True, slots=True)
class CounterOpened(Event):
    """A counter opened (or reopened after a pause)."""

    counter: dict[str, Any]
    TYPE: ClassVar[str] = "counter.opened"


@dataclass(frozen=True, slots=True)
class CounterClosed(Event):
    """A counter closed or paused, with an optional reason."""

    counter: dict[str, Any]
    TYPE: ClassVar[str] = "counter.closed"


@dataclass(frozen=True, slots=True)
class ConfigChanged(Event):
    """Services or counters changed: the full new lists; `hours` and `running_text` when they changed."""

    services: list[dict[str, Any]]
    counters: list[dict[str, Any]]
    hours: dict[str, Any] | None = None
    running_text: str | None = None
    TYPE: ClassVar[str] = "config.changed"


@dataclass(frozen=True, slots=True)
class DayStarted(Event):
    """Local midnight passed: numbering restarts and yesterday's queue is closed."""

    day: str
    TYPE: ClassVar[str] = "day.started"


EVENT_CLASSES: tuple[type[Event], ...] = (
    TicketIssued,
    TicketAdmitted,
    TicketCalled,
    TicketRecalled,
    TicketServing,
    TicketDone,
    TicketNoShow,
    TicketCancelled,
    TicketTransferred,
    TicketUndone,
    TicketReactivated,
    TicketCheckedIn,
    TicketActivated,
    TicketRejoined,
    TicketRouted,
    OccupancyChanged,
    CounterOpened,
    CounterClosed,
    ConfigChanged,
    DayStarted,
)
BY_TYPE: dict[str, type[Event]] = {cls.TYPE: cls for cls in EVENT_CLASSES}
ALL_TYPES = tuple(BY_TYPE)

# On the wire a ticket event's view is called `ticket` (api-v1); here `ticket` is the accessor.
_WIRE_NAMES = {"ticket_view": "ticket"}
_FIELDS: dict[type[Event], tuple[str, ...]] = {}
_OPTIONAL: dict[type[Event], frozenset[str]] = {}


def _payload_fields(cls: type[Event]) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("seq", "at"))
        _FIELDS[cls] = names
    return names


def _optional_fields(cls: type[Event]) -> frozenset[str]:
    """Fields with a None default: left out of the wire form while None (added later, e.g. `hours`)."""
    names = _OPTIONAL.get(cls)
    if names is None:
        names = frozenset(f.name for f in dataclasses.fields(cls) if f.default is None)
        _OPTIONAL[cls] = names
    return names


def as_dict(event: Event) -> dict[str, Any]:
    """The event as api-v1 spells it: type, seq, at, then the payload."""
    data: dict[str, Any] = {"type": event.TYPE, "seq": event.seq, "at": event.at}
    optional = _optional_fields(type(event))
    for name in _payload_fields(type(event)):
        value = getattr(event, name)
        if value is None and name in optional:
            continue
        data[_WIRE_NAMES.get(name, name)] = value
    return data


def from_dict(data: dict[str, Any]) -> Event:
    """The event back from its api-v1 form (a stored or streamed event). Raises KeyError/TypeError."""
    cls = BY_TYPE[data["type"]]
    optional = _optional_fields(cls)
    values = {
        name: data.get(_WIRE_NAMES.get(name, name)) if name in optional else data[_WIRE_NAMES.get(name, name)]
        for name in _payload_fields(cls)
    }
    return cls(seq=data["seq"], at=data["at"], **values)
