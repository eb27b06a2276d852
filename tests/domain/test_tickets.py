"""Rules of issuing, calling and finishing tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from queue_server import wire
from queue_server.domain import commands as cmd
from queue_server.domain import estimates
from queue_server.domain.errors import DomainError
from queue_server.domain.tickets import Status
from tests.domain.office_factory import Desk


def test_numbers_are_prefix_and_three_digits_per_service() -> None:
    """Each service numbers its tickets A001, A002, ... independently."""
    desk = Desk()
    assert [desk.issue("a").number, desk.issue("a").number, desk.issue("b").number] == [
        "A001",
        "A002",
        "B001",
    ]


def test_numbers_restart_at_local_midnight() -> None:
    """After local midnight the first ticket of a service is 001 again."""
    desk = Desk()
    desk.issue("a")
    desk.issue("a")
    desk.clock.now = desk.clock.now.replace(hour=23, minute=59, second=59)
    desk.clock.advance(2)
    assert desk.issue("a").number == "A001"
    assert "day.started" in desk.types()


def test_day_end_closes_unfinished_tickets_and_frees_the_office() -> None:
    """At midnight waiting tickets are cancelled, called ones done, and nobody is inside."""
    desk = Desk(capacity=1)
    called = desk.issue("a")
    desk.call("1")
    outside = desk.issue("a")
    desk.clock.now += timedelta(days=1)
    desk.do(cmd.Tick())
    assert called.status is Status.DONE
    assert outside.status is Status.CANCELLED
    assert desk.state.occupancy.inside == 0
    assert desk.state.counters["1"].current is None


def test_unknown_service_is_refused() -> None:
    """Issuing for a service that does not exist raises unknown_service."""
    with pytest.raises(DomainError) as error:
        Desk().issue("zzz")
    assert error.value.code == "unknown_service"


@pytest.mark.parametrize("party_size", [0, -1, 31])
def test_party_size_must_fit_the_capacity(party_size: int) -> None:
    """A party must be 1..capacity people."""
    with pytest.raises(DomainError) as error:
        Desk(capacity=30).issue("a", party_size)
    assert error.value.code == "invalid_party_size"


def test_call_next_takes_the_oldest_of_the_first_service_with_waiting() -> None:
    """A counter serves its services in priority order, oldest ticket first."""
    desk = Desk()
    b1 = desk.issue("b")
    a1 = desk.issue("a")
    a2 = desk.issue("a")
    assert desk.call("1") is a1  # counter 1 prefers service a
    assert desk.call("2") is b1  # counter 2 prefers service b
    assert desk.call("2") is a2  # no b left: falls back to a
    assert desk.call("3") is None


def test_call_next_finishes_the_current_ticket_first() -> None:
    """Calling the next visitor marks the previous one done."""
    desk = Desk()
    first = desk.issue("a")
    second = desk.issue("a")
    desk.call("1")
    desk.call("1")
    assert first.status is Status.DONE
    assert second.status is Status.CALLED and second.counter == "1"
    assert desk.types().count("ticket.done") == 1


def test_call_next_with_nobody_waiting_still_finishes_current() -> None:
    """With an empty queue call-next returns nothing but the current visitor is done."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    assert desk.call("1") is None
    assert ticket.status is Status.DONE
    assert desk.state.counters["1"].current is None


def test_closed_counter_cannot_call_but_keeps_its_ticket() -> None:
    """Closing keeps the current ticket; calling from a closed counter is refused."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    desk.do(cmd.CloseCounter("1", "break"))
    assert desk.state.counters["1"].current == ticket.id
    with pytest.raises(DomainError) as error:
        desk.call("1")
    assert error.value.code == "counter_closed"
    desk.do(cmd.Finish("1"))
    assert ticket.status is Status.DONE
    desk.do(cmd.OpenCounter("1"))
    assert desk.state.counters["1"].open


def test_serve_finish_and_no_show_follow_the_status() -> None:
    """called -> serving -> done; no-show only from called; steps out of order are refused."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    desk.do(cmd.Serve("1"))
    assert ticket.status is Status.SERVING
    with pytest.raises(DomainError) as error:
        desk.do(cmd.NoShow("1"))
    assert error.value.code == "invalid_transition"
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Serve("1"))
    assert error.value.code == "invalid_transition"
    desk.do(cmd.Finish("1"))
    assert ticket.status is Status.DONE
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Finish("1"))
    assert error.value.code == "no_current_ticket"


def test_no_show_frees_the_counter() -> None:
    """A called visitor who does not come is marked no_show and leaves the office count."""
    desk = Desk()
    ticket = desk.issue("a", party_size=2)
    desk.call("1")
    desk.do(cmd.NoShow("1"))
    assert ticket.status is Status.NO_SHOW
    assert desk.state.occupancy.inside == 0


