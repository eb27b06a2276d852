"""Builds small offices for the domain tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.board import Board
from queue_server.domain.office import Office, Outcome
from queue_server.domain.settings import CounterConfig, QueuePolicy, RemotePolicy, ServiceConfig
from queue_server.domain.state import OfficeState
from queue_server.domain.tickets import Ticket

ZONE = ZoneInfo("Asia/Makassar")
SERVICES = (ServiceConfig("a", "Layanan A", "A"), ServiceConfig("b", "Layanan B", "B"))
COUNTERS = (
    CounterConfig("1", "Loket 1", ("a", "b")),
    CounterConfig("2", "Loket 2", ("b", "a")),
    CounterConfig("3", "Loket 3", ("a",)),
)
_tokens = itertools.count(1)


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 8, 0, tzinfo=ZONE)

    def advance(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def services_view(services: Iterable[ServiceConfig]) -> list[dict[str, Any]]:
    """The services as the engine lists them on the board (engine/service.py `services_view`)."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "prefix": s.prefix,
            "requirements": list(s.requirements),
            "standard_minutes": s.standard_minutes,
            "fee": s.fee,
        }
        for s in services
    ]


def board_of(office: Office, services: Iterable[ServiceConfig] = SERVICES) -> Board:
    """The board an office starts with, built as engine/service.py `_board_of` builds it."""
    state = office.state
    return Board(
        seq=state.seq,
        day=state.day,
        office={},
        services=services_view(services),
        counters=[state.counter_view(c) for c in state.counters.values()],
        waiting=state.waiting_counts(),
        occupancy=state.occupancy.as_dict(),
        queues=state.queues_view(),
    )


class Desk:
    """An office plus a clock and the board its events feed, with short helpers for the commands."""

    def __init__(
        self,
        capacity: int = 30,
        counters: Iterable[CounterConfig] = COUNTERS,
        services: Iterable[ServiceConfig] = SERVICES,
        queue: QueuePolicy | None = None,
        remote: RemotePolicy | None = None,
    ) -> None:
        self.clock = Clock()
        services = tuple(services)
        self.office = Office(
            services,
            counters,
            capacity,
            self.clock.now.date().isoformat(),
            queue_policy=queue,
            remote_policy=remote,
        )
        self.board = board_of(self.office, services)
        self.events: list[ev.Event] = []

    @property
    def state(self) -> OfficeState:
        return self.office.state

    def snapshot(self) -> dict[str, Any]:
        return self.board.snapshot()

    def _note(self, events: list[ev.Event]) -> None:
        for event in events:
            self.board.apply(event)
        self.events += events

    def do(self, command: Any) -> Outcome:
        now = self.clock.advance()
        self._note(self.office.roll_over(now))
        outcome = self.office.handle(command, now)
        self._note(outcome.events)
        return outcome

    def issue(self, service: str = "a", party_size: int = 1) -> Ticket:
        ticket: Ticket = self.do(cmd.IssueTicket(service, party_size, f"hash-{next(_tokens)}")).result
        return ticket

    def call(self, counter: str = "1") -> Ticket | None:
        ticket: Ticket | None = self.do(cmd.CallNext(counter, "petugas")).result
        return ticket

    def types(self) -> list[str]:
        return [e.TYPE for e in self.events]
