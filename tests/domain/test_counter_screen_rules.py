"""Rules behind the counter screen: the queues list, one recent call per number, errors that say why."""

from __future__ import annotations

import pytest

from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import CounterConfig
from tests.domain.office_factory import COUNTERS, Desk


def test_snapshot_queues_list_pending_tickets_in_place_order_with_status() -> None:
    """queues: per service, waiting and outside tickets by place (ticket id), with their party size."""
    desk = Desk(capacity=2)
    desk.issue("a")
    desk.issue("b", party_size=2)  # does not fit: outside
    queues = desk.snapshot()["queues"]
    assert queues["a"] == [
        {"id": 1, "number": "A001", "status": "waiting", "party_size": 1, "priority": None}
    ]
    assert queues["b"] == [
        {"id": 2, "number": "B001", "status": "outside", "party_size": 2, "priority": None}
    ]


def test_a_transferred_ticket_keeps_its_place_in_the_queues() -> None:
    """A ticket sent to another service is listed by its original issue order there."""
    desk = Desk()
    desk.issue("a")
    desk.issue("b")
    desk.call("3")  # A001 at counter 3, which serves only "a"
    desk.do(cmd.Transfer("3", "b"))
    assert [t["number"] for t in desk.snapshot()["queues"]["b"]] == ["A001", "B001"]


def test_a_recall_moves_the_call_to_the_front_instead_of_adding_one() -> None:
    """recent_calls holds one entry per number, newest first; a recall updates its time."""
    desk = Desk()
    desk.issue("a")
    desk.issue("a")
    desk.call("1")
    desk.call("2")
    desk.do(cmd.Recall("1"))
    calls = desk.snapshot()["recent_calls"]
    assert [(c["number"], c["counter"]) for c in calls] == [("A001", "1"), ("A002", "2")]
    assert calls[0]["at"] > calls[1]["at"]


@pytest.mark.parametrize(
    ("setup", "status", "counter"),
    [("done", "done", "1"), ("no_show", "no_show", "1"), ("outside", "outside", None)],
)
def test_calling_a_number_that_is_not_waiting_says_its_status_where_and_when(
    setup: str, status: str, counter: str | None
) -> None:
    """The refusal carries details: number, status, counter and its name, the time, the service."""
    desk = Desk(capacity=1)
    desk.issue("a")
    if setup == "outside":
        desk.issue("a")  # the office holds one: A002 waits outside
        number = "A002"
    else:
        number = "A001"
        desk.call("1")
        desk.do(cmd.Finish("1") if setup == "done" else cmd.NoShow("1"))
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CallNumber("2", number))
    details = error.value.details
    assert error.value.code == "invalid_transition"
    assert details is not None
    assert (details["number"], details["status"], details["counter"]) == (number, status, counter)
    assert details["service_name"] == "Layanan A"
    assert details["at"] and details["at"].startswith("2026-11-27T08:")
    if counter:
        assert details["counter_name"] == "Loket 1"


def test_an_unknown_number_names_the_number() -> None:
    """unknown_ticket_number carries the number typed (upper-cased)."""
    desk = Desk()
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CallNumber("1", "z999"))
    assert error.value.code == "unknown_ticket_number"
    assert error.value.details == {"number": "Z999"}


def test_a_counter_may_not_call_a_number_of_a_service_it_does_not_serve() -> None:
    """Counter 3 serves only "a": calling B001 there is service_not_served, and B001 keeps waiting."""
    desk = Desk()
    ticket = desk.issue("b")
    with pytest.raises(DomainError) as error:
        desk.do(cmd.CallNumber("3", "B001"))
    assert error.value.code == "service_not_served"
    assert error.value.details is not None
    assert error.value.details["counter_name"] == "Loket 3"
    assert error.value.details["service_name"] == "Layanan B"
    assert ticket.status == "waiting"


def test_a_counter_configured_for_every_service_may_call_any_number() -> None:
    """call_any_service = true lets a counter call a number of a service it does not list."""
    counters = (*COUNTERS[:2], CounterConfig("3", "Loket 3", ("a",), call_any_service=True))
    desk = Desk(counters=counters)
    ticket = desk.issue("b")
    assert desk.do(cmd.CallNumber("3", "B001")).result is ticket
