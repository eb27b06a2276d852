"""The office's rules: tickets, queues, counters and capacity. No I/O.

`Office.handle(command, now)` checks a command against the current state,
refuses it with a `DomainError` before changing anything, or applies it and
returns the events it caused. The caller (service.py) makes those changes
durable and publishes the events; this module never waits, reads a clock or
touches a disk, so every rule can be tested directly.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from queue_server import commands as cmd
from queue_server import estimates, undo
from queue_server import events as ev
from queue_server.capacity import Occupancy
from queue_server.config import CounterConfig, ServiceConfig
from queue_server.tickets import (
    CURRENT,
    INSIDE,
    PENDING,
    Status,
    Ticket,
    format_number,
    iso,
)

RECENT_CALLS = 10
RECENT_ADMITTED = 10
SERVICE_TIME_SAMPLES = 20
DEFAULT_SERVICE_MINUTES = estimates.DEFAULT_MINUTES
# A visit closed within seconds was a mis-press or a quick hand-back, not service time.
SHORTEST_SAMPLE_SECONDS = 30.0


class DomainError(Exception):
    """A command the rules refuse; `code` is api-v1's error code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Facts a screen formats in its own language ("A012 sudah selesai ... pukul 09.14").
        self.details = details


@dataclass
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    open: bool = True
    current: int | None = None
    reason: str | None = None
    any_service: bool = False  # may call a number of any service, not only its own


@dataclass
class Outcome:
    """What a command produced: its result for the caller and its events."""

    result: Any
    events: list[ev.Event] = field(default_factory=list)


