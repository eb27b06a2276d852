"""Undoing a counter's last step: the rule (undo.py) and the office putting tickets back (domain.py)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain import undo
from queue_server.domain.errors import DomainError
from queue_server.domain.tickets import Status
from tests.domain.office_factory import Desk


def observable(desk: Desk) -> dict[str, Any]:
    """Everything a screen or a report can see of the office, for before/after comparisons."""
    office = desk.state
    snapshot = desk.snapshot()
    for key in ("seq",):
        snapshot.pop(key)
    tickets = {
        t.id: (t.status, t.counter, t.service, t.called_at, t.serving_at, t.finished_at)
        for t in office.tickets.values()
    }
    return {
        "snapshot": snapshot,
        "tickets": tickets,
        "waiting": {s: office.queues.waiting(s) for s in office.queues.pending},
        "pending": {s: list(q) for s, q in office.queues.pending.items()},
        "people": office.occupancy.ticket_people,
        "samples": {s: list(q) for s, q in office.service_times.samples.items()},
    }


def test_undo_of_call_next_restores_the_served_visitor_and_requeues_the_called_one() -> None:
    """A stray "call next" is taken back: A001 is being served again, A002 waits again at its place."""
    desk = Desk()
    first, second, third = desk.issue("a"), desk.issue("a"), desk.issue("a")
    desk.call("1")
    desk.do(cmd.Serve("1"))
    before = observable(desk)
    desk.call("1")
    assert first.status is Status.DONE and second.status is Status.CALLED
    answer = desk.do(cmd.Undo("1")).result
    assert isinstance(answer, undo.Undone)
    assert answer.undone == "call"
    assert answer.current is first
    assert first.status is Status.SERVING and second.status is Status.WAITING
    assert desk.state.position(second) == 1 and desk.state.position(third) == 2
    assert observable(desk) == before
    # The finished visitor is back inside, so occupancy follows the two ticket events.
    assert [e.TYPE for e in desk.events[-3:]] == [
        ev.TicketUndone.TYPE,
        ev.TicketUndone.TYPE,
        ev.OccupancyChanged.TYPE,
    ]
    assert [ev.as_dict(e)["ticket"]["status"] for e in desk.events[-3:-1]] == ["waiting", "serving"]


def test_undo_removes_the_taken_back_call_from_recent_calls() -> None:
    """The display's recent calls forget a call that was undone, and keep the earlier one."""
    desk = Desk()
    desk.issue("a")
    desk.issue("a")
    desk.call("1")
    desk.call("1")
    assert [c["number"] for c in desk.board.recent_calls] == ["A002", "A001"]
    desk.do(cmd.Undo("1"))
    assert [c["number"] for c in desk.board.recent_calls] == ["A001"]


@pytest.mark.parametrize(
    ("step", "status_before"),
    [(cmd.Finish, Status.SERVING), (cmd.NoShow, Status.CALLED), (cmd.Serve, Status.CALLED)],
)
def test_finish_no_show_and_serve_can_be_undone(step: type, status_before: Status) -> None:
    """finish, no-show and serve each go back to the status the ticket had before."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    if status_before is Status.SERVING:
        desk.do(cmd.Serve("1"))
    before = observable(desk)
    desk.do(step("1"))
    desk.do(cmd.Undo("1"))
    assert ticket.status is status_before
    assert desk.state.counters["1"].current == ticket.id
    assert observable(desk) == before


def test_undo_is_refused_after_the_window() -> None:
    """After undo.UNDO_SECONDS the step stands: 409 nothing_to_undo."""
    desk = Desk()
    desk.issue("a")
    desk.call("1")
    desk.clock.advance(undo.UNDO_SECONDS)
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Undo("1"))
    assert error.value.code == "nothing_to_undo"


def test_undo_is_refused_twice_and_when_nothing_happened() -> None:
    """A step is undone once; a counter that did nothing has nothing to undo."""
    desk = Desk()
    with pytest.raises(DomainError):
        desk.do(cmd.Undo("1"))
    desk.issue("a")
    desk.call("1")
    desk.do(cmd.Undo("1"))
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Undo("1"))
    assert error.value.code == "nothing_to_undo"


def test_undo_only_takes_back_the_counters_own_step() -> None:
    """Counter 2's undo does not touch counter 1's call."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    with pytest.raises(DomainError):
        desk.do(cmd.Undo("2"))
    assert ticket.status is Status.CALLED


