"""domain/reload.py: tickets changed in place give the state a load of the final tickets gives.

The property draws ticket versions freely (any status, counter, place, times, day, service), so
it reaches the cases `InPlace` must refuse (two tickets at one counter, a place that falls, a
ticket moving between days); whenever it does apply, the state equals a load from scratch, index
by index, order included. The second test feeds it a real office's own changes, command after
command: ordinary work is always applied in place, never refused.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.domain.estimates import SERVICE_TIME_SAMPLES
from queue_server.domain.reload import InPlace, load_tickets
from queue_server.domain.settings import QueuePolicy, RemotePolicy, ServiceConfig
from queue_server.domain.state import OfficeState
from queue_server.domain.tickets import PLACE_GAP, Status, Ticket, iso
from tests.domain.office_factory import COUNTERS, SERVICES, ZONE, Desk
from tests.support.command_streams import COMMANDS
from tests.support.state_picture import state_picture

TODAY = "2026-11-27"
DAYS = {"today": TODAY, "tomorrow": "2026-11-28", "yesterday": "2026-11-26"}
START = datetime(2026, 11, 27, 8, 0, tzinfo=ZONE)


def loaded(
    rows: dict[int, Ticket], day: str = TODAY, services: tuple[ServiceConfig, ...] = SERVICES
) -> OfficeState:
    """The state a load of these rows gives (as engine/service.py `_office_from` builds it)."""
    state = OfficeState(services, COUNTERS, 4, day, next_ticket_id=max(rows, default=0) + 1)
    tickets = [rows[i] for i in sorted(rows)]
    load_tickets(state, [t for t in tickets if t.day == day], [t for t in tickets if t.day > day])
    state.take_changes()
    return state


def _time(minutes: int | None) -> str | None:
    return None if minutes is None else iso(START + timedelta(minutes=minutes))


@st.composite
def versions(draw: st.DrawFn, ticket_id: int) -> Ticket:
    """One version of ticket `ticket_id`: its number, token, first service and day are its own;
    everything a command may change is drawn."""
    day = DAYS[draw(st.sampled_from(["today"] * 6 + ["tomorrow", "yesterday"]))]
    issued = "ab"[ticket_id % 2]
    times = st.one_of(st.none(), st.integers(0, 90))
    return Ticket(
        id=ticket_id,
        day=day,
        service=draw(st.sampled_from([issued] * 4 + ["ab"[ticket_id % 2 - 1], "gone"])),
        sequence=ticket_id,
        number=f"{issued.upper()}{ticket_id:03d}",
        party_size=draw(st.integers(1, 3)),
        issued_at=_time(0) or "",
        status=draw(st.sampled_from(list(Status))),
        token_hash=f"token-{ticket_id}",
        issued_service=issued,
        counter=draw(st.sampled_from([None, "1", "2", "3", "9"])),
        called_at=_time(draw(times)),
        serving_at=_time(draw(times)),
        finished_at=_time(draw(times)),
        place=draw(st.sampled_from([ticket_id * PLACE_GAP, ticket_id * PLACE_GAP + 7, PLACE_GAP // 3, 0])),
        priority=draw(st.sampled_from([None, "lansia"])),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[int, Ticket], list[dict[int, Ticket]]]:
    """Tickets as first loaded, then batches of changed (or new) tickets."""
    first = draw(st.integers(0, 8))
    rows = {i: draw(versions(i)) for i in range(1, first + 1)}
    batches = []
    top = first
    for _ in range(draw(st.integers(1, 8))):
        batch = {}
        for ticket_id in draw(st.lists(st.integers(1, top + 2), max_size=4, unique=True)):
            batch[ticket_id] = draw(versions(ticket_id))
        top = max([top, *batch])
        batches.append(batch)
    return rows, batches


@settings(max_examples=400, deadline=None)
@given(history=histories())
def test_changes_applied_in_place_equal_a_load_of_the_final_tickets(
    history: tuple[dict[int, Ticket], list[dict[int, Ticket]]],
) -> None:
    rows, batches = history
    rows = dict(rows)
    state = loaded(rows)
    in_place = InPlace(state)
    for batch in batches:
        changes = [(rows.get(i), new) for i, new in sorted(batch.items())]
        before = state_picture(state)
        # Judged before apply: a refusal part-way moves what _check compares with (the top id).
        up_front = not in_place.exact or any(in_place._check(old, new) is None for old, new in changes)
        rows.update(batch)
        if in_place.apply(changes):
            assert state_picture(state) == state_picture(loaded(rows))
        else:
            if up_front:
                assert state_picture(state) == before, "a change refused up front leaves the state as it was"
            state = loaded(rows)
            in_place = InPlace(state)


def test_a_refused_change_leaves_the_state_alone_and_says_so() -> None:
    """A ticket of today turning into tomorrow's cannot be done in place: apply says no, changes nothing."""
    ticket = Ticket(1, TODAY, "a", 1, "A001", 1, iso(START), Status.WAITING, "t1", "a", place=PLACE_GAP)
    rows = {1: ticket}
    state = loaded(rows)
    before = state_picture(state)
    assert not InPlace(state).apply([(ticket, replace(ticket, day="2026-11-28"))])
    assert state_picture(state) == before