class Office:
    """The whole live state of one office for the current local day."""

    def __init__(
        self,
        services: Iterable[ServiceConfig],
        counters: Iterable[CounterConfig],
        capacity: int,
        day: str,
        seq: int = 0,
        next_ticket_id: int = 1,
    ) -> None:
        self.services: dict[str, ServiceConfig] = {s.id: s for s in services}
        self.counters: dict[str, Counter] = {
            c.id: Counter(c.id, c.name, c.services, c.open, any_service=c.call_any_service) for c in counters
        }
        self.occupancy = Occupancy(capacity)
        self.day = day
        self.seq = seq
        self.next_ticket_id = next_ticket_id
        self.tickets: dict[int, Ticket] = {}
        self.by_token: dict[str, int] = {}
        self.by_number: dict[str, int] = {}
        self.last_number: dict[str, int] = {s: 0 for s in self.services}
        # Per service, sorted ticket ids: not yet called (for positions), and waiting (to call).
        self.pending: dict[str, list[int]] = {s: [] for s in self.services}
        self.waiting: dict[str, list[int]] = {s: [] for s in self.services}
        self.recent_calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self.recent_admitted: deque[dict[str, Any]] = deque(maxlen=RECENT_ADMITTED)
        # Minutes each of the latest finished visits took, per service, for wait estimates.
        self.service_minutes: dict[str, deque[float]] = {
            s: deque(maxlen=SERVICE_TIME_SAMPLES) for s in self.services
        }
        # What changed since the last `take_changes()`, for storage.
        self.changed_tickets: dict[int, Ticket] = {}
        self.changed_counters: set[str] = set()
        # Per counter, its latest step that may still be undone (undo.py decides when).
        self.undo_steps: dict[str, undo.Step] = {}
        # While an undoable command runs: copies of the tickets it touches, as they were before.
        self._journal: dict[int, Ticket] | None = None
        self._journal_samples: dict[str, list[float]] = {}
        self._events: list[ev.Event] = []
        self._now = ""
        self._now_at: datetime | None = None

    # ----- reading -----------------------------------------------------------------

    def position(self, ticket: Ticket) -> int | None:
        if ticket.status not in PENDING:
            return None
        queue = self.pending[ticket.service]
        return bisect_left(queue, ticket.id) + 1

    def view(self, ticket: Ticket) -> dict[str, Any]:
        """The public face of a ticket: everything but its token."""
        position = self.position(ticket)
        view = ticket.as_dict(position)
        if position is None:
            view["estimated_wait_minutes"] = None
            view["estimated_wait_range"] = None
        else:
            per_visit, counters = self._wait_inputs(ticket.service)
            view["estimated_wait_minutes"] = estimates.rounded_minutes(position, per_visit, counters)
            span = estimates.wait_range(position, per_visit, counters)
            view["estimated_wait_range"] = list(span) if span else None
        return view

    def minutes_per_visit(self, service_id: str) -> float:
        """The day's measured minutes per visit once enough are timed, else the standard (estimates.py)."""
        samples = self.service_minutes.get(service_id, ())
        standard = self.services[service_id].standard_minutes if service_id in self.services else None
        return estimates.minutes_per_visit(list(samples), standard)

    def _wait_inputs(self, service_id: str) -> tuple[float, int]:
        counters = sum(1 for c in self.counters.values() if c.open and service_id in c.services)
        return self.minutes_per_visit(service_id), counters

    def estimated_wait(self, service_id: str, position: int) -> int:
        """Minutes until called: the visits ahead, shared among the open counters that serve it."""
        per_visit, counters = self._wait_inputs(service_id)
        return estimates.rounded_minutes(position, per_visit, counters)

    def queues(self) -> dict[str, list[dict[str, Any]]]:
        """Per service, the tickets not yet called in their place order (for the counter's list)."""
        return {
            service_id: [
                {
                    "id": ticket.id,
                    "number": ticket.number,
                    "status": str(ticket.status),
                    "party_size": ticket.party_size,
                }
                for ticket in (self.tickets[ticket_id] for ticket_id in queue)
            ]
            for service_id, queue in self.pending.items()
        }

    def waiting_counts(self) -> dict[str, int]:
        return {service_id: len(queue) for service_id, queue in self.pending.items()}

    def counter_view(self, counter: Counter) -> dict[str, Any]:
        current = self.tickets.get(counter.current) if counter.current is not None else None
        return {
            "id": counter.id,
            "name": counter.name,
            "open": counter.open,
            "current": self.view(current) if current else None,
            "services": list(counter.services),
            "reason": counter.reason,
        }

    def snapshot(self) -> dict[str, Any]:
        waiting = self.waiting_counts()
        return {
            "seq": self.seq,
            "day": self.day,
            "services": [
                {"id": s.id, "name": s.name, "prefix": s.prefix, "waiting": waiting[s.id]}
                for s in self.services.values()
            ],
            "counters": [self.counter_view(c) for c in self.counters.values()],
            "waiting": waiting,
            "queues": self.queues(),
            "occupancy": self.occupancy.as_dict(),
            "recent_calls": list(self.recent_calls),
            "recent_admitted": list(self.recent_admitted),
        }

    def take_changes(self) -> tuple[list[Ticket], list[Counter]]:
        tickets = list(self.changed_tickets.values())
        counters = [self.counters[c] for c in self.changed_counters]
        self.changed_tickets = {}
        self.changed_counters = set()
        return tickets, counters

    # ----- commands ----------------------------------------------------------------

    def roll_over(self, now: datetime) -> list[ev.Event]:
        """Start a new local day if midnight has passed; returns the events of closing the old one."""
        today = now.date().isoformat()
        if today <= self.day:
            return []
        self._now = iso(now)
        self._events = []
        self._start_day(today)
        return self._events

    def announce(self, now: datetime, event_type: str, **payload: Any) -> list[ev.Event]:
        """An event that is not caused by a command (e.g. the config changed at start-up)."""
        self._now = iso(now)
        self._events = []
        self._emit(event_type, **payload)
        return self._events

    def handle(self, command: cmd.Command, now: datetime) -> Outcome:
        """Apply one command at `now` (office-local, aware) and return its outcome.

        Call `roll_over(now)` first: numbering restarts at local midnight.
        """
        self._now = iso(now)
        self._now_at = now
        self._events = []
        before = self.occupancy.as_dict()
        kind = _UNDO_KINDS.get(type(command))
        if kind is None:
            result = _HANDLERS[type(command)](self, command)
        else:
            result = self._journaled(command, kind, now)
        if self.occupancy.as_dict() != before:
            self._emit(ev.OCCUPANCY_CHANGED, occupancy=self.occupancy.as_dict())
        return Outcome(result, self._events)

    def _journaled(self, command: Any, kind: str, now: datetime) -> Any:
        """Run an undoable counter step, remembering what it changed so `_undo` can put it back."""
        counter = self.counters.get(command.counter)
        current_before = counter.current if counter else None
        self._journal, self._journal_samples = {}, {}
        try:
            result = _HANDLERS[type(command)](self, command)
            if counter is not None and self._journal:
                self.undo_steps[counter.id] = undo.record(
                    counter.id,
                    kind,
                    now,
                    tuple(self._journal.values()),
                    {ticket_id: _fingerprint(self.tickets[ticket_id]) for ticket_id in self._journal},
                    current_before,
                    counter.current,
                    {"samples": self._journal_samples},
                )
        finally:
            self._journal = None
        return result

    def _before_change(self, ticket: Ticket) -> None:
        """Keep a copy of a ticket as it was before the running undoable step first changed it."""
        if self._journal is not None and ticket.id not in self._journal:
            self._journal[ticket.id] = replace(ticket)
            if ticket.service in self.service_minutes:
                self._journal_samples.setdefault(ticket.service, list(self.service_minutes[ticket.service]))

    def _undo(self, command: cmd.Undo) -> dict[str, Any]:
        counter = self._counter(command.counter)
        step = self.undo_steps.get(counter.id)
        fingerprints = (
            {i: _fingerprint(self.tickets[i]) for i in step.after if i in self.tickets} if step else {}
        )
        assert self._now_at is not None
        reason = undo.refusal(step, self._now_at, fingerprints, counter.current)
        if step is None or reason is not None:
            raise DomainError("nothing_to_undo", f"{counter.name}: nothing to undo ({reason})")
        del self.undo_steps[counter.id]
        # Back to the queue first, so a screen never shows one ticket at two places.
        restored = sorted(step.before, key=lambda t: (t.status not in PENDING, t.id))
        for before in restored:
            ticket = self.tickets[before.id]
            self._unplace(ticket)
            for name in _RESTORED_FIELDS:
                setattr(ticket, name, getattr(before, name))
            self._place(ticket)
            self._touch(ticket)
        for service_id, samples in step.extra.get("samples", {}).items():
            self.service_minutes[service_id] = deque(samples, maxlen=SERVICE_TIME_SAMPLES)
        # A call taken back was never a call: the display forgets it.
        uncalled = {t.number for t in restored if t.status in PENDING}
        kept = [c for c in self.recent_calls if c["number"] not in uncalled]
        self.recent_calls = deque(kept, maxlen=RECENT_CALLS)
        counter.current = step.current_before
        self.changed_counters.add(counter.id)
        tickets = [self.tickets[t.id] for t in restored]
        for ticket in tickets:
            self._ticket_event(ev.TICKET_UNDONE, ticket, counter=counter.id, step=step.kind)
        current = self.tickets.get(counter.current) if counter.current is not None else None
        return {"undone": step.kind, "counter": counter.id, "current": current, "tickets": tickets}

    def _unplace(self, ticket: Ticket) -> None:
        """Take a ticket out of every index its status puts it in."""
        if ticket.status in PENDING:
            self._leave_pending(ticket)
        if ticket.status in INSIDE:
            self.occupancy.ticket_people -= ticket.party_size
        if ticket.status in CURRENT and ticket.counter in self.counters:
            holder = self.counters[ticket.counter]
            if holder.current == ticket.id:
                holder.current = None
                self.changed_counters.add(holder.id)

    def _place(self, ticket: Ticket) -> None:
        """Put a ticket into the indexes of its (restored) status; the reverse of `_unplace`."""
        if ticket.status in PENDING:
            insort(self.pending[ticket.service], ticket.id)
            if ticket.status is Status.WAITING:
                insort(self.waiting[ticket.service], ticket.id)
            else:
                self.occupancy.outside[ticket.id] = ticket.party_size
                # Admission follows issue order, which is the dict's order.
                self.occupancy.outside = dict(sorted(self.occupancy.outside.items()))
        if ticket.status in INSIDE:
            self.occupancy.ticket_people += ticket.party_size
        if ticket.status in CURRENT and ticket.counter in self.counters:
            self.counters[ticket.counter].current = ticket.id
            self.changed_counters.add(ticket.counter)

    def _issue(self, command: cmd.IssueTicket) -> Ticket:
        service = self._service(command.service)
        if not 1 <= command.party_size <= self.occupancy.capacity:
            raise DomainError(
                "invalid_party_size",
                f"party_size must be between 1 and {self.occupancy.capacity}",
            )
        sequence = self.last_number[service.id] + 1
        ticket = Ticket(
            id=self.next_ticket_id,
            day=self.day,
            service=service.id,
            sequence=sequence,
            number=format_number(service.prefix, sequence),
            party_size=command.party_size,
            issued_at=self._now,
            status=Status.OUTSIDE,
            token_hash=command.token_hash,
            issued_service=service.id,
            origin=command.origin,
        )
        self.next_ticket_id += 1
        self.last_number[service.id] = sequence
        self._add(ticket)
        if self.occupancy.admits_new_ticket(ticket.party_size):
            self._enter(ticket)
        else:
            self.occupancy.outside[ticket.id] = ticket.party_size
        self._ticket_event(ev.TICKET_ISSUED, ticket)
        return ticket

    def _cancel(self, command: cmd.CancelTicket) -> Ticket:
        ticket = self._ticket(command.ticket_id)
        if ticket.status not in PENDING:
            raise DomainError(
                "ticket_not_cancellable", f"ticket {ticket.number} is {ticket.status} and cannot be cancelled"
            )
        was_inside = ticket.status in INSIDE
        self._leave_pending(ticket)
        self._finish(ticket, Status.CANCELLED, was_inside)
        self._ticket_event(ev.TICKET_CANCELLED, ticket, reason="visitor")
        self._admit_waiting_outside()
        return ticket

    def _call_next(self, command: cmd.CallNext) -> Ticket | None:
        counter = self._open_counter(command.counter)
        self._close_current(counter)
        # Admit first: a visitor let in now may be the one this counter calls.
        self._admit_waiting_outside()
        for service_id in counter.services:
            queue = self.waiting[service_id]
            if queue:
                ticket = self.tickets[queue[0]]
                self._call(counter, ticket, command.officer)
                return ticket
        return None

    def _call_number(self, command: cmd.CallNumber) -> Ticket:
        counter = self._open_counter(command.counter)
        number = command.number.upper()
        ticket_id = self.by_number.get(number)
        if ticket_id is None:
            raise DomainError("unknown_ticket_number", f"no ticket {number} today", {"number": number})
        ticket = self.tickets[ticket_id]
        if counter.current == ticket.id:
            raise DomainError(
                "invalid_transition", f"ticket {ticket.number} is already here", self._details(ticket)
            )
        if ticket.status is not Status.WAITING:
            raise DomainError(
                "invalid_transition",
                f"ticket {ticket.number} is {ticket.status}, not waiting",
                self._details(ticket),
            )
        if ticket.service not in counter.services and not counter.any_service:
            service = self.services[ticket.service]
            raise DomainError(
                "service_not_served",
                f"{counter.name} does not serve {service.name}",
                {**self._details(ticket), "counter": counter.id, "counter_name": counter.name},
            )
        self._close_current(counter)
        self._admit_waiting_outside()
        self._call(counter, ticket, command.officer)
        return ticket

    def _details(self, ticket: Ticket) -> dict[str, Any]:
        """What a counter screen needs to say why a ticket cannot be called (its status, where, when)."""
        at = {
            Status.DONE: ticket.finished_at,
            Status.CANCELLED: ticket.finished_at,
            Status.NO_SHOW: ticket.called_at,
            Status.CALLED: ticket.called_at,
            Status.SERVING: ticket.serving_at,
            Status.WAITING: ticket.admitted_at,
            Status.OUTSIDE: ticket.issued_at,
        }[ticket.status]
        counter = self.counters.get(ticket.counter) if ticket.counter else None
        service = self.services.get(ticket.service)
        return {
            "number": ticket.number,
            "status": str(ticket.status),
            "counter": ticket.counter,
            "counter_name": counter.name if counter else None,
            "at": at,
            "service": ticket.service,
            "service_name": service.name if service else ticket.service,
        }

    def _recall(self, command: cmd.Recall) -> Ticket:
        counter, ticket = self._current(command.counter, command.expected)
        self._require(ticket, (Status.CALLED,), "recall")
        ticket.recalls += 1
        ticket.recalled_at = self._now
        self._touch(ticket)
        self._ticket_event(ev.TICKET_RECALLED, ticket, counter=counter.id)
        self._note_call(ticket, counter)
        return ticket

    def _serve(self, command: cmd.Serve) -> Ticket:
        counter, ticket = self._current(command.counter, command.expected)
        self._require(ticket, (Status.CALLED,), "serve")
        self._before_change(ticket)
        ticket.status = Status.SERVING
        ticket.serving_at = self._now
        self._touch(ticket)
        self._ticket_event(ev.TICKET_SERVING, ticket, counter=counter.id)
        return ticket

    def _finish_current(self, command: cmd.Finish) -> Ticket:
        counter, ticket = self._current(command.counter, command.expected)
        self._require(ticket, (Status.CALLED, Status.SERVING), "finish")
        self._release(counter, ticket, Status.DONE, ev.TICKET_DONE)
        self._admit_waiting_outside()
        return ticket

    def _no_show(self, command: cmd.NoShow) -> Ticket:
        counter, ticket = self._current(command.counter, command.expected)
        self._require(ticket, (Status.CALLED,), "mark as no-show")
        self._release(counter, ticket, Status.NO_SHOW, ev.TICKET_NO_SHOW)
        self._admit_waiting_outside()
        return ticket

    def _transfer(self, command: cmd.Transfer) -> Ticket:
        counter, ticket = self._current(command.counter, command.expected)
        target = self._service(command.service)
        self._require(ticket, (Status.CALLED, Status.SERVING), "transfer")
        from_service = ticket.service
        counter.current = None
        self.changed_counters.add(counter.id)
        ticket.service = target.id
        ticket.status = Status.WAITING
        ticket.counter = None
        ticket.transfers += 1
        self._touch(ticket)
        # Its place is its issue order (its id), so it does not wait twice.
        insort(self.pending[target.id], ticket.id)
        insort(self.waiting[target.id], ticket.id)
        self._ticket_event(ev.TICKET_TRANSFERRED, ticket, from_service=from_service, from_counter=counter.id)
        return ticket

    def _open(self, command: cmd.OpenCounter) -> Counter:
        counter = self._counter(command.counter)
        if not counter.open:
            counter.open = True
            counter.reason = None
            self.changed_counters.add(counter.id)
            self._emit(ev.COUNTER_OPENED, counter=self.counter_view(counter))
        return counter

    def _close(self, command: cmd.CloseCounter) -> Counter:
        counter = self._counter(command.counter)
        if counter.open or counter.reason != command.reason:
            counter.open = False
            counter.reason = command.reason
            self.changed_counters.add(counter.id)
            self._emit(ev.COUNTER_CLOSED, counter=self.counter_view(counter))
        return counter

    def _door_enter(self, command: cmd.DoorEnter) -> dict[str, int]:
        _require_count(command.count)
        if not self.occupancy.fits(command.count):
            raise DomainError(
                "capacity_full",
                f"the office is full ({self.occupancy.inside} / {self.occupancy.capacity}); "
                "please ask the visitor to wait outside",
            )
        self.occupancy.door_count += command.count
        return self.occupancy.as_dict()

    def _door_exit(self, command: cmd.DoorExit) -> dict[str, int]:
        _require_count(command.count)
        if command.count > self.occupancy.door_count:
            raise DomainError(
                "occupancy_below_zero",
                f"only {self.occupancy.door_count} people were counted in without a ticket",
            )
        self.occupancy.door_count -= command.count
        self._admit_waiting_outside()
        return self.occupancy.as_dict()

    def _set_capacity(self, command: cmd.SetCapacity) -> dict[str, int]:
        if not 1 <= command.capacity <= 100_000:
            raise DomainError("invalid_capacity", "capacity must be between 1 and 100000")
        self.occupancy.capacity = command.capacity
        self._admit_waiting_outside()
        return self.occupancy.as_dict()

    def _noop(self, command: cmd.Tick) -> None:
        """A clock tick: only the day roll-over in `handle` can happen."""

    # ----- rules shared by commands ---------------------------------------------------

    def _start_day(self, day: str) -> None:
        """Close yesterday: unfinished tickets end, numbering and door count restart."""
        before = self.occupancy.as_dict()
        for ticket in sorted(self.tickets.values(), key=lambda t: t.id):
            if ticket.status in PENDING:
                was_inside = ticket.status in INSIDE
                self._leave_pending(ticket)
                self._finish(ticket, Status.CANCELLED, was_inside)
                self._ticket_event(ev.TICKET_CANCELLED, ticket, reason="day_end")
            elif ticket.status in CURRENT:
                counter_id = ticket.counter
                if counter_id in self.counters:
                    self.counters[counter_id].current = None
                    self.changed_counters.add(counter_id)
                self._finish(ticket, Status.DONE, True)
                self._ticket_event(ev.TICKET_DONE, ticket, counter=None)
        self.occupancy.door_count = 0
        self.occupancy.outside.clear()
        self.day = day
        self.tickets = {}
        self.by_token = {}
        self.by_number = {}
        self.last_number = {s: 0 for s in self.services}
        self.recent_calls.clear()
        self.recent_admitted.clear()
        self.undo_steps.clear()
        # Wait estimates learn from the day's own visits (estimates.py).
        for samples in self.service_minutes.values():
            samples.clear()
        if self.occupancy.as_dict() != before:
            self._emit(ev.OCCUPANCY_CHANGED, occupancy=self.occupancy.as_dict())
        self._emit(ev.DAY_STARTED, day=day)

    def _add(self, ticket: Ticket) -> None:
        """Put a ticket into the in-memory indexes (also used when loading from storage)."""
        self.tickets[ticket.id] = ticket
        self.by_token[ticket.token_hash] = ticket.id
        self.by_number[ticket.number] = ticket.id
        self._touch(ticket)
        if ticket.status in PENDING:
            insort(self.pending[ticket.service], ticket.id)

    def _enter(self, ticket: Ticket) -> None:
        ticket.status = Status.WAITING
        ticket.admitted_at = self._now
        self.occupancy.ticket_people += ticket.party_size
        insort(self.waiting[ticket.service], ticket.id)
        self._touch(ticket)

    def _admit_waiting_outside(self) -> None:
        for ticket_id in self.occupancy.next_admissions():
            ticket = self.tickets[ticket_id]
            del self.occupancy.outside[ticket_id]
            self._enter(ticket)
            self.recent_admitted.appendleft({"number": ticket.number, "at": self._now})
            self._ticket_event(ev.TICKET_ADMITTED, ticket)

    def _leave_pending(self, ticket: Ticket) -> None:
        _remove_sorted(self.pending[ticket.service], ticket.id)
        if ticket.status is Status.WAITING:
            _remove_sorted(self.waiting[ticket.service], ticket.id)
        else:
            self.occupancy.outside.pop(ticket.id, None)

    def _finish(self, ticket: Ticket, status: Status, was_inside: bool) -> None:
        if was_inside:
            self.occupancy.ticket_people -= ticket.party_size
        ticket.status = status
        ticket.finished_at = self._now
        self._touch(ticket)

    def _call(self, counter: Counter, ticket: Ticket, officer: str | None) -> None:
        self._before_change(ticket)
        self._leave_pending(ticket)
        ticket.status = Status.CALLED
        ticket.counter = counter.id
        ticket.called_at = self._now
        ticket.officer = officer
        counter.current = ticket.id
        self.changed_counters.add(counter.id)
        self._touch(ticket)
        self._ticket_event(ev.TICKET_CALLED, ticket, counter=counter.id)
        self._note_call(ticket, counter)

    def _note_call(self, ticket: Ticket, counter: Counter) -> None:
        # One entry per number: a recall moves it to the front with the new time.
        for entry in list(self.recent_calls):
            if entry["number"] == ticket.number:
                self.recent_calls.remove(entry)
        self.recent_calls.appendleft(
            {"number": ticket.number, "counter": counter.id, "at": self._now, "service": ticket.service}
        )

    def _close_current(self, counter: Counter) -> None:
        if counter.current is not None:
            ticket = self.tickets[counter.current]
            self._release(counter, ticket, Status.DONE, ev.TICKET_DONE)

    def _release(self, counter: Counter, ticket: Ticket, status: Status, event_type: str) -> None:
        self._before_change(ticket)
        counter.current = None
        self.changed_counters.add(counter.id)
        self._finish(ticket, status, was_inside=True)
        if status is Status.DONE:
            self._note_service_time(ticket)
        self._ticket_event(event_type, ticket, counter=counter.id)

    def _touch(self, ticket: Ticket) -> None:
        self.changed_tickets[ticket.id] = ticket

    def _emit(self, event_type: str, **payload: Any) -> None:
        self.seq += 1
        self._events.append(ev.Event.create(event_type, self.seq, self._now, payload))

    def _ticket_event(self, event_type: str, ticket: Ticket, **extra: Any) -> None:
        self._emit(event_type, ticket=self.view(ticket), waiting=self.waiting_counts(), **extra)

    # ----- lookups that refuse -----------------------------------------------------

    def _service(self, service_id: str) -> ServiceConfig:
        service = self.services.get(service_id)
        if service is None:
            raise DomainError("unknown_service", f"there is no service {service_id!r}")
        return service

    def _ticket(self, ticket_id: int) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise DomainError("unknown_ticket", "no such ticket")
        return ticket

    def _counter(self, counter_id: str) -> Counter:
        counter = self.counters.get(counter_id)
        if counter is None:
            raise DomainError("unknown_counter", f"there is no counter {counter_id!r}")
        return counter

    def _open_counter(self, counter_id: str) -> Counter:
        counter = self._counter(counter_id)
        if not counter.open:
            raise DomainError("counter_closed", f"{counter.name} is closed; open it to call")
        return counter

    def _current(self, counter_id: str, expected: int | None = None) -> tuple[Counter, Ticket]:
        counter = self._counter(counter_id)
        if counter.current is None:
            raise DomainError("no_current_ticket", f"{counter.name} has no current ticket")
        if expected is not None and counter.current != expected:
            # A late retry of a button must not land on the next visitor.
            raise DomainError("ticket_not_current", f"that ticket is no longer at {counter.name}")
        return counter, self.tickets[counter.current]

    @staticmethod
    def _require(ticket: Ticket, allowed: tuple[Status, ...], action: str) -> None:
        if ticket.status not in allowed:
            raise DomainError(
                "invalid_transition", f"cannot {action} ticket {ticket.number}: it is {ticket.status}"
            )

    def _note_service_time(self, ticket: Ticket) -> None:
        started = ticket.serving_at or ticket.called_at
        if started and ticket.finished_at and ticket.service in self.service_minutes:
            seconds = (
                datetime.fromisoformat(ticket.finished_at) - datetime.fromisoformat(started)
            ).total_seconds()
            if seconds >= SHORTEST_SAMPLE_SECONDS:
                self.service_minutes[ticket.service].append(seconds / 60.0)

    # ----- loading ----------------------------------------------------------------

    def load_ticket(self, ticket: Ticket) -> None:
        """Restore one of today's tickets from storage (in id order)."""
        self._add(ticket)
        self.last_number[ticket.issued_service] = max(
            self.last_number.get(ticket.issued_service, 0), ticket.sequence
        )
        if ticket.status is Status.OUTSIDE:
            self.occupancy.outside[ticket.id] = ticket.party_size
        elif ticket.status is Status.WAITING:
            insort(self.waiting[ticket.service], ticket.id)
        if ticket.status in INSIDE:
            self.occupancy.ticket_people += ticket.party_size
        if ticket.status in CURRENT and ticket.counter in self.counters:
            self.counters[ticket.counter].current = ticket.id
        if ticket.status is Status.DONE and ticket.counter is not None:
            self._note_service_time(ticket)

    def load_history(self, calls: list[dict[str, Any]], admitted: list[dict[str, Any]]) -> None:
        self.recent_calls.extend(calls[:RECENT_CALLS])
        self.recent_admitted.extend(admitted[:RECENT_ADMITTED])


