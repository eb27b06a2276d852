"""Missed calls: a no-show may rejoin once, in its window, behind at most rejoin_after of those waiting."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import rejoin
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import CounterConfig, QueuePolicy
from queue_server.domain.tickets import PENDING, Status, Ticket
from tests.domain.office_factory import Desk

ONE_COUNTER = (CounterConfig("1", "Loket 1", ("a",)), CounterConfig("2", "Loket 2", ("b",)))


def desk_with(within: int = 5, after: int = 2, capacity: int = 30) -> Desk:
    return Desk(
        capacity=capacity,
        counters=ONE_COUNTER,
        queue=QueuePolicy(rejoin_within_calls=within, rejoin_after=after),
    )


def missed(desk: Desk) -> Ticket:
    """Issue a ticket of `a`, call it first and mark it no-show."""
    ticket = desk.issue("a")
    assert desk.call("1") is ticket
    desk.do(cmd.NoShow("1"))
    assert ticket.status is Status.NO_SHOW
    return ticket


def code_of(desk: Desk, command: cmd.Rejoin) -> str:
    with pytest.raises(DomainError) as error:
        desk.do(command)
    return error.value.code


def test_a_rejoined_ticket_is_called_after_exactly_rejoin_after_of_those_waiting() -> None:
    """Four wait; rejoin_after 2: the next two calls take the first two, then the rejoined ticket."""
    desk = desk_with(after=2)
    gone = desk.issue("a")
    others = [desk.issue("a") for _ in range(4)]
    assert desk.call("1") is gone
    desk.do(cmd.NoShow("1"))
    outcome = desk.do(cmd.Rejoin(number=gone.number))
    assert outcome.events[0].TYPE == "ticket.rejoined"
    assert gone.status is Status.WAITING and gone.number == "A001"
    assert desk.state.position(gone) == 3
    assert [desk.call("1") for _ in range(4)] == [others[0], others[1], gone, others[2]]


def test_with_fewer_waiting_than_rejoin_after_it_goes_behind_all_of_them() -> None:
    """One waits, rejoin_after 2: the rejoined ticket is second."""
    desk = desk_with(after=2)
    gone = missed(desk)
    other = desk.issue("a")
    desk.do(cmd.Rejoin(ticket_id=gone.id))
    assert [desk.call("1"), desk.call("1")] == [other, gone]


def test_only_once() -> None:
    """A second rejoin of the same ticket is refused, saying it already rejoined."""
    desk = desk_with()
    gone = missed(desk)
    desk.do(cmd.Rejoin(ticket_id=gone.id))
    desk.call("1")
    desk.do(cmd.NoShow("1"))
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Rejoin(ticket_id=gone.id))
    assert error.value.code == "rejoin_not_allowed"
    assert error.value.details and error.value.details["reason"] == "already_rejoined"


def test_only_within_the_window_of_later_calls_of_its_service() -> None:
    """rejoin_within_calls 2: after two more calls of its service it may no longer rejoin; calls of
    other services do not count."""
    desk = desk_with(within=2)
    gone = missed(desk)
    for _ in range(3):
        desk.issue("b")
        desk.call("2")
    desk.issue("a")
    desk.call("1")
    assert rejoin.refusal(desk.state, gone) is None
    desk.issue("a")
    desk.call("1")
    assert code_of(desk, cmd.Rejoin(ticket_id=gone.id)) == "rejoin_not_allowed"
    refusal = rejoin.refusal(desk.state, gone)
    assert refusal is not None and refusal[0] == "window_passed"


def test_off_by_default_and_only_for_no_shows() -> None:
    """Without [queue] rejoin_within_calls nobody rejoins; a waiting ticket cannot rejoin; an unknown
    number is unknown."""
    plain = Desk(counters=ONE_COUNTER)
    ticket = plain.issue("a")
    plain.call("1")
    plain.do(cmd.NoShow("1"))
    assert code_of(plain, cmd.Rejoin(ticket_id=ticket.id)) == "rejoin_not_allowed"
    desk = desk_with()
    waiting = desk.issue("a")
    assert code_of(desk, cmd.Rejoin(ticket_id=waiting.id)) == "rejoin_not_allowed"
    assert code_of(desk, cmd.Rejoin(number="Z999")) == "unknown_ticket_number"


def test_many_rejoins_into_one_gap_keep_the_order() -> None:
    """Thirty rejoins behind the same first ticket halve one gap again and again; when it is used up the
    places are spread out again and every queue keeps its order."""
    desk = desk_with(within=100, after=1)
    gone = []
    for _ in range(30):
        gone.append(desk.issue("a"))
        desk.call("1")
        desk.do(cmd.NoShow("1"))
    first, last = desk.issue("a"), desk.issue("a")
    for ticket in gone:
        desk.do(cmd.Rejoin(ticket_id=ticket.id))
        assert desk.state.position(ticket) == 2
    expected = [first, *reversed(gone), last]
    assert [desk.state.tickets[k[1]] for k in desk.state.queues.waiting("a")] == expected
    assert [t["id"] for t in desk.snapshot()["queues"]["a"]] == [t.id for t in expected]
    assert [desk.call("1") for _ in expected] == expected


ops = st.lists(
    st.one_of(
        st.tuples(st.just("issue")),
        st.tuples(st.just("call")),
        st.tuples(st.just("no_show")),
        st.tuples(st.just("finish")),
        st.tuples(st.just("rejoin"), st.integers(1, 12)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4), st.integers(0, 3), ops)
def test_rejoin_promises_hold_in_any_day(within: int, after: int, steps: list) -> None:  # type: ignore[type-arg]
    """A rejoin happens at most once per ticket, only inside its window, and lands behind exactly
    min(rejoin_after, waiting) of those waiting; a refused rejoin changes nothing."""
    desk = desk_with(within=within, after=after, capacity=100)
    rejoined: set[int] = set()
    for step in steps:
        state = desk.state
        if step[0] == "issue":
            desk.issue("a")
        elif step[0] == "call":
            desk.call("1")
        elif step[0] == "no_show" and state.counters["1"].current is not None:
            if state.tickets[state.counters["1"].current].status is Status.CALLED:
                desk.do(cmd.NoShow("1"))
        elif step[0] == "finish" and state.counters["1"].current is not None:
            desk.do(cmd.Finish("1"))
        elif step[0] == "rejoin":
            ticket = state.tickets.get(step[1])
            if ticket is None:
                continue
            waiting_before = list(state.queues.waiting("a"))
            allowed = (
                ticket.status is Status.NO_SHOW
                and ticket.id not in rejoined
                and ticket.no_show_mark is not None
                and state.service_calls["a"] - ticket.no_show_mark < within
            )
            seq = state.seq
            try:
                desk.do(cmd.Rejoin(ticket_id=ticket.id))
            except DomainError as error:
                assert not allowed and error.code == "rejoin_not_allowed"
                assert state.seq == seq
                continue
            assert allowed, "rejoined outside its window, twice, or not from a no-show"
            rejoined.add(ticket.id)
            ahead = [k for k in state.queues.waiting("a") if k < ticket.key]
            assert len(ahead) == min(after, len(waiting_before))
            assert set(ahead) <= set(waiting_before)
        pending = sorted(t.key for t in state.tickets.values() if t.status in PENDING)
        assert state.queues.pending["a"] == pending


def test_an_undone_call_takes_back_only_its_own_count() -> None:
    """Counter 1 calls, counter 3 calls, counter 1 undoes: one call of `a` remains in the rejoin window."""
    counters = (CounterConfig("1", "Loket 1", ("a",)), CounterConfig("3", "Loket 3", ("a",)))
    desk = Desk(counters=counters, queue=QueuePolicy(rejoin_within_calls=5))
    for _ in range(3):
        desk.issue("a")
    desk.call("1")
    desk.call("3")
    assert desk.state.service_calls["a"] == 2
    desk.do(cmd.Undo("1"))
    assert desk.state.service_calls["a"] == 1
