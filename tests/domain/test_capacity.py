"""Rules of crowd capacity: admission in order, door counts, capacity changes."""

from __future__ import annotations

import pytest

from queue_server.domain import commands as cmd
from queue_server.domain.capacity import Occupancy
from queue_server.domain.errors import DomainError
from queue_server.domain.tickets import Status
from tests.domain.office_factory import Desk


def test_ticket_is_admitted_at_once_while_there_is_room() -> None:
    """With room and nobody outside, a new ticket is waiting inside."""
    desk = Desk(capacity=3)
    ticket = desk.issue("a", party_size=3)
    assert ticket.status is Status.WAITING
    assert desk.state.occupancy.inside == 3


def test_ticket_waits_outside_when_it_does_not_fit() -> None:
    """A party that would exceed capacity is outside and cannot be called."""
    desk = Desk(capacity=2)
    desk.issue("a", party_size=2)
    outside = desk.issue("a")
    assert outside.status is Status.OUTSIDE
    desk.call("3")
    assert desk.call("3") is outside  # the first one left, so the outside ticket came in and was called


def test_new_ticket_never_overtakes_an_outside_one() -> None:
    """Even when a small party would fit, it waits behind an older outside ticket."""
    desk = Desk(capacity=3)
    desk.issue("a", party_size=2)
    big = desk.issue("a", party_size=2)
    small = desk.issue("a", party_size=1)
    assert big.status is Status.OUTSIDE
    assert small.status is Status.OUTSIDE


def test_admission_stops_at_the_first_party_that_does_not_fit() -> None:
    """When space frees, outside tickets come in in issue order without overtaking."""
    desk = Desk(capacity=3)
    first = desk.issue("a", party_size=3)
    big = desk.issue("b", party_size=3)
    small = desk.issue("b", party_size=1)
    desk.do(cmd.CancelTicket(first.id))
    assert big.status is Status.WAITING
    assert small.status is Status.OUTSIDE
    assert desk.types().count("ticket.admitted") == 1


def test_raising_capacity_admits_waiting_outside() -> None:
    """A higher capacity lets the next outside tickets in."""
    desk = Desk(capacity=1)
    desk.issue("a")
    outside = desk.issue("a")
    desk.do(cmd.SetCapacity(2))
    assert outside.status is Status.WAITING
    assert desk.types()[-1] == "occupancy.changed"


def test_door_counts_people_without_tickets() -> None:
    """The door adds and removes people who have no ticket."""
    desk = Desk(capacity=5)
    desk.do(cmd.DoorEnter(3))
    assert desk.state.occupancy.inside == 3
    desk.do(cmd.DoorExit(2))
    assert desk.state.occupancy.inside == 1


def test_door_cannot_count_out_more_than_it_counted_in() -> None:
    """Counting out more than were counted in is refused with occupancy_below_zero."""
    desk = Desk()
    desk.do(cmd.DoorEnter(1))
    with pytest.raises(DomainError) as error:
        desk.do(cmd.DoorExit(2))
    assert error.value.code == "occupancy_below_zero"


def test_door_cannot_fill_the_office_over_capacity() -> None:
    """The door may not count people in beyond the capacity."""
    desk = Desk(capacity=2)
    desk.issue("a")
    with pytest.raises(DomainError) as error:
        desk.do(cmd.DoorEnter(2))
    assert error.value.code == "capacity_full"


def test_door_exit_admits_outside_tickets() -> None:
    """Counting people out frees room for outside tickets."""
    desk = Desk(capacity=1)
    desk.do(cmd.DoorEnter(1))
    outside = desk.issue("a")
    desk.do(cmd.DoorExit(1))
    assert outside.status is Status.WAITING


def test_cancelling_an_outside_ticket_lets_the_next_in() -> None:
    """The head of the outside line cancels; the next one that fits comes in."""
    desk = Desk(capacity=2)
    desk.issue("a", party_size=1)
    head = desk.issue("a", party_size=2)
    after = desk.issue("a", party_size=1)
    desk.do(cmd.CancelTicket(head.id))
    assert after.status is Status.WAITING


def test_occupancy_reports_outside_count_and_people() -> None:
    """outside counts tickets, outside_people counts their party sizes."""
    occupancy = Occupancy(capacity=10, door_count=2, ticket_people=3, outside={7: 2, 9: 4})
    assert occupancy.as_dict() == {"inside": 5, "capacity": 10, "outside": 2, "outside_people": 6}
    assert occupancy.next_admissions() == [7]
