"""The queues of one office: per service, the tickets not yet called, in issue order.

A ticket's place is its id (ids rise in issue order), so a transferred ticket
slots in by its original issue time and never waits twice. `pending` holds
every ticket not yet called (outside and waiting: positions count both);
`waiting` only those inside, which are the ones a counter may call.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable


class Queues:
    def __init__(self, services: Iterable[str]) -> None:
        self.pending: dict[str, list[int]] = {s: [] for s in services}
        self.waiting: dict[str, list[int]] = {s: [] for s in services}

    def position(self, service: str, ticket_id: int) -> int:
        """1-based place among the service's tickets not yet called."""
        return bisect_left(self.pending[service], ticket_id) + 1

    def add_pending(self, service: str, ticket_id: int) -> None:
        insort(self.pending[service], ticket_id)

    def add_waiting(self, service: str, ticket_id: int) -> None:
        insort(self.waiting[service], ticket_id)

    def remove(self, service: str, ticket_id: int, was_waiting: bool) -> None:
        _remove_sorted(self.pending[service], ticket_id)
        if was_waiting:
            _remove_sorted(self.waiting[service], ticket_id)

    def counts(self) -> dict[str, int]:
        return {service: len(queue) for service, queue in self.pending.items()}

    def pick_next(self, services: Iterable[str]) -> int | None:
        """The ticket a counter calls next: the oldest waiting one, in the order of its services."""
        for service in services:
            queue = self.waiting.get(service)
            if queue:
                return queue[0]
        return None


def _remove_sorted(items: list[int], value: int) -> None:
    index = bisect_left(items, value)
    if index < len(items) and items[index] == value:
        del items[index]
