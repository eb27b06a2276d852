"""Remote tickets and bookings: quotas, NIK and device limits, check-in, day start and day end."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import remote
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import RemotePolicy, ServiceConfig
from queue_server.domain.tickets import INSIDE, Status, Ticket
from tests.domain.office_factory import Desk

SERVICES = (ServiceConfig("a", "Layanan A", "A", remote_quota=3), ServiceConfig("b", "Layanan B", "B"))
POLICY = RemotePolicy(enabled=True, book_days_ahead=2, active_per_device=2, nik="optional")
_tokens = itertools.count(1)


def desk_with(capacity: int = 30, policy: RemotePolicy = POLICY) -> Desk:
    return Desk(capacity=capacity, services=SERVICES, remote=policy)


def day(desk: Desk, ahead: int = 0) -> str:
    return (desk.clock.now.date() + timedelta(days=ahead)).isoformat()


def remote_ticket(
    desk: Desk,
    ahead: int = 0,
    nik: str | None = None,
    holders: tuple[str, ...] = (),
    service: str = "a",
) -> Ticket:
    command = cmd.IssueRemote(service, 1, f"r-{next(_tokens)}", day(desk, ahead), nik, holders)
    ticket: Ticket = desk.do(command).result
    return ticket


def refusal(desk: Desk, command: object) -> str:
    with pytest.raises(DomainError) as error:
        desk.do(command)
    return error.value.code


def test_a_remote_ticket_is_in_the_order_but_not_inside_and_never_called() -> None:
    """It has a position among pending tickets, counts in `waiting`, not in `inside`; call-next skips it."""
    desk = desk_with()
    mine = remote_ticket(desk)
    walk_in = desk.issue("a")
    assert mine.status is Status.REMOTE and desk.state.position(mine) == 1
    assert desk.state.position(walk_in) == 2 and desk.state.waiting_counts()["a"] == 2
    assert desk.state.occupancy.inside == 1
    assert desk.call("1") is walk_in
    assert desk.call("1") is None


def test_check_in_keeps_the_place_by_issue_time() -> None:
    """Checked in after two later walk-ins, it is called before both."""
    desk = desk_with()
    mine = remote_ticket(desk)
    later = [desk.issue("a"), desk.issue("a")]
    outcome = desk.do(cmd.CheckIn(ticket_id=mine.id))
    assert outcome.events[0].TYPE == "ticket.checked_in" and mine.status is Status.WAITING
    assert [desk.call("1"), desk.call("1"), desk.call("1")] == [mine, *later]


def test_check_in_into_a_full_office_waits_outside_ahead_of_later_tickets() -> None:
    """Capacity 1 and full: the checked-in ticket is `outside`, and is admitted before later outside ones."""
    desk = desk_with(capacity=1)
    mine = remote_ticket(desk)
    inside = desk.issue("a")
    later = desk.issue("a")
    assert later.status is Status.OUTSIDE
    desk.do(cmd.CheckIn(number=mine.number))
    assert mine.status is Status.OUTSIDE
    assert list(desk.state.occupancy.outside) == [mine.id, later.id]
    assert desk.call("1") is inside
    desk.do(cmd.Finish("1"))
    assert mine.status is Status.WAITING and later.status is Status.OUTSIDE


def test_check_in_refusals() -> None:
    """not_remote for a walk-in, booked_for_another_day for a booking, unknown_ticket_number otherwise."""
    desk = desk_with()
    assert refusal(desk, cmd.CheckIn(ticket_id=desk.issue("a").id)) == "not_remote"
    booked = remote_ticket(desk, ahead=1)
    assert refusal(desk, cmd.CheckIn(ticket_id=booked.id)) == "booked_for_another_day"
    assert refusal(desk, cmd.CheckIn(number="A999")) == "unknown_ticket_number"


def test_issue_refusals() -> None:
    """remote off, quota 0, a day out of the window, a NIK already active, too many for one device."""
    assert refusal(Desk(services=SERVICES), cmd.IssueRemote("a", 1, "x", "2026-11-27")) == "remote_disabled"
    desk = desk_with()
    assert refusal(desk, cmd.IssueRemote("b", 1, "x", day(desk))) == "remote_disabled"
    assert refusal(desk, cmd.IssueRemote("a", 1, "x", day(desk, 3))) == "invalid_date"
    assert refusal(desk, cmd.IssueRemote("a", 1, "x", day(desk, -1))) == "invalid_date"
    remote_ticket(desk, nik="n1")
    assert refusal(desk, cmd.IssueRemote("a", 1, "y", day(desk, 1), "n1")) == "nik_has_active_ticket"
    remote_ticket(desk, holders=("dev", "addr"))
    remote_ticket(desk, ahead=1, holders=("dev2", "addr"))
    assert refusal(desk, cmd.IssueRemote("a", 1, "z", day(desk), None, ("dev3", "addr"))) == "too_many_active"
    required = desk_with(policy=RemotePolicy(enabled=True, nik="required"))
    assert refusal(required, cmd.IssueRemote("a", 1, "x", day(required))) == "nik_required"


def test_bookings_take_that_days_first_numbers_and_open_at_its_start() -> None:
    """Two bookings for tomorrow are A001 and A002; at midnight they are remote, and walk-ins go on at A003;
    a remote ticket never checked in ends no_show at the day's end."""
    desk = desk_with()
    first, second = remote_ticket(desk, ahead=1), remote_ticket(desk, ahead=1)
    assert (first.number, second.number, first.status) == ("A001", "A002", Status.BOOKED)
    assert desk.state.view(first)["position"] is None
    desk.clock.now += timedelta(days=1)
    desk.do(cmd.Tick())
    assert first.status is Status.REMOTE and desk.state.position(second) == 2
    assert desk.issue("a").number == "A003"
    assert "ticket.activated" in desk.types()
    desk.clock.now += timedelta(days=1)
    desk.do(cmd.Tick())
    assert first.status is Status.NO_SHOW and second.status is Status.NO_SHOW