def test_undo_is_refused_once_a_later_step_moved_the_ticket() -> None:
    """A transfer after the call changes the ticket: the call is no longer undone over it."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    desk.do(cmd.Transfer("1", "b"))
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Undo("1"))
    assert error.value.code == "nothing_to_undo"
    assert ticket.status is Status.WAITING and ticket.service == "b"


def test_the_rule_refuses_stale_moved_and_missing_steps() -> None:
    """undo.refusal: None inside the window with unchanged tickets, a reason otherwise."""
    desk = Desk()
    at = desk.clock.now
    step = undo.record("1", "call", at, (), {7: ("called", "1", "a")}, None, 7)
    same = {7: ("called", "1", "a")}
    assert undo.refusal(step, at + timedelta(seconds=5), same, 7) is None
    assert undo.refusal(None, at, same, 7) is not None
    assert undo.refusal(step, at + timedelta(seconds=undo.UNDO_SECONDS + 1), same, 7) is not None
    assert undo.refusal(step, at - timedelta(seconds=1), same, 7) is not None
    assert undo.refusal(step, at, {7: ("done", "1", "a")}, 7) is not None
    assert undo.refusal(step, at, same, None) is not None
    with pytest.raises(ValueError):
        undo.record("1", "recall", at, (), {}, None, None)


# ----- properties ------------------------------------------------------------------------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.sampled_from(["a", "b"]), st.integers(1, 3)),
        st.tuples(st.just("call"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("call_number"), st.sampled_from(["1", "2", "3"]), st.integers(1, 6)),
        st.tuples(st.just("serve"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("finish"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("no_show"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("undo"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("wait"), st.integers(1, 40)),
    ),
    max_size=30,
)


def command_of(op: tuple[Any, ...]) -> cmd.Command | None:
    kind = op[0]
    if kind == "issue":
        return cmd.IssueTicket(op[1], op[2], f"h-{id(op)}-{op}")
    if kind == "call":
        return cmd.CallNext(op[1])
    if kind == "call_number":
        return cmd.CallNumber(op[1], f"A{op[2]:03d}")
    simple = {"serve": cmd.Serve, "finish": cmd.Finish, "no_show": cmd.NoShow, "undo": cmd.Undo}
    return simple[kind](op[1]) if kind in simple else None


def run(desk: Desk, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        if op[0] == "wait":
            desk.clock.advance(op[1])
            continue
        command = command_of(op)
        assert command is not None
        with contextlib.suppress(DomainError):
            desk.do(command)


def consistent(desk: Desk) -> None:
    """The indexes agree with the tickets: queues, occupancy and counters."""
    office = desk.state
    for service, queue in office.queues.pending.items():
        expected = sorted(
            t.key
            for t in office.tickets.values()
            if t.service == service and t.status in ("outside", "waiting")
        )
        assert queue == expected
        assert office.queues.waiting(service) == sorted(
            t.key for t in office.tickets.values() if t.service == service and t.status == "waiting"
        )
    people = sum(
        t.party_size for t in office.tickets.values() if t.status in ("waiting", "called", "serving")
    )
    assert office.occupancy.ticket_people == people
    for counter in office.counters.values():
        at_counter = [
            t.id
            for t in office.tickets.values()
            if t.counter == counter.id and t.status in ("called", "serving")
        ]
        assert at_counter == ([counter.current] if counter.current is not None else [])
    numbers = [c["number"] for c in desk.board.recent_calls]
    assert len(numbers) == len(set(numbers))


@settings(max_examples=150, deadline=None)
@given(
    ops=STEPS,
    step=st.sampled_from(["call", "call_number", "serve", "finish", "no_show"]),
    counter=st.sampled_from(["1", "2", "3"]),
    number=st.integers(1, 6),
)
def test_an_accepted_step_undone_at_once_leaves_the_office_as_it_was(
    ops: list[tuple[Any, ...]], step: str, counter: str, number: int
) -> None:
    """Property: with room for all (no admissions), step + undo changes nothing screens or reports show."""
    desk = Desk(capacity=1000)
    run(desk, ops)
    before = observable(desk)
    pending = desk.state.undo_steps.get(counter)
    op = (step, counter, number) if step == "call_number" else (step, counter)
    command = command_of(op)
    assert command is not None
    try:
        outcome = desk.do(command)
    except DomainError:
        return
    if not outcome.events:  # "call next" with nobody waiting and nobody at the counter changed nothing
        # Nothing of its own to undo: the counter's latest undoable step is still the earlier one, if any.
        assert desk.state.undo_steps.get(counter) is pending
        if pending is None:
            with pytest.raises(DomainError):
                desk.do(cmd.Undo(counter))
        return
    desk.do(cmd.Undo(counter))
    assert observable(desk) == before
    consistent(desk)


@settings(max_examples=150, deadline=None)
@given(ops=STEPS, capacity=st.integers(1, 6))
def test_undo_keeps_every_index_consistent_in_a_full_office(
    ops: list[tuple[Any, ...]], capacity: int
) -> None:
    """Property: any mix of steps and undos (admissions too) keeps queues, occupancy and counters in step."""
    desk = Desk(capacity=capacity)
    run(desk, ops)
    consistent(desk)
    seqs = [e.seq for e in desk.events]
    assert seqs == list(range(1, len(seqs) + 1))
