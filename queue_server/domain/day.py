"""The office's day: at local midnight yesterday's queue closes and numbering restarts."""

from __future__ import annotations

from queue_server.domain import events as ev
from queue_server.domain import remote
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import CURRENT, INSIDE, PENDING, Status


def start_day(state: OfficeState, step: Step, day: str) -> None:
    """Close yesterday: unfinished tickets end, numbering and the door count restart; the new
    day's bookings become its remote tickets (after `day.started`, so boards show them)."""
    before = state.occupancy.as_dict()
    for ticket in sorted(state.tickets.values(), key=lambda t: t.id):
        if ticket.status is Status.REMOTE:
            remote.close_unchecked(state, step, ticket)  # never checked in: a no-show (api-remote)
        elif ticket.status in PENDING:
            was_inside = ticket.status in INSIDE
            state.leave_pending(ticket)
            state.finish(ticket, Status.CANCELLED, was_inside, step.at)
            step.emit(ev.TicketCancelled(*step.about(ticket), "day_end"))
        elif ticket.status in CURRENT:
            counter_id = ticket.counter
            if counter_id is not None and counter_id in state.counters:
                state.counters[counter_id].current = None
                state.changed_counters.add(counter_id)
            state.finish(ticket, Status.DONE, True, step.at)
            step.emit(ev.TicketDone(*step.about(ticket), None))
    state.occupancy.door_count = 0
    state.occupancy.outside.clear()
    state.day = day
    state.tickets = {}
    state.by_token = {}
    state.by_number = {}
    state.last_number = {s: 0 for s in state.services}
    state.undo_steps.clear()
    state.service_calls = {}
    state.priority_streaks = {}
    # Wait estimates learn from the day's own visits (estimates.py).
    state.service_times.clear()
    if state.occupancy.as_dict() != before:
        step.emit(ev.OccupancyChanged(*step.stamp(), state.occupancy.as_dict()))
    step.emit(ev.DayStarted(*step.stamp(), day))
    remote.open_bookings(state, step)
