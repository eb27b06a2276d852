"""One ticket shape: the tickets table's columns are the Ticket dataclass's fields, in order."""

from __future__ import annotations

import dataclasses
from typing import Any

from queue_server.domain.tickets import Status, Ticket

TICKET_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Ticket))
UPSERT_TICKET = (
    f"INSERT OR REPLACE INTO tickets ({', '.join(TICKET_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in TICKET_COLUMNS)})"
)
_STATUS = TICKET_COLUMNS.index("status")
SELECT_TICKETS = f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"


def ticket_row(ticket: Ticket) -> tuple[Any, ...]:
    # getattr rather than dataclasses.astuple: no deep copies on the writer's hot path.
    row = [getattr(ticket, name) for name in TICKET_COLUMNS]
    row[_STATUS] = str(ticket.status)
    return tuple(row)


def ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    values = dict(zip(TICKET_COLUMNS, row, strict=True))
    values["status"] = Status(values["status"])
    return Ticket(**values)
