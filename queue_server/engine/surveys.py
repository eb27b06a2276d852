"""Survey answers: checked against the ticket, written on the store's writer thread.

The row keeps only what reports need (service, counter, the local day the ticket
was finished): the answer is anonymous. The primary key on the ticket id is what
makes "one answer per ticket" hold even for two answers racing each other.
"""

from __future__ import annotations

from typing import Any

from queue_server.domain import survey
from queue_server.domain.errors import Conflict
from queue_server.domain.tickets import Status, Ticket
from queue_server.engine.service import OfficeService
from queue_server.store import surveys


async def answer(service: OfficeService, ticket: Ticket, given: survey.Answer) -> dict[str, Any]:
    """Record the answer of a `done` ticket; Conflict if not finished or answered already."""
    db = service.store.db
    already = await db.read(lambda conn: surveys.answered(conn, ticket.id))
    survey.check_answerable(str(ticket.status), ticket.number, already)
    finished = ticket.finished_at or service.now().isoformat(timespec="seconds")
    now = service.now().isoformat(timespec="seconds")
    try:
        await db.write(
            lambda conn: surveys.insert(
                conn,
                ticket.id,
                finished[:10],
                ticket.service,
                ticket.counter,
                given.rating,
                given.elements,
                given.comment,
                now,
            )
        )
    except surveys.AlreadyAnswered:
        # Two answers at once: the second loses at the primary key, with the same refusal.
        raise Conflict("survey_already_answered", f"ticket {ticket.number} has answered already") from None
    return {"ticket": ticket.number, **given.as_dict()}


async def answered(service: OfficeService, ticket: Ticket) -> bool:
    db = service.store.db
    return await db.read(lambda conn: surveys.answered(conn, ticket.id))


def latest_done(service: OfficeService, counter: str) -> Ticket | None:
    """Today's ticket finished most recently at this counter (the visitor the tablet asks)."""
    done = [
        t
        for t in service.office.state.tickets.values()
        if t.counter == counter and t.status == Status.DONE and t.finished_at
    ]
    return max(done, key=lambda t: (t.finished_at or "", t.id), default=None)
