"""Everything an `OfficeState` holds that a load from storage sets, as plain values in order: two
states load-equal exactly when their pictures are equal (tests of domain/reload.py)."""

from __future__ import annotations

from typing import Any

from queue_server.domain.state import OfficeState


def state_picture(state: OfficeState) -> dict[str, Any]:
    queues = state.queues
    return {
        "day": state.day,
        "seq": state.seq,
        "next_ticket_id": state.next_ticket_id,
        "next_place": state.next_place,
        "tickets": list(state.tickets.items()),
        "by_token": sorted(state.by_token.items()),
        "by_number": sorted(state.by_number.items()),
        "last_number": sorted(state.last_number.items()),
        "queues": (queues.pending, queues.normal, queues.priority),
        "occupancy": (
            state.occupancy.capacity,
            state.occupancy.door_count,
            state.occupancy.ticket_people,
            list(state.occupancy.outside.items()),
        ),
        "counters": [(c.id, c.open, c.reason, c.current) for c in state.counters.values()],
        "service_calls": state.service_calls,
        "priority_streaks": state.priority_streaks,
        "bookings": {day: list(tickets) for day, tickets in sorted(state.bookings.items())},
        "booked": list(state.booked.items()),
        "booked_tokens": sorted(state.booked_tokens.items()),
        "samples": {s: list(samples) for s, samples in state.service_times.samples.items()},
        "changed": (state.changed_tickets, state.changed_counters),
    }
