"""Routes: a finished step moves the ticket on to its next service, at the back, same number, inside."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import supervise
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import CounterConfig, ServiceConfig, route_of, route_problem
from queue_server.domain.tickets import FINAL, INSIDE, PENDING, Status
from tests.domain.office_factory import Desk

SERVICES = (
    ServiceConfig("rekam", "Perekaman", "R", next="verif"),
    ServiceConfig("verif", "Verifikasi", "V", next="ambil"),
    ServiceConfig("ambil", "Pengambilan", "P", kiosk=False),
    ServiceConfig("info", "Informasi", "I"),
)
COUNTERS = (
    CounterConfig("1", "Loket 1", ("rekam", "info")),
    CounterConfig("2", "Loket 2", ("verif",)),
    CounterConfig("3", "Loket 3", ("ambil", "info")),
)


def desk_with(capacity: int = 30) -> Desk:
    return Desk(capacity=capacity, counters=COUNTERS, services=SERVICES)


def test_a_finished_step_joins_the_back_of_the_next_queue_and_stays_inside() -> None:
    """R001 finished at rekam waits in verif behind V-tickets already there; inside does not change."""
    desk = desk_with()
    ticket = desk.issue("rekam")
    earlier = desk.issue("verif")
    desk.call("1")
    inside = desk.state.occupancy.inside
    outcome = desk.do(cmd.Finish("1"))
    assert [e.TYPE for e in outcome.events] == ["ticket.routed"]
    routed = outcome.events[0]
    assert routed.from_service == "rekam" and routed.from_counter == "1"  # type: ignore[attr-defined]
    assert (ticket.status, ticket.service, ticket.number) == (Status.WAITING, "verif", "R001")
    assert desk.state.position(ticket) == 2 and desk.state.position(earlier) == 1
    assert desk.state.occupancy.inside == inside
    view = desk.state.view(ticket)
    assert view["route"] == ["rekam", "verif", "ambil"] and view["step"] == 2


def test_the_last_step_ends_done_and_call_next_finishes_a_step_too() -> None:
    """The counter's next call ends a step like finish does; the last step ends the ticket done."""
    desk = desk_with()
    ticket = desk.issue("rekam")
    desk.call("1")
    desk.call("1")  # nobody else: the call finishes the step
    assert ticket.service == "verif"
    assert desk.call("2") is ticket
    desk.do(cmd.Finish("2"))
    assert desk.call("3") is ticket
    desk.do(cmd.Finish("3"))
    assert ticket.status is Status.DONE and desk.state.view(ticket)["step"] == 3
    assert desk.state.occupancy.inside == 0


def test_a_no_show_at_any_step_ends_the_ticket() -> None:
    """No-show in the second step: the ticket is a no-show, not moved on."""
    desk = desk_with()
    ticket = desk.issue("rekam")
    desk.call("1")
    desk.do(cmd.Finish("1"))
    desk.call("2")
    desk.do(cmd.NoShow("2"))
    assert ticket.status is Status.NO_SHOW and ticket.service == "verif"


def test_a_transfer_follows_the_other_services_own_next() -> None:
    """Transferred from rekam to info (no next), finishing there ends it; to verif, it goes on to ambil."""
    desk = desk_with()
    ticket = desk.issue("rekam")
    desk.call("1")
    desk.do(cmd.Transfer("1", "info"))
    assert desk.state.view(ticket)["route"] == ["info"]
    assert desk.call("1") is ticket
    desk.do(cmd.Finish("1"))
    assert ticket.status is Status.DONE
    other = desk.issue("rekam")
    desk.call("1")
    desk.do(supervise.SupervisorTransfer(other.id, "verif"))
    desk.call("2")
    desk.do(cmd.Finish("2"))
    assert (other.status, other.service) == (Status.WAITING, "ambil")


def test_undoing_a_finish_brings_the_ticket_back_from_its_next_step() -> None:
    """An undone finish puts the routed ticket back at its counter, out of the next queue."""
    desk = desk_with()
    ticket = desk.issue("rekam")
    desk.call("1")
    desk.do(cmd.Finish("1"))
    desk.do(cmd.Undo("1"))
    assert (ticket.status, ticket.service, ticket.counter) == (Status.CALLED, "rekam", "1")
    assert desk.state.queues.pending["verif"] == []
    assert desk.state.view(ticket)["step"] == 1


def test_cycles_and_unknown_next_are_found() -> None:
    """route_problem names a cycle or an unknown service; route_of stops at the end."""
    services = {s.id: s for s in SERVICES}
    assert route_problem(services) is None
    assert route_of(services, "rekam") == ("rekam", "verif", "ambil")
    loop = {**services, "ambil": ServiceConfig("ambil", "P", "P", next="rekam")}
    assert "cycle" in (route_problem(loop) or "")
    unknown = {**services, "info": ServiceConfig("info", "I", "I", next="nope")}
    assert "unknown" in (route_problem(unknown) or "")


ops = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.sampled_from(["rekam", "verif", "info"])),
        st.tuples(st.just("call"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("finish"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("no_show"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("transfer"), st.sampled_from(["1", "2", "3"]), st.sampled_from(["rekam", "info"])),
        st.tuples(st.just("undo"), st.sampled_from(["1", "2", "3"])),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 8), ops)
def test_a_route_never_loses_or_duplicates_a_ticket(capacity: int, steps: list) -> None:  # type: ignore[type-arg]
    """Every ticket is in exactly one place (a queue, a counter, or finished); numbers never change;
    inside is the parties of tickets inside; a ticket's step never exceeds its route's length."""
    desk = desk_with(capacity)
    numbers: dict[int, str] = {}
    for step in steps:
        kind = step[0]
        command: object
        if kind == "issue":
            command = cmd.IssueTicket(step[1], 1, f"s-{len(numbers)}-{len(desk.events)}")
        elif kind == "call":
            command = cmd.CallNext(step[1])
        elif kind == "finish":
            command = cmd.Finish(step[1])
        elif kind == "no_show":
            command = cmd.NoShow(step[1])
        elif kind == "transfer":
            command = cmd.Transfer(step[1], step[2])
        else:
            command = cmd.Undo(step[1])
        with contextlib.suppress(DomainError):
            desk.do(command)
        state = desk.state
        places: dict[int, int] = {}
        for service, keys in state.queues.pending.items():
            for _, ticket_id in keys:
                assert state.tickets[ticket_id].service == service
                places[ticket_id] = places.get(ticket_id, 0) + 1
        for counter in state.counters.values():
            if counter.current is not None:
                places[counter.current] = places.get(counter.current, 0) + 1
        for ticket in state.tickets.values():
            numbers.setdefault(ticket.id, ticket.number)
            assert ticket.number == numbers[ticket.id], "a route changed a number"
            expected = 0 if ticket.status in FINAL else 1
            assert places.get(ticket.id, 0) == expected, (
                f"{ticket.number} {ticket.status} in {places.get(ticket.id)}"
            )
            if ticket.status in PENDING:
                assert ticket.status is not Status.REMOTE
            view = state.view(ticket)
            assert 1 <= view["step"] <= len(view["route"])
        inside = sum(t.party_size for t in state.tickets.values() if t.status in INSIDE)
        assert state.occupancy.ticket_people == inside
