"""The supervisor's hand on the live queue: cancel, reactivate or transfer any ticket.

The same invariants hold as for counter steps: a ticket is at one counter at
most, occupancy counts exactly the parties of tickets inside, and a ticket's
place in a queue is its issue order (its id), so a reactivated or transferred
ticket goes back to where it was issued, never to the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from queue_server.domain import events as ev
from queue_server.domain.admission import admit_waiting_outside
from queue_server.domain.errors import Conflict
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import FINAL, INSIDE, PENDING, Status, Ticket


@dataclass(frozen=True)
class SupervisorCancel:
    ticket_id: int


@dataclass(frozen=True)
class Reactivate:
    ticket_id: int


@dataclass(frozen=True)
class SupervisorTransfer:
    ticket_id: int
    service: str


SupervisorCommand = SupervisorCancel | Reactivate | SupervisorTransfer
SUPERVISOR_COMMANDS = (SupervisorCancel, Reactivate, SupervisorTransfer)
CANCELLABLE = frozenset({Status.OUTSIDE, Status.WAITING, Status.CALLED, Status.REMOTE})
REACTIVATABLE = frozenset({Status.NO_SHOW, Status.CANCELLED})


def apply(state: OfficeState, step: Step, command: SupervisorCommand) -> Ticket:
    match command:
        case SupervisorCancel():
            return cancel(state, step, command.ticket_id)
        case Reactivate():
            return reactivate(state, step, command.ticket_id)
        case SupervisorTransfer():
            return transfer(state, step, command.ticket_id, command.service)


def cancel(state: OfficeState, step: Step, ticket_id: int) -> Ticket:
    """Cancel an outside, waiting or called ticket; a called one leaves its counter."""
    ticket = state.ticket(ticket_id)
    _require(state, ticket, CANCELLABLE, "cancel")
    was_inside = ticket.status in INSIDE
    if ticket.status in PENDING:
        state.leave_pending(ticket)
    else:
        _leave_counter(state, ticket)
    state.finish(ticket, Status.CANCELLED, was_inside, step.at)
    step.emit(ev.TicketCancelled(*step.about(ticket), "supervisor"))
    admit_waiting_outside(state, step)
    return ticket


def reactivate(state: OfficeState, step: Step, ticket_id: int) -> Ticket:
    """A no-show or cancelled ticket of today waits again, at its original place in its queue."""
    ticket = state.ticket(ticket_id)
    _require(state, ticket, REACTIVATABLE, "reactivate")
    if ticket.day != state.day:
        raise Conflict("invalid_transition", f"ticket {ticket.number} is not of today", state.details(ticket))
    ticket.counter = None
    ticket.finished_at = None
    state.queues.add_pending(ticket.service, ticket.key)
    # The visitor is in the building (the supervisor sees them): inside, even over capacity,
    # as with an undo; nobody else is admitted until there is room again.
    state.enter(ticket, step.at)
    step.emit(ev.TicketReactivated(*step.about(ticket)))
    return ticket


def transfer(state: OfficeState, step: Step, ticket_id: int, service_id: str) -> Ticket:
    """Move any ticket not yet done to another service's queue, keeping its place (its id)."""
    ticket = state.ticket(ticket_id)
    target = state.service(service_id)
    _require(state, ticket, frozenset(Status) - FINAL, "transfer")
    from_service = ticket.service
    from_counter = ticket.counter or ""
    if ticket.status in (Status.OUTSIDE, Status.REMOTE):  # not inside: it stays where it is
        state.queues.remove(ticket.service, ticket.key, was_waiting=False)
        ticket.service = target.id
        state.queues.add_pending(target.id, ticket.key)
    else:
        if ticket.status is Status.WAITING:
            state.queues.remove(ticket.service, ticket.key, was_waiting=True)
        else:
            _leave_counter(state, ticket)
            ticket.status = Status.WAITING
        ticket.service = target.id
        state.queues.add_pending(target.id, ticket.key)
        state.add_waiting(ticket)
    ticket.counter = None
    ticket.transfers += 1
    state.touch(ticket)
    step.emit(ev.TicketTransferred(*step.about(ticket), from_service, from_counter))
    return ticket


def _leave_counter(state: OfficeState, ticket: Ticket) -> None:
    counter = state.counters.get(ticket.counter) if ticket.counter else None
    if counter is not None and counter.current == ticket.id:
        counter.current = None
        state.touch_counter(counter)
        # An undo of that counter's step must not bring back a ticket the supervisor moved.
        state.undo_steps.pop(counter.id, None)


def _require(state: OfficeState, ticket: Ticket, allowed: frozenset[Status], action: str) -> None:
    if ticket.status not in allowed:
        raise Conflict(
            "invalid_transition",
            f"cannot {action} ticket {ticket.number}: it is {ticket.status}",
            state.details(ticket),
        )