def test_recall_announces_again_without_changing_the_ticket() -> None:
    """Recall emits ticket.recalled for the current called ticket."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    desk.do(cmd.Recall("1"))
    assert desk.types()[-1] == "ticket.recalled"
    assert ticket.status is Status.CALLED and ticket.recalls == 1
    with pytest.raises(DomainError) as error:
        desk.do(cmd.Recall("2"))
    assert error.value.code == "no_current_ticket"


def test_transfer_keeps_number_and_place_by_issue_time() -> None:
    """A transferred ticket goes back to waiting in the new service, ahead of later tickets."""
    desk = Desk()
    moved = desk.issue("a")
    later_b = desk.issue("b")
    desk.call("1")
    desk.do(cmd.Transfer("1", "b"))
    assert moved.status is Status.WAITING and moved.service == "b" and moved.number == "A001"
    assert desk.state.position(moved) == 1
    assert desk.state.position(later_b) == 2
    assert desk.call("2") is moved


def test_cancel_only_before_the_call() -> None:
    """Outside and waiting tickets can be cancelled; called ones cannot."""
    desk = Desk()
    waiting = desk.issue("a")
    desk.do(cmd.CancelTicket(waiting.id))
    assert waiting.status is Status.CANCELLED
    called = desk.issue("a")
    desk.call("1")
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CancelTicket(called.id))
    assert error.value.code == "ticket_not_cancellable"


def test_positions_count_only_tickets_not_yet_called() -> None:
    """position is 1-based among the service's outside and waiting tickets."""
    desk = Desk()
    tickets = [desk.issue("a") for _ in range(3)]
    desk.call("1")
    assert desk.state.position(tickets[0]) is None
    assert [desk.state.position(t) for t in tickets[1:]] == [1, 2]


def test_call_a_number_out_of_order() -> None:
    """An officer can call a specific waiting number; it leaves the queue."""
    desk = Desk()
    desk.issue("a")
    second = desk.issue("a")
    assert desk.do(cmd.CallNumber("1", "a002")).result is second
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CallNumber("2", "A002"))
    assert error.value.code == "invalid_transition"
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CallNumber("2", "A999"))
    assert error.value.code == "unknown_ticket_number"


def test_refused_commands_change_nothing_and_emit_nothing() -> None:
    """A DomainError leaves the state and the sequence as they were."""
    desk = Desk()
    desk.issue("a")
    seq = desk.state.seq
    with pytest.raises(DomainError):
        desk.do(cmd.Finish("1"))
    with pytest.raises(DomainError):
        desk.do(cmd.CallNext("9"))
    assert desk.state.seq == seq


def test_events_carry_no_token() -> None:
    """No event payload contains a ticket's token hash."""
    desk = Desk()
    ticket = desk.issue("a")
    desk.call("1")
    assert all(ticket.token_hash not in wire.encode(e).text for e in desk.events)


def test_seq_rises_by_one_per_event() -> None:
    """Every event's seq is the previous one plus one."""
    desk = Desk(capacity=2)
    for _ in range(4):
        desk.issue("a")
    desk.call("1")
    desk.call("1")
    seqs = [e.seq for e in desk.events]
    assert seqs == list(range(1, len(seqs) + 1))


def test_estimated_wait_uses_measured_service_times_and_open_counters() -> None:
    """Once enough visits are timed, the wait is the visits ahead times their median, shared by counters."""
    desk = Desk()
    for _ in range(estimates.MIN_SAMPLES):
        desk.issue("a")
        desk.call("3")
        desk.clock.advance(10 * 60 - 1)  # each visit takes ten minutes (do() adds one second)
        desk.do(cmd.Finish("3"))
    tickets = [desk.issue("a") for _ in range(3)]
    # Service "a" is served by counters 1, 2 and 3: two visits ahead, 10 minutes each, 3 counters.
    assert desk.state.view(tickets[2])["estimated_wait_minutes"] == round(2 * 10 / 3)
    desk.do(cmd.CloseCounter("2"))
    desk.do(cmd.CloseCounter("3"))
    assert desk.state.view(tickets[2])["estimated_wait_minutes"] == 20
    assert desk.state.view(tickets[2])["estimated_wait_range"] == [15, 25]
    assert desk.state.view(tickets[0])["estimated_wait_minutes"] == 0
    assert desk.state.view(tickets[0])["estimated_wait_range"] is None


def test_a_step_for_a_ticket_no_longer_current_is_refused() -> None:
    """A late retry naming the previous ticket does not land on the next visitor."""
    desk = Desk()
    first = desk.issue("a")
    second = desk.issue("a")
    desk.call("1")
    desk.call("1")
    with pytest.raises(DomainError) as error:
        desk.do(cmd.NoShow("1", expected=first.id))
    assert error.value.code == "ticket_not_current"
    assert second.status is Status.CALLED
    desk.do(cmd.Serve("1", expected=second.id))
    assert second.status is Status.SERVING
