"""The live state of one office for the current local day, and the primitives every rule uses.

Rules (issuing, admission, counters, day) change the state only through these
primitives, so indexes, queues and occupancy stay in step. `Step` is one
command's moment: its time and the events it causes, each stamped with the
next `seq`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from queue_server.domain import estimates
from queue_server.domain import events as ev
from queue_server.domain.capacity import Occupancy
from queue_server.domain.errors import Conflict, NotFound
from queue_server.domain.estimates import ServiceTimes
from queue_server.domain.hours import OpeningHours
from queue_server.domain.queues import Queues
from queue_server.domain.settings import CounterConfig, QueuePolicy, RemotePolicy, ServiceConfig, route_of
from queue_server.domain.tickets import CURRENT, INSIDE, PENDING, PLACE_GAP, REMOTE_ACTIVE, Status, Ticket


@dataclass
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    open: bool = True
    current: int | None = None
    reason: str | None = None
    any_service: bool = False  # may call a number of any service, not only its own


class OfficeState:
    def __init__(
        self,
        services: Iterable[ServiceConfig],
        counters: Iterable[CounterConfig],
        capacity: int,
        day: str,
        seq: int = 0,
        next_ticket_id: int = 1,
        queue_policy: QueuePolicy | None = None,
        remote_policy: RemotePolicy | None = None,
    ) -> None:
        self.services: dict[str, ServiceConfig] = {s.id: s for s in services}
        self.queue_policy = queue_policy or QueuePolicy()
        self.remote_policy = remote_policy or RemotePolicy()
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
        self.queues = Queues(self.services)
        # The next ticket's place (its order in a queue); rises by PLACE_GAP per issued ticket.
        self.next_place = PLACE_GAP
        # Per service, today: calls made (the rejoin window counts them) and priority calls in a
        # row while a normal ticket waited (the fairness bound). The engine stores both.
        self.service_calls: dict[str, int] = {}
        self.priority_streaks: dict[str, int] = {}
        # Booked tickets of later days, by day (remote.py); they become that day's tickets at its start.
        self.bookings: dict[str, list[Ticket]] = {}
        self.booked: dict[int, Ticket] = {}
        self.booked_tokens: dict[str, int] = {}
        self.service_times = ServiceTimes(self.services.values())
        # What changed since the last `take_changes()`, for storage.
        self.changed_tickets: dict[int, Ticket] = {}
        self.changed_counters: set[str] = set()
        # Per counter, its latest step that may still be undone (undo.py decides when).
        self.undo_steps: dict[str, Any] = {}
        # While an undoable command runs: copies of the tickets it touches, as they were before,
        # and the service-time samples before it (undo.py puts both back).
        self.journal: dict[int, Ticket] | None = None
        self.journal_samples: dict[str, list[float]] = {}
        # Set by the engine from the stored configuration; admin commands change them (admin.py).
        self.hours: OpeningHours | None = None
        self.running_text = ""

    # ----- views ------------------------------------------------------------------------

    def position(self, ticket: Ticket) -> int | None:
        if ticket.status not in PENDING or ticket.id not in self.tickets:
            return None
        return self.queues.position(ticket.service, ticket.key)

    def view(self, ticket: Ticket) -> ev.TicketView:
        """The public face of a ticket: everything but its token (and never a NIK or phone)."""
        position = self.position(ticket)
        view = ticket.as_dict(position)
        if position is None:
            view["estimated_wait_minutes"] = None
            view["estimated_wait_range"] = None
        else:
            per_visit = self.service_times.minutes_per_visit(ticket.service)
            counters = self.open_counters_for(ticket.service)
            view["estimated_wait_minutes"] = estimates.rounded_minutes(position, per_visit, counters)
            span = estimates.wait_range(position, per_visit, counters)
            view["estimated_wait_range"] = list(span) if span else None
        view["come_now"] = self.come_now(ticket, position, view["estimated_wait_minutes"])
        earlier = ticket.earlier_steps()
        view["route"] = [*earlier, *route_of(self.services, ticket.service)]
        view["step"] = len(earlier) + 1
        return view

    def come_now(self, ticket: Ticket, position: int | None, wait: int | None) -> bool | None:
        """A remote ticket's "come now" (api-remote); None for a ticket that is not remote."""
        if ticket.status not in REMOTE_ACTIVE:
            return None
        if position is None or ticket.status is Status.BOOKED:
            return False
        policy = self.remote_policy
        return position - 1 <= policy.come_now_position or (wait is not None and wait <= policy.lead_minutes)

    def queues_view(self) -> dict[str, list[dict[str, Any]]]:
        """Per service, the tickets not yet called in their place order (the counter's waiting list)."""
        return {
            service: [queue_entry(self.tickets[key[1]]) for key in queue]
            for service, queue in self.queues.pending.items()
        }

    def details(self, ticket: Ticket) -> dict[str, Any]:
        """What a counter screen needs to say why a ticket cannot be called: its status, where, when."""
        at = {
            Status.DONE: ticket.finished_at,
            Status.CANCELLED: ticket.finished_at,
            Status.NO_SHOW: ticket.called_at,
            Status.CALLED: ticket.called_at,
            Status.SERVING: ticket.serving_at,
            Status.WAITING: ticket.admitted_at,
            Status.OUTSIDE: ticket.issued_at,
            Status.REMOTE: ticket.issued_at,
            Status.BOOKED: ticket.issued_at,
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

    def open_counters_for(self, service: str) -> int:
        return sum(1 for c in self.counters.values() if c.open and service in c.services)

    def waiting_counts(self) -> ev.Waiting:
        return self.queues.counts()

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

    def take_changes(self) -> tuple[list[Ticket], list[Counter]]:
        tickets = list(self.changed_tickets.values())
        counters = [self.counters[c] for c in self.changed_counters]
        self.changed_tickets = {}
        self.changed_counters = set()
        return tickets, counters

    # ----- primitives ---------------------------------------------------------------------

    def add(self, ticket: Ticket) -> None:
        """Put a ticket into the indexes (also used when loading from storage)."""
        self.tickets[ticket.id] = ticket
        self.by_token[ticket.token_hash] = ticket.id
        self.by_number[ticket.number] = ticket.id
        self.touch(ticket)
        self.next_place = max(self.next_place, ticket.place + PLACE_GAP)
        if ticket.status in PENDING:
            self.queues.add_pending(ticket.service, ticket.key)

    def take_place(self) -> int:
        """A place behind every ticket so far (a new ticket, or one joining the back of a queue)."""
        place = self.next_place
        self.next_place += PLACE_GAP
        return place

    def renumber(self) -> None:
        """Spread today's places out again (rare: after many rejoins into one gap), keeping their order."""
        places: dict[int, int] = {}
        for ticket in sorted(self.tickets.values(), key=lambda t: t.key):
            self.before_change(ticket)
            places[ticket.id] = ticket.place = self.take_place()
            self.touch(ticket)
        for lists in (self.queues.pending, self.queues.normal, self.queues.priority):
            for service, keys in lists.items():
                lists[service] = [(places[i], i) for _, i in keys]

    def enter(self, ticket: Ticket, at: str) -> None:
        """The ticket's party is inside now and waits in its service's queue."""
        ticket.status = Status.WAITING
        ticket.admitted_at = at
        self.occupancy.ticket_people += ticket.party_size
        self.add_waiting(ticket)
        self.touch(ticket)

    def add_waiting(self, ticket: Ticket) -> None:
        self.queues.add_waiting(ticket.service, ticket.key, self.is_priority(ticket))

    def is_priority(self, ticket: Ticket) -> bool:
        return ticket.priority is not None and ticket.priority in self.queue_policy.priority_categories

    def put_outside(self, ticket: Ticket) -> None:
        """Wait outside, in place order (admission is strictly in that order, capacity.py)."""
        outside = self.occupancy.outside
        behind = bool(outside) and self.tickets[next(reversed(outside))].key > ticket.key
        outside[ticket.id] = ticket.party_size
        if behind:  # a checked-in or restored ticket keeps its place by issue time
            self.occupancy.outside = dict(sorted(outside.items(), key=lambda item: self.tickets[item[0]].key))

    def leave_pending(self, ticket: Ticket) -> None:
        was_waiting = ticket.status is Status.WAITING
        self.queues.remove(ticket.service, ticket.key, was_waiting)
        if not was_waiting:
            self.occupancy.outside.pop(ticket.id, None)

    def note_call(self, ticket: Ticket) -> None:
        """Count a call of a waiting ticket of its service (before it leaves the queue)."""
        service = ticket.service
        self.service_calls[service] = self.service_calls.get(service, 0) + 1
        # The ticket is still in its list: a normal ticket waited besides it when any other is there.
        if self.is_priority(ticket) and self.queues.normal.get(service):
            self.priority_streaks[service] = self.priority_streaks.get(service, 0) + 1
        else:
            self.priority_streaks[service] = 0

    def finish(self, ticket: Ticket, status: Status, was_inside: bool, at: str) -> None:
        if was_inside:
            self.occupancy.ticket_people -= ticket.party_size
        ticket.status = status
        ticket.finished_at = at
        self.touch(ticket)

    def before_change(self, ticket: Ticket) -> None:
        """Keep a copy of a ticket as it was before the running undoable step first changed it."""
        if self.journal is not None and ticket.id not in self.journal:
            self.journal[ticket.id] = replace(ticket)
            if ticket.service in self.service_times.samples:
                self.journal_samples.setdefault(
                    ticket.service, list(self.service_times.samples[ticket.service])
                )

    def touch(self, ticket: Ticket) -> None:
        self.changed_tickets[ticket.id] = ticket

    def touch_counter(self, counter: Counter) -> None:
        self.changed_counters.add(counter.id)

    # ----- lookups that refuse -----------------------------------------------------------

    def service(self, service_id: str) -> ServiceConfig:
        service = self.services.get(service_id)
        if service is None:
            raise NotFound("unknown_service", f"there is no service {service_id!r}")
        return service

    def ticket(self, ticket_id: int) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("unknown_ticket", "no such ticket")
        return ticket

    def ticket_numbered(self, number: str | None) -> Ticket:
        """Today's ticket with this number (as a door keeper or officer types it)."""
        wanted = (number or "").upper()
        ticket_id = self.by_number.get(wanted)
        if ticket_id is None:
            raise NotFound("unknown_ticket_number", f"no ticket {wanted} today", {"number": wanted})
        return self.tickets[ticket_id]

    def counter(self, counter_id: str) -> Counter:
        counter = self.counters.get(counter_id)
        if counter is None:
            raise NotFound("unknown_counter", f"there is no counter {counter_id!r}")
        return counter

    def open_counter(self, counter_id: str) -> Counter:
        counter = self.counter(counter_id)
        if not counter.open:
            raise Conflict("counter_closed", f"{counter.name} is closed; open it to call")
        return counter

    def current(self, counter_id: str, expected: int | None = None) -> tuple[Counter, Ticket]:
        counter = self.counter(counter_id)
        if counter.current is None:
            raise Conflict("no_current_ticket", f"{counter.name} has no current ticket")
        if expected is not None and counter.current != expected:
            # A late retry of a button must not land on the next visitor.
            raise Conflict("ticket_not_current", f"that ticket is no longer at {counter.name}")
        return counter, self.tickets[counter.current]

    # ----- loading -------------------------------------------------------------------------

    def load_ticket(self, ticket: Ticket) -> None:
        """Restore one of today's tickets from storage (in id order)."""
        self.load_indexes(ticket)
        minutes = self.loaded_sample(ticket)
        if minutes is not None:
            self.service_times.samples[ticket.service].append(minutes)

    def loaded_sample(self, ticket: Ticket) -> float | None:
        """The service-time sample a loaded ticket gives (a timed, finished visit at a counter)."""
        if ticket.status is Status.DONE and ticket.counter is not None:
            return self.service_times.sample_of(ticket)
        return None

    def load_indexes(self, ticket: Ticket) -> None:
        """All `load_ticket` does but the sample: the indexes, queues, occupancy and counter."""
        self.add(ticket)
        self.last_number[ticket.issued_service] = max(
            self.last_number.get(ticket.issued_service, 0), ticket.sequence
        )
        if ticket.status is Status.OUTSIDE:
            self.put_outside(ticket)
        elif ticket.status is Status.WAITING:
            self.add_waiting(ticket)
        if ticket.status in INSIDE:
            self.occupancy.ticket_people += ticket.party_size
        if ticket.status in CURRENT and ticket.counter in self.counters:
            self.counters[ticket.counter].current = ticket.id


def queue_entry(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the counter's waiting list shows it (board.py and board.js keep the same shape)."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "status": str(ticket.status),
        "party_size": ticket.party_size,
        "priority": ticket.priority,
    }


class Step:
    """One command's moment: the office-local time and the events it caused, in order."""

    def __init__(self, state: OfficeState, at: str) -> None:
        self.state = state
        self.at = at
        self.events: list[ev.Event] = []

    def stamp(self) -> tuple[int, str]:
        """The next event's seq and time."""
        self.state.seq += 1
        return self.state.seq, self.at

    def about(self, ticket: Ticket) -> tuple[int, str, ev.TicketView, ev.Waiting]:
        """The next ticket event's seq, time, the ticket's view and the waiting counts."""
        seq, at = self.stamp()
        return seq, at, self.state.view(ticket), self.state.waiting_counts()

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
