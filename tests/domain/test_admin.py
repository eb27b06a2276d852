"""Live administration rules and opening hours: services, counters, hours across days and holidays."""

from __future__ import annotations

from datetime import datetime

import pytest

from queue_server.domain import admin
from queue_server.domain import commands as cmd
from queue_server.domain.errors import Conflict, Invalid, NotFound
from queue_server.domain.hours import parse_hours
from tests.domain.office_factory import ZONE, Desk

WEEK = parse_hours(
    {
        "mon": ["08:00-12:00", "13:00-16:00"],
        "tue": ["08:00-16:00"],
        "wed": ["08:00-16:00"],
        "thu": ["08:00-16:00"],
        "fri": ["08:00-11:00"],
        "closed_dates": ["2026-12-25"],
    }
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026, office time (1 December 2026 is a Tuesday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZONE)


def test_hours_across_a_weekday_change() -> None:
    """Friday after 11:00 the next opening is Monday 08:00 (the weekend is closed)."""
    friday = at(4, 11, 30)
    assert not WEEK.is_open(friday)
    assert WEEK.next_opening(friday) == at(7, 8, 0)
    assert WEEK.is_open(at(7, 8, 0)) and not WEEK.is_open(at(7, 12, 30))
    assert WEEK.next_opening(at(7, 12, 30)) == at(7, 13, 0)  # the lunch break on Monday


def test_hours_across_a_holiday() -> None:
    """A holiday on a Friday is closed all day; the evening before, the next opening is Monday."""
    assert not WEEK.is_open(at(25, 9, 0))
    assert WEEK.next_opening(at(24, 17, 0)) == at(28, 8, 0)
    assert WEEK.opens_at(at(25, 9).date()) is None and WEEK.opens_at(at(28, 9).date()) == "08:00"


def test_closed_office_refuses_tickets_with_the_next_opening_but_counters_serve() -> None:
    """Outside the hours issuing is office_closed (with opens_at); the queue issued before is served."""
    desk = Desk()
    desk.clock.now = at(4, 10, 0)
    waiting = desk.issue("a")
    desk.do(admin.SetHours(WEEK))
    desk.clock.now = at(4, 11, 30)
    with pytest.raises(Conflict) as refused:
        desk.do(cmd.IssueTicket("a", 1, "late"))
    assert refused.value.code == "office_closed"
    assert refused.value.details == {"opens_at": "2026-12-07T08:00:00+08:00"}
    assert "2026-12-07 08:00" in refused.value.message
    assert desk.call("1").id == waiting.id
    desk.clock.now = at(7, 8, 0)
    assert desk.issue("a").number == "A001"  # a new day: numbering restarted


def test_config_changed_carries_hours_only_when_they_changed() -> None:
    """SetHours sends config.changed with the hours; a service change sends it without them."""
    desk = Desk()
    hours_event = desk.do(admin.SetHours(WEEK)).events[-1]
    assert hours_event.TYPE == "config.changed" and hours_event.hours["mon"] == ["08:00-12:00", "13:00-16:00"]
    service_event = desk.do(admin.UpdateService("a", (("fee", "Rp 5.000"),))).events[-1]
    assert service_event.hours is None
    assert next(s for s in service_event.services if s["id"] == "a")["fee"] == "Rp 5.000"
    always = desk.do(admin.SetHours(None)).events[-1]
    assert always.hours["always_open"] is True and desk.state.hours is None


def test_new_service_takes_tickets_and_shows_on_the_board() -> None:
    """A created service gets its own numbering, queue and place on the board."""
    desk = Desk()
    desk.do(admin.CreateService("ktp", "KTP", "K", ("KK",), 10, "Gratis"))
    ticket = desk.issue("ktp")
    assert ticket.number == "K001"
    snapshot = desk.snapshot()
    assert any(s["id"] == "ktp" for s in snapshot["services"])
    assert snapshot["waiting"]["ktp"] == 1


def test_service_refusals() -> None:
    """Taken id or prefix is a conflict, a bad id or prefix invalid, an unknown service not found."""
    desk = Desk()
    with pytest.raises(Conflict) as taken:
        desk.do(admin.CreateService("a", "X", "X"))
    assert taken.value.code == "service_exists"
    with pytest.raises(Conflict) as prefix:
        desk.do(admin.CreateService("x", "X", "A"))
    assert prefix.value.code == "prefix_taken"
    for bad in (admin.CreateService("X Y", "X", "X"), admin.CreateService("x", "X", "x")):
        with pytest.raises(Invalid):
            desk.do(bad)
    with pytest.raises(NotFound):
        desk.do(admin.UpdateService("zz", (("name", "Z"),)))
    with pytest.raises(Invalid):
        desk.do(admin.UpdateService("a", (("standard_minutes", 0),)))


def test_closed_service_refuses_new_tickets_and_serves_its_queue() -> None:
    """open=false: service_closed on issue, its waiting tickets are still called."""
    desk = Desk()
    waiting = desk.issue("a")
    desk.do(admin.UpdateService("a", (("open", False),)))
    with pytest.raises(Conflict) as refused:
        desk.issue("a")
    assert refused.value.code == "service_closed"
    assert desk.call("1").id == waiting.id


def test_counter_services_change_from_the_next_call() -> None:
    """A counter's new priority order counts from its next call; new counters start closed."""
    desk = Desk()
    a = desk.issue("a")
    b = desk.issue("b")
    desk.do(admin.UpdateCounter("1", (("services", ("b", "a")),)))
    assert desk.call("1").id == b.id
    desk.do(admin.CreateCounter("7", "Loket 7", ("a",)))
    assert desk.state.counters["7"].open is False
    desk.do(cmd.OpenCounter("7"))
    assert desk.call("7").id == a.id
    with pytest.raises(Conflict):
        desk.do(admin.CreateCounter("7", "Lagi", ("a",)))
    with pytest.raises(NotFound) as unknown:
        desk.do(admin.CreateCounter("8", "L", ("zz",)))
    assert unknown.value.code == "unknown_service"