def test_two_tickets_at_one_counter_are_never_applied_in_place() -> None:
    """A load lets the later of two tickets at a counter win it; taking that one out in place could
    not bring the other back, so a state holding such a pair is only loaded from scratch."""
    a = Ticket(1, TODAY, "a", 1, "A001", 1, iso(START), Status.CALLED, "t1", "a", counter="1", place=1)
    b = replace(a, id=2, sequence=2, number="A002", token_hash="t2", place=2)
    state = loaded({1: a, 2: b})
    assert state.counters["1"].current == 2
    assert not InPlace(state).apply([(b, replace(b, status=Status.DONE))])


def test_late_finishes_keep_the_samples_in_id_order() -> None:
    """A load appends service times in id order; visits end in any order. Finishing ticket 1 after
    tickets 2..21 must give the samples a load gives: ticket 1's visit falls off the window."""
    rows: dict[int, Ticket] = {}
    for i in range(1, SERVICE_TIME_SAMPLES + 2):
        rows[i] = Ticket(
            i, TODAY, "a", i, f"A{i:03d}", 1, iso(START), Status.CALLED, f"t{i}", "a",
            counter="1" if i == 1 else None, called_at=_time(0), place=i * PLACE_GAP,
        )  # fmt: skip
    state = loaded(rows)
    in_place = InPlace(state)
    for i in range(2, SERVICE_TIME_SAMPLES + 2):
        done = replace(rows[i], status=Status.DONE, counter="2", finished_at=_time(i))
        assert in_place.apply([(rows[i], done)])
        rows[i] = done
    done = replace(rows[1], status=Status.DONE, finished_at=_time(60))
    assert in_place.apply([(rows[1], done)])
    rows[1] = done
    assert state_picture(state) == state_picture(loaded(rows))
    assert 60.0 not in state.service_times.samples["a"]


@settings(max_examples=150, deadline=None)
@given(commands=st.lists(COMMANDS, min_size=1, max_size=40), together=st.integers(1, 3))
def test_a_real_offices_changes_are_applied_in_place(commands: list[object], together: int) -> None:
    """An office's own commands (issues, calls, finishes, transfers, undos, rejoins, bookings...),
    their changed tickets handed over every `together` commands: always applied in place (nothing
    exotic happens in a day's ordinary work) and always equal to a load of the tickets."""
    # As the replica's test office: remote tickets, bookings, priority, rejoins, a route a -> b.
    services = (replace(SERVICES[0], remote_quota=4, next="b"), SERVICES[1])
    desk = Desk(
        capacity=4,
        services=services,
        queue=QueuePolicy(rejoin_within_calls=3, rejoin_after=1, priority_categories=("lansia",)),
        remote=RemotePolicy(enabled=True, book_days_ahead=1),
    )
    rows: dict[int, Ticket] = {}
    state = loaded(rows, desk.state.day, services)
    in_place = InPlace(state)
    pending: dict[int, Ticket] = {}
    for index, command in enumerate(commands):
        desk.clock.advance(45)
        if isinstance(command, cmd.IssueTicket):
            command = replace(command, token_hash=f"hash-{index}")
        elif isinstance(command, tuple):
            day = (desk.clock.now.date() + timedelta(days=command[1])).isoformat()
            command = cmd.IssueRemote("a", 1, f"hash-{index}", day)
        with contextlib.suppress(DomainError):
            desk.do(command)
        changed, _ = desk.state.take_changes()
        pending.update((t.id, replace(t)) for t in changed)  # copies: the office changes its own
        if (index + 1) % together and index + 1 < len(commands):
            continue
        changes = [(rows.get(i), new) for i, new in sorted(pending.items())]
        rows.update(pending)
        pending = {}
        assert in_place.apply(changes), "an ordinary batch was refused"
        expected = loaded(rows, desk.state.day, services)
        assert state_picture(state) == state_picture(expected)