def test_cancelling_a_booking_frees_its_quota_slot() -> None:
    """Quota 3: three bookings fill the day; a cancelled one lets another in."""
    desk = desk_with()
    booked = [remote_ticket(desk, ahead=1) for _ in range(3)]
    assert refusal(desk, cmd.IssueRemote("a", 1, "q", day(desk, 1))) == "remote_quota_reached"
    desk.do(cmd.CancelTicket(booked[0].id))
    assert remote_ticket(desk, ahead=1).number == "A004"


@pytest.mark.parametrize(
    ("nik", "valid"),
    [
        ("3201014101900001", True),  # a woman born 1 Jan 1990
        ("3201012902000001", True),  # 29 Feb 2000
        ("3201012902010001", False),  # 29 Feb 2001/1901
        ("3201013213900001", False),  # month 13
        ("3201017101900001", True),  # a woman born 31 Jan 1990 (71 - 40)
        ("3201017201900001", False),  # 72 - 40 = 32
        ("320101410190000", False),  # 15 digits
        ("32010141019000a1", False),
    ],
)
def test_nik_plausibility(nik: str, valid: bool) -> None:
    """16 digits whose DDMMYY (women +40 on the day) is a real date."""
    if valid:
        remote.check_nik(nik)
    else:
        with pytest.raises(DomainError) as error:
            remote.check_nik(nik)
        assert error.value.code == "invalid_nik"


@pytest.mark.parametrize(
    ("phone", "normal"),
    [
        ("081234567890", "+6281234567890"),
        ("+62 812-3456-789", "+628123456789"),
        ("0812345", None),
        ("07123456789", None),
    ],
)
def test_phone_numbers(phone: str, normal: str | None) -> None:
    """08... or +628..., 10-13 digits in the 08 form; kept in the +62 form."""
    if normal is not None:
        assert remote.normalize_phone(phone) == normal
    else:
        with pytest.raises(DomainError):
            remote.normalize_phone(phone)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("remote"), st.integers(0, 2), st.sampled_from(["d1", "d2", "d3"])),
        st.tuples(st.just("walk_in")),
        st.tuples(st.just("check_in"), st.integers(1, 15)),
        st.tuples(st.just("call"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("finish"), st.sampled_from(["1", "2", "3"])),
        st.tuples(st.just("cancel"), st.integers(1, 15)),
        st.tuples(st.just("midnight")),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 5), ops)
def test_remote_promises_hold_in_any_day(capacity: int, steps: list) -> None:  # type: ignore[type-arg]
    """A remote ticket never counts inside and is never called before check-in; quotas are never
    exceeded; inside always equals the parties of tickets inside; the queues hold exactly the pending."""
    desk = desk_with(capacity=capacity)
    for step in steps:
        state = desk.state
        kind = step[0]
        if kind == "midnight":
            desk.clock.now += timedelta(days=1)
            desk.do(cmd.Tick())
            continue
        command: object
        if kind == "remote":
            command = cmd.IssueRemote("a", 1, f"h-{next(_tokens)}", day(desk, step[1]), None, (step[2],))
        elif kind == "walk_in":
            command = cmd.IssueTicket("a", 1, f"h-{next(_tokens)}")
        elif kind == "check_in":
            command = cmd.CheckIn(ticket_id=step[1])
        elif kind == "call":
            command = cmd.CallNext(step[1])
        elif kind == "finish":
            command = cmd.Finish(step[1])
        else:
            command = cmd.CancelTicket(step[1])
        remote_before = {t.id for t in state.tickets.values() if t.status is Status.REMOTE}
        try:
            outcome = desk.do(command)
        except DomainError:
            continue
        for event in outcome.events:
            if event.TYPE == "ticket.called":
                assert event.ticket_view["id"] not in remote_before, "a remote ticket was called"
        tickets = list(state.tickets.values())
        assert state.occupancy.ticket_people == sum(t.party_size for t in tickets if t.status in INSIDE)
        assert not any(t.id in state.occupancy.outside for t in tickets if t.status is Status.REMOTE)
        for offset in range(3):
            assert remote.taken(state, "a", day(desk, offset)) <= 3, "quota exceeded"
        held = [t for t in [*tickets, *state.booked.values()] if t.status in (Status.REMOTE, Status.BOOKED)]
        for device in ("d1", "d2", "d3"):
            assert sum(1 for t in held if device in t.holder.split()) <= POLICY.active_per_device
        pending = sorted(
            t.key for t in tickets if t.status in (Status.REMOTE, Status.OUTSIDE, Status.WAITING)
        )
        assert sorted([*state.queues.pending["a"], *state.queues.pending["b"]]) == pending
