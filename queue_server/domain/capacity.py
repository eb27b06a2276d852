"""Crowd capacity: who is inside, who waits outside, and who may come in next.

Pure rules, no I/O. `inside` counts the party sizes of tickets that are inside
(waiting, called or serving) plus people the door counted in without a ticket.
Tickets that do not fit wait outside and are admitted strictly in issue order:
a party that does not fit is never overtaken by a smaller one behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Occupancy:
    capacity: int
    door_count: int = 0
    ticket_people: int = 0
    # ticket id -> party size, in issue order (dicts keep insertion order).
    outside: dict[int, int] = field(default_factory=dict)

    @property
    def inside(self) -> int:
        return self.door_count + self.ticket_people

    @property
    def outside_people(self) -> int:
        return sum(self.outside.values())

    def fits(self, people: int) -> bool:
        return self.inside + people <= self.capacity

    def admits_new_ticket(self, party_size: int) -> bool:
        """A new ticket comes straight in only if nobody waits outside before it."""
        return not self.outside and self.fits(party_size)

    def next_admissions(self) -> list[int]:
        """Ids of the oldest outside tickets that fit now, stopping at the first that does not."""
        room = self.capacity - self.inside
        admitted: list[int] = []
        for ticket_id, party_size in self.outside.items():
            if party_size > room:
                break
            room -= party_size
            admitted.append(ticket_id)
        return admitted

    def as_dict(self) -> dict[str, int]:
        return {
            "inside": self.inside,
            "capacity": self.capacity,
            "outside": len(self.outside),
            "outside_people": self.outside_people,
        }
