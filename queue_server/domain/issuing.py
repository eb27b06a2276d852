"""Taking a ticket and giving it back: numbering per service and day, and cancellation."""

from __future__ import annotations

from datetime import datetime

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.admission import admit_waiting_outside
from queue_server.domain.errors import Conflict, Invalid
from queue_server.domain.settings import ServiceConfig
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import INSIDE, PENDING, Status, Ticket, format_number, iso


def check_open(state: OfficeState, service: ServiceConfig, at: str) -> None:
    """Refuse a new ticket of a closed service, or outside the opening hours."""
    if not service.open:
        raise Conflict("service_closed", f"{service.name} takes no new tickets now", {"service": service.id})
    if state.hours is not None:
        now = datetime.fromisoformat(at)
        if not state.hours.is_open(now):
            opening = state.hours.next_opening(now)
            when = f"{opening:%Y-%m-%d} {opening:%H:%M}" if opening else None
            message = f"the office is closed; it opens {when}" if when else "the office is closed"
            raise Conflict("office_closed", message, {"opens_at": iso(opening) if opening else None})


def check_party_size(state: OfficeState, party_size: int) -> None:
    if not 1 <= party_size <= state.occupancy.capacity:
        raise Invalid(
            "invalid_party_size",
            f"party_size must be between 1 and {state.occupancy.capacity}",
        )


def check_priority(state: OfficeState, priority: str | None) -> None:
    """A priority visitor names one of the office's categories (api-remote)."""
    categories = state.queue_policy.priority_categories
    if priority is not None and priority not in categories:
        offered = ", ".join(categories) or "none"
        raise Invalid(
            "unknown_priority",
            f"{priority!r} is not a priority category here (offered: {offered})",
            {"priority": priority, "categories": list(categories)},
        )


def issue(state: OfficeState, step: Step, command: cmd.IssueTicket) -> Ticket:
    service = state.service(command.service)
    check_open(state, service, step.at)
    check_priority(state, command.priority)
    check_party_size(state, command.party_size)
    sequence = state.last_number[service.id] + 1
    ticket = Ticket(
        id=state.next_ticket_id,
        day=state.day,
        service=service.id,
        sequence=sequence,
        number=format_number(service.prefix, sequence),
        party_size=command.party_size,
        issued_at=step.at,
        status=Status.OUTSIDE,
        token_hash=command.token_hash,
        issued_service=service.id,
        origin=command.origin,
        place=state.take_place(),
        priority=command.priority,
    )
    state.next_ticket_id += 1
    state.last_number[service.id] = sequence
    state.add(ticket)
    if state.occupancy.admits_new_ticket(ticket.party_size):
        state.enter(ticket, step.at)
    else:
        state.put_outside(ticket)
    step.emit(ev.TicketIssued(*step.about(ticket)))
    return ticket


def cancel(state: OfficeState, step: Step, command: cmd.CancelTicket) -> Ticket:
    ticket = state.ticket(command.ticket_id)
    if ticket.status not in PENDING:
        raise Conflict(
            "ticket_not_cancellable", f"ticket {ticket.number} is {ticket.status} and cannot be cancelled"
        )
    was_inside = ticket.status in INSIDE
    state.leave_pending(ticket)
    state.finish(ticket, Status.CANCELLED, was_inside, step.at)
    step.emit(ev.TicketCancelled(*step.about(ticket), "visitor"))
    admit_waiting_outside(state, step)
    return ticket