def _fingerprint(ticket: Ticket) -> Hashable:
    """What must be unchanged for an undo to be safe: where the ticket is and in which state."""
    return (str(ticket.status), ticket.counter, ticket.service)


# Everything a counter step can change on a ticket; the undo copies these back.
_RESTORED_FIELDS = (
    "status",
    "service",
    "counter",
    "officer",
    "called_at",
    "recalled_at",
    "serving_at",
    "finished_at",
    "recalls",
)


def _require_count(count: int) -> None:
    if count < 1:
        raise DomainError("invalid_count", "count must be 1 or more")


def _remove_sorted(items: list[int], value: int) -> None:
    index = bisect_left(items, value)
    if index < len(items) and items[index] == value:
        del items[index]


_HANDLERS: dict[type, Any] = {
    cmd.IssueTicket: Office._issue,
    cmd.CancelTicket: Office._cancel,
    cmd.CallNext: Office._call_next,
    cmd.CallNumber: Office._call_number,
    cmd.Recall: Office._recall,
    cmd.Serve: Office._serve,
    cmd.Finish: Office._finish_current,
    cmd.NoShow: Office._no_show,
    cmd.Transfer: Office._transfer,
    cmd.OpenCounter: Office._open,
    cmd.CloseCounter: Office._close,
    cmd.DoorEnter: Office._door_enter,
    cmd.DoorExit: Office._door_exit,
    cmd.SetCapacity: Office._set_capacity,
    cmd.Tick: Office._noop,
    cmd.Undo: Office._undo,
}

_UNDO_KINDS: dict[type, str] = {
    cmd.CallNext: "call",
    cmd.CallNumber: "call",
    cmd.Finish: "finish",
    cmd.NoShow: "no_show",
    cmd.Serve: "serve",
}
