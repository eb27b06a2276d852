"""The queues of one office: per service, the tickets not yet called, in place order.

A ticket's place in a queue is its order key `(place, id)` (tickets.py), not its
id alone: places rise in issue order, so a transferred ticket slots in by its
original issue time and never waits twice, while a routed ticket (steps.py)
joins the back of its next queue and a rejoined one (rejoin.py) slots in behind
a few of those waiting. `pending` holds every ticket not yet called (remote,
outside and waiting: positions count them all); `normal` and `priority` hold
only those inside (waiting), the ones a counter may call.

Priority (api-remote): within a service the oldest waiting priority ticket goes
before the oldest normal one, except that after `max_in_a_row` priority calls of
that service in a row while a normal ticket waited, the oldest normal is next.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping

Key = tuple[int, int]
"""A ticket's order: (place, id)."""


class Queues:
    def __init__(self, services: Iterable[str]) -> None:
        self.pending: dict[str, list[Key]] = {}
        self.normal: dict[str, list[Key]] = {}
        self.priority: dict[str, list[Key]] = {}
        for service in services:
            self.add_service(service)

    def add_service(self, service: str) -> None:
        self.pending.setdefault(service, [])
        self.normal.setdefault(service, [])
        self.priority.setdefault(service, [])

    def position(self, service: str, key: Key) -> int:
        """1-based place among the service's tickets not yet called."""
        return bisect_left(self.pending[service], key) + 1

    def add_pending(self, service: str, key: Key) -> None:
        insort(self.pending[service], key)

    def add_waiting(self, service: str, key: Key, priority: bool = False) -> None:
        insort((self.priority if priority else self.normal)[service], key)

    def remove(self, service: str, key: Key, was_waiting: bool) -> None:
        _remove_sorted(self.pending[service], key)
        if was_waiting:
            _remove_sorted(self.normal[service], key)
            _remove_sorted(self.priority[service], key)

    def counts(self) -> dict[str, int]:
        return {service: len(queue) for service, queue in self.pending.items()}

    def waiting(self, service: str) -> list[Key]:
        """The service's waiting tickets, in place order (both kinds)."""
        return sorted([*self.normal[service], *self.priority[service]])

    def has_waiting(self, service: str) -> bool:
        return bool(self.normal.get(service) or self.priority.get(service))

    def pick_next(
        self, services: Iterable[str], streaks: Mapping[str, int] | None = None, max_in_a_row: int = 0
    ) -> int | None:
        """The ticket a counter calls next: in the order of its services, each service's next by rule."""
        for service in services:
            picked = self.next_of(service, (streaks or {}).get(service, 0), max_in_a_row)
            if picked is not None:
                return picked
        return None

    def next_of(self, service: str, streak: int, max_in_a_row: int) -> int | None:
        """The service's next call: its oldest priority ticket unless the fairness bound is reached."""
        normal = self.normal.get(service)
        priority = self.priority.get(service)
        if priority and (not normal or streak < max_in_a_row):
            return priority[0][1]
        if normal:
            return normal[0][1]
        return None


def _remove_sorted(items: list[Key], value: Key) -> None:
    index = bisect_left(items, value)
    if index < len(items) and items[index] == value:
        del items[index]
