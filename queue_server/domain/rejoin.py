"""Missed calls (api-remote "Missed calls"): a no-show of today may come back, once.

It may rejoin only while fewer than `rejoin_within_calls` calls of its service
were made since it was marked no-show. It goes back to `waiting` with its
number, placed so that exactly `min(rejoin_after, waiting)` of the tickets
waiting in its service at that moment are ahead of it in place order: it does
not jump the queue and does not wait it all again. (With priority visitors in
the same service the priority rule of queues.py still applies on top.)
"""

from __future__ import annotations

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import Conflict
from queue_server.domain.queues import Key
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import PLACE_GAP, Status, Ticket


def refusal(state: OfficeState, ticket: Ticket) -> tuple[str, str] | None:
    """Why this ticket may not rejoin now, as (reason, English message), or None when it may."""
    policy = state.queue_policy
    if policy.rejoin_within_calls <= 0:
        return "disabled", "this office does not take missed calls back"
    if ticket.status is not Status.NO_SHOW:
        return "not_no_show", f"ticket {ticket.number} is {ticket.status}, not a missed call"
    if ticket.day != state.day:
        return "not_today", f"ticket {ticket.number} is not of today"
    if ticket.rejoined:
        return "already_rejoined", f"ticket {ticket.number} has already rejoined once"
    since = calls_since(state, ticket)
    if since is None or since >= policy.rejoin_within_calls:
        return (
            "window_passed",
            f"{policy.rejoin_within_calls} numbers have been called since; please take a new number",
        )
    return None


def calls_since(state: OfficeState, ticket: Ticket) -> int | None:
    """Calls of the ticket's service since it was marked no-show (None: it never was, by a counter)."""
    if ticket.no_show_mark is None:
        return None
    return state.service_calls.get(ticket.service, 0) - ticket.no_show_mark


def rejoin(state: OfficeState, step: Step, command: cmd.Rejoin) -> Ticket:
    ticket = _find(state, command)
    why = refusal(state, ticket)
    if why is not None:
        reason, message = why
        raise Conflict("rejoin_not_allowed", message, {**state.details(ticket), "reason": reason})
    ticket.place = _place_behind(state, ticket.service, state.queue_policy.rejoin_after)
    ticket.rejoined = 1
    ticket.counter = None
    ticket.finished_at = None
    state.queues.add_pending(ticket.service, ticket.key)
    # The visitor is back in the building (like a reactivated ticket): inside, even over capacity.
    state.enter(ticket, step.at)
    step.emit(ev.TicketRejoined(*step.about(ticket)))
    return ticket


def _find(state: OfficeState, command: cmd.Rejoin) -> Ticket:
    if command.ticket_id is not None:
        return state.ticket(command.ticket_id)
    return state.ticket_numbered(command.number)


def _place_behind(state: OfficeState, service: str, after: int) -> int:
    """A place right behind the `after`-th waiting ticket of the service (the front when 0)."""
    waiting = state.queues.waiting(service)
    pending = state.queues.pending[service]
    count = min(after, len(waiting))
    lower: Key | None = waiting[count - 1] if count else None
    if lower is None:
        upper: Key | None = pending[0] if pending else None
    else:
        index = pending.index(lower) + 1
        upper = pending[index] if index < len(pending) else None
    if upper is None:
        return state.take_place()
    if lower is None:
        return upper[0] - PLACE_GAP
    if upper[0] - lower[0] < 2:
        state.renumber()  # no room left between them: spread every place out again, order kept
        return _place_behind(state, service, after)
    return (lower[0] + upper[0]) // 2
