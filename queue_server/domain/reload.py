"""Changed tickets applied to a loaded state in place, exactly as loading every ticket again would.

A worker that follows an office it does not write (engine/replica.py) gets each committed batch's
changed ticket rows. Loading the state again from all rows costs O(tickets) per batch; `InPlace`
takes each changed ticket's old version out of every index it was in (queue entry, outside list,
occupancy, counter, booking) and puts the new one in the way `load_tickets` would have: O(changed
tickets). Wherever the result might differ from a load from scratch (a ticket moving between today
and another day, two tickets at one counter, a row id out of order, a number or token reused),
`apply` answers False and the caller loads from scratch instead: the rare cases pay the full
price, none is ever approximated.

Service-time samples are the subtle part: a load appends them in id order, while visits end in
any order, so `InPlace` keeps each service's timed visits sorted by id and hands the estimate the
latest ones from that list, as the load would.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

from queue_server.domain.estimates import SERVICE_TIME_SAMPLES
from queue_server.domain.remote import add_booking
from queue_server.domain.state import OfficeState
from queue_server.domain.tickets import CURRENT, INSIDE, PENDING, PLACE_GAP, Status, Ticket

Change = tuple[Ticket | None, Ticket]
"""A ticket as the state holds it (None: a row the state never saw) and as it is now."""


class Kind(Enum):
    TODAY = "today"  # one of today's tickets, in `tickets` and every index
    BOOKED = "booked"  # a later day's booking, in `bookings` and `booked`
    NONE = "none"  # not in the state: a day gone, or a service no longer configured


def load_tickets(state: OfficeState, tickets: Iterable[Ticket], bookings: Iterable[Ticket]) -> None:
    """Restore today's tickets and later days' bookings from storage, each in id order; tickets of a
    service no longer configured stay on disk only (for reports)."""
    for ticket in tickets:
        if ticket.service in state.services:
            state.load_ticket(ticket)
    for booked in bookings:
        if booked.service in state.services:
            add_booking(state, booked)


def restore_rows(
    state: OfficeState,
    door_count: int,
    counters: Mapping[str, tuple[bool, str | None]],
    counts: Mapping[str, Mapping[str, int]],
) -> None:
    """What a load takes from the office row and the counter rows besides tickets (a replica takes
    it again with each batch it applies in place)."""
    state.occupancy.door_count = door_count
    for counter_id, (is_open, reason) in counters.items():
        if counter_id in state.counters:
            state.counters[counter_id].open = is_open
            state.counters[counter_id].reason = reason
    state.service_calls = dict(counts.get("calls", {}))
    state.priority_streaks = dict(counts.get("streaks", {}))


class InPlace:
    """Keeps a state loaded by `load_tickets` equal to a fresh load as its tickets change."""

    def __init__(self, state: OfficeState) -> None:
        """Once per load, O(tickets): what `apply` needs besides the state itself."""
        self.state = state
        # Rows are loaded in id order, so a ticket the state never saw may only come after them all.
        self.top = max([*state.tickets, *state.booked], default=0)
        # Per service, (id, minutes) of each timed visit in id order: the load's order of samples.
        self.timed: dict[str, list[tuple[int, float]]] = {s: [] for s in state.service_times.samples}
        at_counter: Counter[str] = Counter()
        for ticket in state.tickets.values():
            minutes = state.loaded_sample(ticket)
            if minutes is not None:
                self.timed[ticket.service].append((ticket.id, minutes))
            if ticket.status in CURRENT and ticket.counter in state.counters:
                at_counter[ticket.counter] += 1
        # A load lets the later of two tickets win a counter, number or token; taking the winner out
        # in place would not bring the other back. Such a state is only ever loaded from scratch.
        self.exact = (
            all(n == 1 for n in at_counter.values())
            and len(state.by_token) == len(state.by_number) == len(state.tickets)
            and len(state.booked_tokens) == len(state.booked)
        )

    def kind(self, ticket: Ticket | None) -> Kind:
        state = self.state
        if ticket is None or ticket.service not in state.services:
            return Kind.NONE
        if ticket.day == state.day:
            return Kind.TODAY
        return Kind.BOOKED if ticket.day > state.day else Kind.NONE

    def apply(self, changes: Sequence[Change]) -> bool:
        """Apply one or more batches' changed tickets (one change per ticket). False: not done exactly;
        the state may then be half-changed and must be loaded from scratch."""
        checked = [self._check(old, new) for old, new in changes]
        kinds = [kind for kind in checked if kind is not None]
        if not self.exact or len(kinds) < len(checked):
            return False  # nothing changed yet
        state = self.state
        # The highest place fell (the latest ticket rejoined further up): the next place is the
        # highest of all again, which only a look at all of them tells (rare: once in a while).
        fell = any(
            kind is not Kind.NONE
            and old is not None
            and _reach(old, kind) == state.next_place > _reach(new, kind)
            for (old, new), kind in zip(changes, kinds, strict=True)
        )
        # Every old version out first, then every new one in by id, as a load would: a counter or a
        # place one ticket leaves may be taken by another of the same batch.
        for (old, new), kind in zip(changes, kinds, strict=True):
            if old is not None and kind is Kind.TODAY and not self._unload(old):
                return False
            if old is not None and kind is Kind.BOOKED and not self._replace_booking(old, new):
                return False
        for (old, new), kind in sorted(zip(changes, kinds, strict=True), key=lambda c: c[0][1].id):
            state.next_ticket_id = max(state.next_ticket_id, new.id + 1)
            if kind is Kind.TODAY and not self._load(new, fresh=old is None):
                return False
            if kind is Kind.BOOKED and old is None:
                if new.token_hash in state.booked_tokens:
                    return False
                add_booking(state, new)
            if kind is not Kind.NONE:
                self.top = max(self.top, new.id)
        if not self._samples(
            [change for change, kind in zip(changes, kinds, strict=True) if kind is Kind.TODAY]
        ):
            return False
        if fell:
            state.next_place = max(
                [PLACE_GAP, *(t.place + PLACE_GAP for t in state.tickets.values())]
                + [t.place + 1 for t in state.booked.values()]
            )
        state.take_changes()  # a load leaves none to store; the indexes' touches are not changes
        return True

    def _check(self, old: Ticket | None, new: Ticket) -> Kind | None:
        """The change's kind, or None if applying it in place might not give what a load gives."""
        kind = self.kind(new)
        if old is None:
            return kind if kind is Kind.NONE or new.id > self.top else None
        if old.id != new.id or self.kind(old) is not kind:
            return None
        if kind is Kind.TODAY and (old.issued_service, old.sequence, old.number, old.token_hash) != (
            new.issued_service,
            new.sequence,
            new.number,
            new.token_hash,
        ):
            return None  # the day's last numbers only grow, and a number or token stays its ticket's
        if kind is Kind.BOOKED and (old.day, old.token_hash) != (new.day, new.token_hash):
            return None
        return kind

    def _unload(self, old: Ticket) -> bool:
        """Take a ticket of today out of the queues, the outside list, occupancy and its counter.
        Its `tickets`, token and number entries stay: its new version takes them over."""
        state = self.state
        if state.by_token.get(old.token_hash) != old.id or state.by_number.get(old.number) != old.id:
            return False
        if old.status in PENDING:
            state.queues.remove(old.service, old.key, old.status is Status.WAITING)
        if old.status is Status.OUTSIDE and state.occupancy.outside.pop(old.id, None) is None:
            return False
        if old.status in INSIDE:
            state.occupancy.ticket_people -= old.party_size
        if old.status in CURRENT and old.counter in state.counters:
            counter = state.counters[old.counter]
            if counter.current != old.id:
                return False
            counter.current = None
        return True

    def _load(self, new: Ticket, fresh: bool) -> bool:
        state = self.state
        if fresh and (new.token_hash in state.by_token or new.number in state.by_number):
            return False
        counter = state.counters.get(new.counter) if new.status in CURRENT and new.counter else None
        if counter is not None and counter.current is not None:
            return False  # a load would let the later of the two win; see `exact`
        state.load_indexes(new)
        return True

    def _replace_booking(self, old: Ticket, new: Ticket) -> bool:
        state = self.state
        held = state.bookings.get(old.day, [])
        index = bisect_left(held, old.id, key=lambda t: t.id)  # each day's bookings are in id order
        if index == len(held) or held[index].id != old.id or old.id not in state.booked:
            return False
        held[index] = state.booked[old.id] = new
        state.next_place = max(state.next_place, new.place + 1)
        return True

    def _samples(self, changes: list[Change]) -> bool:
        """Each touched service's samples again: the latest of its timed visits, in id order."""
        state = self.state
        touched: set[str] = set()
        for old, new in changes:
            before = state.loaded_sample(old) if old is not None else None
            after = state.loaded_sample(new)
            if before == after and (old is None or old.service == new.service):
                continue  # the same sample (or none) of the same service
            if before is not None and old is not None:
                timed = self.timed[old.service]
                index = bisect_left(timed, (old.id,))
                if index == len(timed) or timed[index][0] != old.id:
                    return False
                del timed[index]
                touched.add(old.service)
            if after is not None:
                insort(self.timed[new.service], (new.id, after))
                touched.add(new.service)
        for service in touched:
            state.service_times.restore(service, [m for _, m in self.timed[service][-SERVICE_TIME_SAMPLES:]])
        return True


def _reach(ticket: Ticket, kind: Kind) -> int:
    """How far a loaded ticket pushes the state's next place (`add` and `add_booking`)."""
    return ticket.place + (PLACE_GAP if kind is Kind.TODAY else 1)
