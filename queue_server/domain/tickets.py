"""A ticket and its statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OUTSIDE = "outside"
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    REMOTE = "remote"  # taken from home for today: in the order, not inside, never called until check-in
    BOOKED = "booked"  # for a later day: becomes `remote` at that day's start


PLACE_GAP = 1 << 20
"""Places of tickets issued in a row lie this far apart, so a rejoin can slot in between (queues.py)."""


PENDING = frozenset({Status.OUTSIDE, Status.WAITING, Status.REMOTE})
"""Not yet called: these have a position in their service's queue (a remote ticket too, api-remote)."""
REMOTE_ACTIVE = frozenset({Status.REMOTE, Status.BOOKED})
"""Taken from afar and not yet checked in: what the per-NIK and per-device limits count."""
INSIDE = frozenset({Status.WAITING, Status.CALLED, Status.SERVING})
"""Counted in the office's occupancy."""
CURRENT = frozenset({Status.CALLED, Status.SERVING})
"""At a counter."""
FINAL = frozenset({Status.DONE, Status.NO_SHOW, Status.CANCELLED})


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:03d}"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(slots=True)
class Ticket:
    id: int
    day: str
    service: str
    sequence: int
    number: str
    party_size: int
    issued_at: str
    status: Status
    token_hash: str
    issued_service: str
    origin: str = "web"
    counter: str | None = None
    officer: str | None = None
    admitted_at: str | None = None
    called_at: str | None = None
    recalled_at: str | None = None
    serving_at: str | None = None
    finished_at: str | None = None
    recalls: int = 0
    transfers: int = 0
    # api-remote. `place` orders a service's queue (not the id: a rejoin slots in between, a
    # routed ticket joins at the back); tickets issued later have larger places.
    place: int = 0
    priority: str | None = None
    rejoined: int = 0  # 1 once it rejoined after a missed call (allowed once)
    no_show_mark: int | None = None  # calls of its service made when it was marked no-show
    checked_in_at: str | None = None
    route_before: str = ""  # the services of its finished route steps, comma-separated
    nik_hash: str | None = None  # keyed hash (engine/remote), never shown
    holder: str = ""  # keyed hashes of the device and address that took it from afar ("dev addr")

    @property
    def key(self) -> tuple[int, int]:
        """Its order in a queue: place, then id."""
        return (self.place, self.id)

    def earlier_steps(self) -> tuple[str, ...]:
        return tuple(self.route_before.split(",")) if self.route_before else ()

    def as_dict(self, position: int | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "service": self.service,
            "status": str(self.status),
            "party_size": self.party_size,
            "position": position,
            "counter": self.counter,
            "issued_at": self.issued_at,
            "admitted_at": self.admitted_at,
            "called_at": self.called_at,
            "serving_at": self.serving_at,
            "finished_at": self.finished_at,
            # Not the officer: this view goes to lobby screens and phones. Reports read it from the database.
            "day": self.day,
            "date": self.day,
            "priority": self.priority,
            "checked_in_at": self.checked_in_at,
        }
