"""The supervisor's cancel, reactivate and transfer: unit cases and property tests of the invariants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import supervise
from queue_server.domain.errors import Conflict, DomainError, NotFound
from queue_server.domain.tickets import Status
from tests.domain.office_factory import Desk
from tests.domain.test_invariants import Tracker, commands, to_command

supervisor_ops = st.one_of(
    st.builds(lambda i: ("sv_cancel", i), st.integers(1, 40)),
    st.builds(lambda i: ("sv_reactivate", i), st.integers(1, 40)),
    st.builds(lambda i, s: ("sv_transfer", i, s), st.integers(1, 40), st.sampled_from(["a", "b", "x"])),
)


def _command(op: tuple) -> object:  # type: ignore[type-arg]
    if op[0] == "sv_cancel":
        return supervise.SupervisorCancel(op[1])
    if op[0] == "sv_reactivate":
        return supervise.Reactivate(op[1])
    if op[0] == "sv_transfer":
        return supervise.SupervisorTransfer(op[1], op[2])
    return to_command(op)


def test_cancel_of_a_called_ticket_frees_its_counter() -> None:
    """A called ticket cancelled by the supervisor leaves its counter, which can call the next."""
    desk = Desk()
    first = desk.issue("a")
    second = desk.issue("a")
    desk.call("1")
    outcome = desk.do(supervise.SupervisorCancel(first.id))
    assert outcome.result.status is Status.CANCELLED
    assert desk.state.counters["1"].current is None
    assert desk.state.occupancy.inside == 1
    assert outcome.events[0].TYPE == "ticket.cancelled"
    assert desk.call("1").id == second.id


def test_serving_and_done_tickets_cannot_be_cancelled() -> None:
    """Only outside, waiting or called tickets may be cancelled: others are invalid_transition."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    desk.do(cmd.Serve("1"))
    with pytest.raises(Conflict) as refused:
        desk.do(supervise.SupervisorCancel(ticket.id))
    assert refused.value.code == "invalid_transition"
    with pytest.raises(NotFound):
        desk.do(supervise.SupervisorCancel(999))


def test_reactivated_no_show_waits_at_its_original_place() -> None:
    """A no-show brought back is waiting again, ahead of the tickets issued after it."""
    desk = Desk()
    first = desk.issue("a")
    later = [desk.issue("a") for _ in range(3)]
    desk.call("1")
    desk.do(cmd.NoShow("1"))
    outcome = desk.do(supervise.Reactivate(first.id))
    assert outcome.result.status is Status.WAITING
    assert desk.state.position(first) == 1
    assert desk.state.position(later[0]) == 2
    assert outcome.events[0].TYPE == "ticket.reactivated"
    assert desk.call("3").id == first.id
    assert desk.snapshot()["queues"]["a"][0]["number"] == later[0].number


def test_only_no_show_or_cancelled_tickets_are_reactivated() -> None:
    """A waiting or done ticket cannot be reactivated."""
    desk = Desk()
    ticket = desk.issue("a")
    with pytest.raises(Conflict):
        desk.do(supervise.Reactivate(ticket.id))


def test_transfer_of_a_waiting_ticket_keeps_its_issue_order() -> None:
    """A waiting ticket moved to another service slots in by its issue order there."""
    desk = Desk()
    moved = desk.issue("a")
    b_later = desk.issue("b")
    outcome = desk.do(supervise.SupervisorTransfer(moved.id, "b"))
    assert outcome.result.service == "b" and outcome.result.transfers == 1
    assert desk.state.position(moved) == 1 and desk.state.position(b_later) == 2
    assert desk.state.waiting_counts() == {"a": 0, "b": 2}
    with pytest.raises(NotFound):
        desk.do(supervise.SupervisorTransfer(moved.id, "nope"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 6), st.lists(st.one_of(commands, supervisor_ops, supervisor_ops), min_size=5, max_size=80)
)
def test_supervisor_actions_keep_every_promise(capacity: int, ops: list) -> None:  # type: ignore[type-arg]
    """Mixed with counter steps: never two counters per ticket, occupancy right, queues by issue order."""
    desk = Desk(capacity=capacity)
    tracker = Tracker(desk)
    for op in ops:
        if op[0] == "midnight":
            desk.clock.now += timedelta(days=1)
        now = desk.clock.advance()
        tracker.check_events(desk.office.roll_over(now))
        seq_before = desk.state.seq
        try:
            outcome = desk.office.handle(_command(op), now)  # type: ignore[arg-type]
        except DomainError:
            assert desk.state.seq == seq_before, "a refused command emitted events"
            tracker.check_state()
            continue
        # Lowered capacity, or a reactivated visitor who is already in the building, may put
        # the office over capacity for a while; admission then waits (checked by check_state).
        occupancy = desk.state.occupancy
        tracker.capacity_lowered = occupancy.inside > occupancy.capacity
        if op[0] == "sv_reactivate" or op[0] == "capacity":
            tracker.capacity_lowered = True
        tracker.check_events(outcome.events)
        tracker.check_state()
