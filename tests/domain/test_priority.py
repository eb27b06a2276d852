"""Priority visitors inside a service's queue, and the fairness bound that keeps normal visitors moving."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import CounterConfig, QueuePolicy
from queue_server.domain.tickets import Ticket
from tests.domain.office_factory import Desk

ONE_COUNTER = (CounterConfig("1", "Loket 1", ("a", "b")),)
_hashes = itertools.count(1)


def desk_with(max_in_a_row: int = 2) -> Desk:
    policy = QueuePolicy(priority_categories=("lansia", "ibu_hamil"), max_priority_in_a_row=max_in_a_row)
    return Desk(counters=ONE_COUNTER, queue=policy)


def issue(desk: Desk, priority: str | None = None, service: str = "a") -> Ticket:
    command = cmd.IssueTicket(service, 1, f"p-{next(_hashes)}", priority=priority)
    ticket: Ticket = desk.do(command).result
    return ticket


def calls(desk: Desk, count: int) -> list[str]:
    numbers = []
    for _ in range(count):
        ticket = desk.call("1")
        assert ticket is not None
        numbers.append(ticket.number)
    return numbers


def test_the_specs_example_max_two_gives_p1_p2_n1_p3_n2_n3() -> None:
    """api-remote's example: max 2, issued N1 N2 N3 P1 P2 P3 -> calls P1 P2 N1 P3 N2 N3."""
    desk = desk_with(2)
    normal = [issue(desk).number for _ in range(3)]
    priority = [issue(desk, "lansia").number for _ in range(3)]
    assert calls(desk, 6) == [priority[0], priority[1], normal[0], priority[2], normal[1], normal[2]]


def test_priority_goes_first_while_no_normal_ticket_waits() -> None:
    """With only priority tickets waiting the bound never holds one back."""
    desk = desk_with(1)
    numbers = [issue(desk, "lansia").number for _ in range(3)]
    assert calls(desk, 3) == numbers


def test_an_unknown_category_is_refused_and_none_are_offered_by_default() -> None:
    """422 unknown_priority for a category the office does not list; an office without any refuses all."""
    with pytest.raises(DomainError) as error:
        issue(desk_with(), "vip")
    assert error.value.code == "unknown_priority"
    with pytest.raises(DomainError) as error:
        issue(Desk(), "lansia")
    assert error.value.code == "unknown_priority"


def test_the_view_carries_the_priority() -> None:
    """The ticket view says which category it was issued with (null for a normal ticket)."""
    desk = desk_with()
    assert desk.state.view(issue(desk, "ibu_hamil"))["priority"] == "ibu_hamil"
    assert desk.state.view(issue(desk))["priority"] is None


def test_undoing_a_call_gives_back_its_place_in_the_row() -> None:
    """An undone priority call does not count towards the bound."""
    desk = desk_with(1)
    normal = issue(desk)
    first, second = issue(desk, "lansia"), issue(desk, "lansia")
    assert desk.call("1") is first
    desk.do(cmd.Undo("1"))
    assert calls(desk, 3) == [first.number, normal.number, second.number]


ops = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.sampled_from([None, None, "lansia"]), st.sampled_from(["a", "b"])),
        st.tuples(st.just("call")),
        st.tuples(st.just("call")),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), ops)
def test_no_normal_ticket_waits_longer_than_the_fairness_bound(max_in_a_row: int, steps: list) -> None:  # type: ignore[type-arg]
    """Per service: never more than max_in_a_row priority calls in a row while a normal ticket waited;
    within each kind the oldest goes first; and a priority ticket is never passed over by a normal one
    unless the bound said so."""
    desk = desk_with(max_in_a_row)
    run: dict[str, int] = {"a": 0, "b": 0}
    for step in steps:
        if step[0] == "issue":
            issue(desk, step[1], step[2])
            continue
        state = desk.state
        before = {s: [state.tickets[k[1]] for k in state.queues.waiting(s)] for s in ("a", "b")}
        ticket = desk.call("1")
        if ticket is None:
            assert not before["a"] and not before["b"]
            continue
        waiting = before[ticket.service]
        normals = [t for t in waiting if t.priority is None]
        priorities = [t for t in waiting if t.priority is not None]
        if ticket.priority is not None:
            assert ticket is priorities[0], "the oldest priority ticket goes first"
            if normals:
                run[ticket.service] += 1
                assert run[ticket.service] <= max_in_a_row, "a normal ticket waited past the bound"
            else:
                run[ticket.service] = 0
        else:
            assert ticket is normals[0], "the oldest normal ticket goes first"
            assert not priorities or run[ticket.service] >= max_in_a_row, "a priority ticket was passed over"
            run[ticket.service] = 0
