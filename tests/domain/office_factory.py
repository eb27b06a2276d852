"""Builds small offices for the domain tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server import commands as cmd
from queue_server.config import CounterConfig, ServiceConfig
from queue_server.domain import Office, Outcome
from queue_server.tickets import Ticket

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


class Desk:
    """An office plus a clock, with short helpers for the commands."""

    def __init__(self, capacity: int = 30) -> None:
        self.clock = Clock()
        self.office = Office(SERVICES, COUNTERS, capacity, self.clock.now.date().isoformat())
        self.events: list = []

    def do(self, command: cmd.Command) -> Outcome:
        now = self.clock.advance()
        self.events += self.office.roll_over(now)
        outcome = self.office.handle(command, now)
        self.events += outcome.events
        return outcome

    def issue(self, service: str = "a", party_size: int = 1) -> Ticket:
        ticket: Ticket = self.do(cmd.IssueTicket(service, party_size, f"hash-{next(_tokens)}")).result
        return ticket

    def call(self, counter: str = "1") -> Ticket | None:
        ticket: Ticket | None = self.do(cmd.CallNext(counter, "petugas")).result
        return ticket

    def types(self) -> list[str]:
        return [e.type for e in self.events]
