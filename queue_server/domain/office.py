"""`Office.handle(command, now)`: the one entry to the rules, a typed dispatch to each family.

A command is checked against the state and refused with a `DomainError`
before anything changes, or applied; the outcome carries its result and the
events it caused, in order: ticket events first, then at most one
`occupancy.changed`. This module never waits, reads a clock or touches a
disk, so every rule can be tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from queue_server.domain import admin, admission, counters, issuing, rejoin, remote, supervise, undo
from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.day import start_day
from queue_server.domain.settings import CounterConfig, QueuePolicy, RemotePolicy, ServiceConfig
from queue_server.domain.state import Counter, OfficeState, Step
from queue_server.domain.tickets import Ticket, iso

Result = Ticket | Counter | ServiceConfig | dict[str, int] | undo.Undone | None
"""What a command gives back: the ticket it touched, a counter, a service, the occupancy, an undo."""

AnyCommand = cmd.Command | admin.AdminCommand | supervise.SupervisorCommand
"""Counter, visitor and door steps, admin changes and the supervisor's hand on the queue."""

UNDOABLE_KINDS: dict[type, str] = {
    cmd.CallNext: "call",
    cmd.CallNumber: "call",
    cmd.Finish: "finish",
    cmd.NoShow: "no_show",
    cmd.Serve: "serve",
}
"""Counter steps recorded for undo, and the kind each is recorded as."""


@dataclass
class Outcome:
    result: Result
    events: list[ev.Event] = field(default_factory=list)


class Office:
    """One office's rules over its state."""

    def __init__(
        self,
        services: Iterable[ServiceConfig],
        counters_: Iterable[CounterConfig],
        capacity: int,
        day: str,
        seq: int = 0,
        next_ticket_id: int = 1,
        queue_policy: QueuePolicy | None = None,
        remote_policy: RemotePolicy | None = None,
    ) -> None:
        self.state = OfficeState(
            services, counters_, capacity, day, seq, next_ticket_id, queue_policy, remote_policy
        )

    def handle(self, command: AnyCommand, now: datetime) -> Outcome:
        """Apply one command at `now` (office-local, aware). Call `roll_over(now)` first."""
        state = self.state
        step = Step(state, iso(now))
        before = state.occupancy.as_dict()
        kind = UNDOABLE_KINDS.get(type(command))
        if isinstance(command, admin.ADMIN_COMMANDS):
            result: Result = admin.apply(state, step, command)
        elif isinstance(command, supervise.SUPERVISOR_COMMANDS):
            result = supervise.apply(state, step, command)
        elif kind is not None and isinstance(
            command, cmd.CallNext | cmd.CallNumber | cmd.Finish | cmd.NoShow | cmd.Serve
        ):
            result = undo.journaled(
                state, command.counter, kind, now, lambda: _dispatch(state, step, command, now)
            )
        else:
            result = _dispatch(state, step, command, now)
        after = state.occupancy.as_dict()
        if after != before:
            step.emit(ev.OccupancyChanged(*step.stamp(), after))
        return Outcome(result, step.events)

    def roll_over(self, now: datetime) -> list[ev.Event]:
        """Start a new local day if midnight has passed; the events of closing the old one."""
        today = now.date().isoformat()
        if today <= self.state.day:
            return []
        step = Step(self.state, iso(now))
        start_day(self.state, step, today)
        return step.events

    def config_changed(
        self,
        now: datetime,
        services: list[dict[str, Any]],
        counters_: list[dict[str, Any]],
        hours: dict[str, Any] | None = None,
    ) -> list[ev.Event]:
        """The event that tells screens the services or counters changed (e.g. at start-up)."""
        step = Step(self.state, iso(now))
        step.emit(ev.ConfigChanged(*step.stamp(), services, counters_, hours))
        return step.events


def _dispatch(state: OfficeState, step: Step, command: cmd.Command, now: datetime) -> Result:
    match command:
        case cmd.IssueTicket():
            return issuing.issue(state, step, command)
        case cmd.IssueRemote():
            return remote.issue(state, step, command)
        case cmd.CheckIn():
            return remote.check_in(state, step, command)
        case cmd.Rejoin():
            return rejoin.rejoin(state, step, command)
        case cmd.CancelTicket() if command.ticket_id in state.booked:
            return remote.cancel_booking(state, step, command.ticket_id)
        case cmd.CancelTicket():
            return issuing.cancel(state, step, command)
        case cmd.CallNext():
            return counters.call_next(state, step, command)
        case cmd.CallNumber():
            return counters.call_number(state, step, command)
        case cmd.Recall():
            return counters.recall(state, step, command)
        case cmd.Serve():
            return counters.serve(state, step, command)
        case cmd.Finish():
            return counters.finish(state, step, command)
        case cmd.NoShow():
            return counters.no_show(state, step, command)
        case cmd.Transfer():
            return counters.transfer(state, step, command)
        case cmd.Undo():
            return undo.take_back(state, step, command, now)
        case cmd.OpenCounter():
            return counters.open_counter(state, step, command)
        case cmd.CloseCounter():
            return counters.close_counter(state, step, command)
        case cmd.DoorEnter():
            return admission.door_enter(state, step, command)
        case cmd.DoorExit():
            return admission.door_exit(state, step, command)
        case cmd.SetCapacity():
            return admission.set_capacity(state, step, command)
        case cmd.Tick():
            return None  # a clock tick: only the day roll-over before it can change anything
    raise TypeError(f"unknown command {command!r}")  # pragma: no cover - mypy checks the match
