"""Who may come in: door counts, capacity, and admitting outside tickets strictly in issue order."""

from __future__ import annotations

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import Conflict, Invalid
from queue_server.domain.state import OfficeState, Step

MAX_CAPACITY = 100_000


def admit_waiting_outside(state: OfficeState, step: Step) -> None:
    """Let in the oldest outside tickets that fit now (one that does not fit is not overtaken)."""
    for ticket_id in state.occupancy.next_admissions():
        ticket = state.tickets[ticket_id]
        del state.occupancy.outside[ticket_id]
        state.enter(ticket, step.at)
        step.emit(ev.TicketAdmitted(*step.about(ticket)))


def door_enter(state: OfficeState, step: Step, command: cmd.DoorEnter) -> dict[str, int]:
    _require_count(command.count)
    if not state.occupancy.fits(command.count):
        raise Conflict(
            "capacity_full",
            f"the office is full ({state.occupancy.inside} / {state.occupancy.capacity}); "
            "please ask the visitor to wait outside",
        )
    state.occupancy.door_count += command.count
    return state.occupancy.as_dict()


def door_exit(state: OfficeState, step: Step, command: cmd.DoorExit) -> dict[str, int]:
    _require_count(command.count)
    if command.count > state.occupancy.door_count:
        raise Conflict(
            "occupancy_below_zero",
            f"only {state.occupancy.door_count} people were counted in without a ticket",
        )
    state.occupancy.door_count -= command.count
    admit_waiting_outside(state, step)
    return state.occupancy.as_dict()


def set_capacity(state: OfficeState, step: Step, command: cmd.SetCapacity) -> dict[str, int]:
    if not 1 <= command.capacity <= MAX_CAPACITY:
        raise Invalid("invalid_capacity", f"capacity must be between 1 and {MAX_CAPACITY}")
    state.occupancy.capacity = command.capacity
    admit_waiting_outside(state, step)
    return state.occupancy.as_dict()


def _require_count(count: int) -> None:
    if count < 1:
        raise Invalid("invalid_count", "count must be 1 or more")
