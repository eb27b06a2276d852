"""Routes (api-remote "Routes"): a service with `next` is one step of a route.

When a visit of such a step ends `done` (finish, or the counter's next call),
the ticket does not end: it waits in the next service's queue, with the same
number, at the back of that queue (it joins it now), and stays inside. The
last step (no `next`) ends it `done`; a no-show at any step ends it; a transfer
moves it into another service, whose own `next` then applies. The route a
ticket shows is the services it has finished plus its current service's chain.
"""

from __future__ import annotations

from queue_server.domain import events as ev
from queue_server.domain.settings import ServiceConfig
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import Status, Ticket


def next_step(state: OfficeState, ticket: Ticket) -> ServiceConfig | None:
    """The service a ticket goes on to when its current visit ends done, or None (its last step)."""
    service = state.services.get(ticket.service)
    if service is None or service.next is None:
        return None
    return state.services.get(service.next)


def advance(state: OfficeState, step: Step, ticket: Ticket, counter_id: str | None) -> None:
    """Move a ticket whose visit just ended done on to its next step (the caller freed the counter)."""
    target = next_step(state, ticket)
    assert target is not None  # the caller asked next_step first
    from_service = ticket.service
    ticket.route_before = ",".join((*ticket.earlier_steps(), from_service))
    ticket.service = target.id
    ticket.status = Status.WAITING
    ticket.counter = None
    # A new visit starts with the next call; the ticket joins the back of its new queue now.
    ticket.called_at = None
    ticket.recalled_at = None
    ticket.serving_at = None
    ticket.place = state.take_place()
    state.queues.add_pending(target.id, ticket.key)
    state.add_waiting(ticket)  # still inside: occupancy does not change
    state.touch(ticket)
    step.emit(ev.TicketRouted(*step.about(ticket), from_service, counter_id))
