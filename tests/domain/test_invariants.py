"""Property tests: random sequences of commands never break the office's promises."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import DomainError
from queue_server.domain.tickets import CURRENT, INSIDE, PENDING, Status
from tests.domain.office_factory import Desk

COUNTER_IDS = ["1", "2", "3", "9"]
SERVICE_IDS = ["a", "b", "x"]

commands = st.one_of(
    st.builds(lambda s, p: ("issue", s, p), st.sampled_from(SERVICE_IDS), st.integers(0, 5)),
    # Valid issues are drawn more often: they are what fills the office and the outside line.
    st.builds(lambda s, p: ("issue", s, p), st.sampled_from(["a", "b"]), st.integers(1, 3)),
    st.builds(lambda s, p: ("issue", s, p), st.sampled_from(["a", "b"]), st.integers(1, 2)),
    st.builds(lambda s: ("issue", s, 1), st.sampled_from(["a", "b"])),
    st.builds(lambda c: ("call", c), st.sampled_from(["1", "2", "3"])),
    st.builds(lambda c: ("call", c), st.sampled_from(COUNTER_IDS)),
    st.builds(lambda c, n: ("call_number", c, n), st.sampled_from(COUNTER_IDS), st.integers(1, 8)),
    st.builds(
        lambda c, step: (step, c),
        st.sampled_from(COUNTER_IDS),
        st.sampled_from(["recall", "serve", "finish", "no_show", "open", "close"]),
    ),
    st.builds(lambda c, s: ("transfer", c, s), st.sampled_from(COUNTER_IDS), st.sampled_from(SERVICE_IDS)),
    st.builds(lambda i: ("cancel", i), st.integers(1, 40)),
    st.builds(lambda n: ("enter", n), st.integers(0, 4)),
    st.builds(lambda n: ("exit", n), st.integers(0, 4)),
    st.builds(lambda n: ("capacity", n), st.integers(0, 8)),
    st.just(("midnight",)),
)


def to_command(op: tuple) -> cmd.Command:  # type: ignore[type-arg]
    kind = op[0]
    simple = {
        "recall": cmd.Recall,
        "serve": cmd.Serve,
        "finish": cmd.Finish,
        "no_show": cmd.NoShow,
        "open": cmd.OpenCounter,
        "close": cmd.CloseCounter,
    }
    if kind == "issue":
        return cmd.IssueTicket(op[1], op[2], f"token-{id(op)}-{op}")
    if kind == "call":
        return cmd.CallNext(op[1])
    if kind == "call_number":
        return cmd.CallNumber(op[1], f"A{op[2]:03d}")
    if kind in simple:
        return simple[kind](op[1])
    if kind == "transfer":
        return cmd.Transfer(op[1], op[2])
    if kind == "cancel":
        return cmd.CancelTicket(op[1])
    if kind == "enter":
        return cmd.DoorEnter(op[1])
    if kind == "exit":
        return cmd.DoorExit(op[1])
    if kind == "capacity":
        return cmd.SetCapacity(op[1])
    return cmd.Tick()


class Tracker:
    """Checks, event by event, the promises the office makes."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.last_seq = 0
        self.numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.outside_order: list[int] = []
        self.capacity_lowered = False
        # What a display that only applies events believes.
        self.screen_occupancy = desk.state.occupancy.as_dict()
        self.screen_waiting = desk.state.waiting_counts()

    def check_events(self, events: list) -> None:  # type: ignore[type-arg]
        office = self.desk.state
        for event in events:
            assert event.seq == self.last_seq + 1, "seq must rise by exactly one"
            self.last_seq = event.seq
            payload = ev.as_dict(event)
            ticket = payload.get("ticket")
            if "waiting" in payload:
                self.screen_waiting = payload["waiting"]
            if "occupancy" in payload:
                self.screen_occupancy = payload["occupancy"]
            if event.TYPE == "ticket.issued":
                number = ticket["number"]
                self.numbers[(ticket["day"], number[0])].append(int(number[1:]))
                if ticket["status"] == "outside":
                    self.outside_order.append(ticket["id"])
                else:
                    assert not self.outside_order, "a new ticket came in while older ones waited outside"
            elif event.TYPE == "ticket.admitted":
                assert self.outside_order and self.outside_order[0] == ticket["id"], "admission overtook"
                self.outside_order.pop(0)
            elif event.TYPE == "ticket.cancelled" and ticket["id"] in self.outside_order:
                self.outside_order.remove(ticket["id"])
            elif event.TYPE == "day.started":
                self.outside_order.clear()
            elif event.TYPE == "occupancy.changed":
                occupancy = payload["occupancy"]
                if not self.capacity_lowered:
                    assert occupancy["inside"] <= occupancy["capacity"], "over capacity"
        assert office.seq == self.last_seq
        assert self.screen_occupancy == office.occupancy.as_dict(), "a screen would show stale occupancy"
        assert self.screen_waiting == office.waiting_counts(), "a screen would show stale waiting counts"

    def check_state(self) -> None:
        office = self.desk.state
        currents = [c.current for c in office.counters.values() if c.current is not None]
        assert len(currents) == len(set(currents)), "one ticket current at two counters"
        for ticket in office.tickets.values():
            if ticket.status in CURRENT:
                assert office.counters[ticket.counter].current == ticket.id
            else:
                assert ticket.id not in currents
        inside = sum(t.party_size for t in office.tickets.values() if t.status in INSIDE)
        assert office.occupancy.ticket_people == inside
        assert office.occupancy.door_count >= 0
        for service_id, queue in office.queues.pending.items():
            expected = sorted(
                t.key for t in office.tickets.values() if t.status in PENDING and t.service == service_id
            )
            assert queue == expected
            waiting = sorted(
                t.key
                for t in office.tickets.values()
                if t.status is Status.WAITING and t.service == service_id
            )
            assert office.queues.waiting(service_id) == waiting
        outside = [t for t in office.tickets.values() if t.status is Status.OUTSIDE]
        assert list(office.occupancy.outside) == [t.id for t in sorted(outside, key=lambda t: t.key)]
        for key, sequence in self.numbers.items():
            assert sequence == list(range(1, len(sequence) + 1)), f"numbers of {key} not contiguous"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6), st.lists(commands, min_size=5, max_size=80))
def test_random_days_keep_every_promise(capacity: int, ops: list) -> None:  # type: ignore[type-arg]
    """Numbers contiguous, one counter per ticket, never over capacity, FIFO admission, seq +1."""
    desk = Desk(capacity=capacity)
    tracker = Tracker(desk)
    for op in ops:
        if op[0] == "midnight":
            desk.clock.now += timedelta(days=1)
        now = desk.clock.advance()
        tracker.check_events(desk.office.roll_over(now))
        before = desk.state.occupancy.capacity
        seq_before = desk.state.seq
        try:
            outcome = desk.office.handle(to_command(op), now)
        except DomainError:
            assert desk.state.seq == seq_before, "a refused command emitted events"
            tracker.check_state()
            continue
        if op[0] == "capacity" and desk.state.occupancy.capacity < before:
            tracker.capacity_lowered = desk.state.occupancy.inside > desk.state.occupancy.capacity
        elif desk.state.occupancy.inside <= desk.state.occupancy.capacity:
            tracker.capacity_lowered = False
        tracker.check_events(outcome.events)
        tracker.check_state()
