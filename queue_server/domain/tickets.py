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


PENDING = frozenset({Status.OUTSIDE, Status.WAITING})
"""Not yet called: these have a position in their service's queue."""
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
        }
