"""What a command gives back, typed; the web turns each into a status and a body.

Results are also what idempotency records keep, so a repeated request gets the
very same answer after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from queue_server.domain.events import TicketView
from queue_server.domain.office import Outcome
from queue_server.domain.state import Counter, OfficeState
from queue_server.domain.tickets import Ticket
from queue_server.domain.undo import Undone


@dataclass(frozen=True)
class TicketResult:
    """The ticket the command touched, as it was right after the command (and its token, on issue)."""

    ticket: TicketView
    token: str | None = None


@dataclass(frozen=True)
class NoTicket:
    """Call-next found nobody waiting."""


@dataclass(frozen=True)
class CounterResult:
    id: str
    open: bool


@dataclass(frozen=True)
class OccupancyResult:
    occupancy: dict[str, int]


@dataclass(frozen=True)
class Nothing:
    """A command with no answer (a clock tick)."""


@dataclass(frozen=True)
class UndoResult:
    """An undone step: its kind, the counter's current ticket now, and every ticket put back."""

    undone: str
    counter: str
    current: TicketView | None
    tickets: list[TicketView]


Result = TicketResult | NoTicket | CounterResult | OccupancyResult | UndoResult | Nothing


def from_outcome(
    state: OfficeState, outcome: Outcome, *, token: str | None = None, nothing: Result
) -> Result:
    """Capture the outcome now: the ticket's view changes with later commands."""
    value = outcome.result
    if isinstance(value, Ticket):
        return TicketResult(state.view(value), token)
    if isinstance(value, Counter):
        return CounterResult(value.id, value.open)
    if isinstance(value, Undone):
        current = state.view(value.current) if value.current is not None else None
        return UndoResult(value.undone, value.counter, current, [state.view(t) for t in value.tickets])
    if isinstance(value, dict):
        return OccupancyResult(dict(value))
    return nothing


def to_json(result: Result) -> str:
    data: dict[str, Any]
    match result:
        case TicketResult():
            data = {"kind": "ticket", "ticket": result.ticket, "token": result.token}
        case CounterResult():
            data = {"kind": "counter", "id": result.id, "open": result.open}
        case OccupancyResult():
            data = {"kind": "occupancy", "occupancy": result.occupancy}
        case UndoResult():
            data = {
                "kind": "undo",
                "undone": result.undone,
                "counter": result.counter,
                "current": result.current,
                "tickets": result.tickets,
            }
        case NoTicket():
            data = {"kind": "no_ticket"}
        case Nothing():
            data = {"kind": "nothing"}
    return orjson.dumps(data).decode()


def from_json(text: str) -> Result:
    data = orjson.loads(text)
    kind = data["kind"]
    if kind == "ticket":
        return TicketResult(data["ticket"], data["token"])
    if kind == "counter":
        return CounterResult(data["id"], data["open"])
    if kind == "occupancy":
        return OccupancyResult(data["occupancy"])
    if kind == "undo":
        return UndoResult(data["undone"], data["counter"], data["current"], data["tickets"])
    if kind == "no_ticket":
        return NoTicket()
    return Nothing()
