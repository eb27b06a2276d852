"""What a counter does: call the next or a given number, recall, serve, finish, no-show,
transfer, open and close. A ticket is at one counter at most, and only `waiting`
tickets (inside the office) can be called."""

from __future__ import annotations

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain import steps
from queue_server.domain.admission import admit_waiting_outside
from queue_server.domain.errors import Conflict, NotFound
from queue_server.domain.state import Counter, OfficeState, Step
from queue_server.domain.tickets import Status, Ticket


def call_next(state: OfficeState, step: Step, command: cmd.CallNext) -> Ticket | None:
    counter = state.open_counter(command.counter)
    _close_current(state, step, counter)
    # Admit first: a visitor let in now may be the one this counter calls.
    admit_waiting_outside(state, step)
    policy = state.queue_policy
    ticket_id = state.queues.pick_next(counter.services, state.priority_streaks, policy.max_priority_in_a_row)
    if ticket_id is None:
        return None
    ticket = state.tickets[ticket_id]
    _call(state, step, counter, ticket, command.officer)
    return ticket


def call_number(state: OfficeState, step: Step, command: cmd.CallNumber) -> Ticket:
    counter = state.open_counter(command.counter)
    number = command.number.upper()
    ticket_id = state.by_number.get(number)
    if ticket_id is None:
        raise NotFound("unknown_ticket_number", f"no ticket {number} today", {"number": number})
    ticket = state.tickets[ticket_id]
    if counter.current == ticket.id:
        raise Conflict("invalid_transition", f"ticket {ticket.number} is already here", state.details(ticket))
    if ticket.status is not Status.WAITING:
        raise Conflict(
            "invalid_transition",
            f"ticket {ticket.number} is {ticket.status}, not waiting",
            state.details(ticket),
        )
    if ticket.service not in counter.services and not counter.any_service:
        service = state.services[ticket.service]
        raise Conflict(
            "service_not_served",
            f"{counter.name} does not serve {service.name}",
            {**state.details(ticket), "counter": counter.id, "counter_name": counter.name},
        )
    _close_current(state, step, counter)
    admit_waiting_outside(state, step)
    _call(state, step, counter, ticket, command.officer)
    return ticket


def recall(state: OfficeState, step: Step, command: cmd.Recall) -> Ticket:
    counter, ticket = state.current(command.counter, command.expected)
    _require(ticket, (Status.CALLED,), "recall")
    ticket.recalls += 1
    ticket.recalled_at = step.at
    state.touch(ticket)
    step.emit(ev.TicketRecalled(*step.about(ticket), counter.id))
    return ticket


def serve(state: OfficeState, step: Step, command: cmd.Serve) -> Ticket:
    counter, ticket = state.current(command.counter, command.expected)
    _require(ticket, (Status.CALLED,), "serve")
    state.before_change(ticket)
    ticket.status = Status.SERVING
    ticket.serving_at = step.at
    state.touch(ticket)
    step.emit(ev.TicketServing(*step.about(ticket), counter.id))
    return ticket


def finish(state: OfficeState, step: Step, command: cmd.Finish) -> Ticket:
    counter, ticket = state.current(command.counter, command.expected)
    _require(ticket, (Status.CALLED, Status.SERVING), "finish")
    _release(state, step, counter, ticket, Status.DONE)
    admit_waiting_outside(state, step)
    return ticket


def no_show(state: OfficeState, step: Step, command: cmd.NoShow) -> Ticket:
    counter, ticket = state.current(command.counter, command.expected)
    _require(ticket, (Status.CALLED,), "mark as no-show")
    _release(state, step, counter, ticket, Status.NO_SHOW)
    admit_waiting_outside(state, step)
    return ticket


def transfer(state: OfficeState, step: Step, command: cmd.Transfer) -> Ticket:
    counter, ticket = state.current(command.counter, command.expected)
    target = state.service(command.service)
    _require(ticket, (Status.CALLED, Status.SERVING), "transfer")
    from_service = ticket.service
    counter.current = None
    state.touch_counter(counter)
    ticket.service = target.id
    ticket.status = Status.WAITING
    ticket.counter = None
    ticket.transfers += 1
    state.touch(ticket)
    # Its place is its issue order (its place key), so it does not wait twice.
    state.queues.add_pending(target.id, ticket.key)
    state.add_waiting(ticket)
    step.emit(ev.TicketTransferred(*step.about(ticket), from_service, counter.id))
    return ticket


def open_counter(state: OfficeState, step: Step, command: cmd.OpenCounter) -> Counter:
    counter = state.counter(command.counter)
    if not counter.open:
        counter.open = True
        counter.reason = None
        state.touch_counter(counter)
        step.emit(ev.CounterOpened(*step.stamp(), state.counter_view(counter)))
    return counter


def close_counter(state: OfficeState, step: Step, command: cmd.CloseCounter) -> Counter:
    counter = state.counter(command.counter)
    if counter.open or counter.reason != command.reason:
        counter.open = False
        counter.reason = command.reason
        state.touch_counter(counter)
        step.emit(ev.CounterClosed(*step.stamp(), state.counter_view(counter)))
    return counter


def _call(state: OfficeState, step: Step, counter: Counter, ticket: Ticket, officer: str | None) -> None:
    state.before_change(ticket)
    state.note_call(ticket)
    state.leave_pending(ticket)
    ticket.status = Status.CALLED
    ticket.counter = counter.id
    ticket.called_at = step.at
    ticket.officer = officer
    counter.current = ticket.id
    state.touch_counter(counter)
    state.touch(ticket)
    step.emit(ev.TicketCalled(*step.about(ticket), counter.id))


def _close_current(state: OfficeState, step: Step, counter: Counter) -> None:
    """Calling the next visitor finishes the current one."""
    if counter.current is not None:
        _release(state, step, counter, state.tickets[counter.current], Status.DONE)


def _release(state: OfficeState, step: Step, counter: Counter, ticket: Ticket, status: Status) -> None:
    state.before_change(ticket)
    counter.current = None
    state.touch_counter(counter)
    if status is Status.DONE and steps.next_step(state, ticket) is not None:
        state.service_times.note_visit(ticket.service, ticket, step.at)
        steps.advance(state, step, ticket, counter.id)  # a route: on to its next step, still inside
        return
    state.finish(ticket, status, was_inside=True, at=step.at)
    if status is Status.DONE:
        state.service_times.note(ticket)
        step.emit(ev.TicketDone(*step.about(ticket), counter.id))
    else:
        ticket.no_show_mark = state.service_calls.get(ticket.service, 0)  # opens the rejoin window
        step.emit(ev.TicketNoShow(*step.about(ticket), counter.id))


def _require(ticket: Ticket, allowed: tuple[Status, ...], action: str) -> None:
    if ticket.status not in allowed:
        raise Conflict("invalid_transition", f"cannot {action} ticket {ticket.number}: it is {ticket.status}")
