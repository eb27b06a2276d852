"""The writer, storage and restart, in-process on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from queue_server.bus.hub import Hub
from queue_server.config import OfficeConfig, parse_config
from queue_server.domain import admin
from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.engine.errors import Unavailable
from queue_server.engine.results import Result, TicketResult
from queue_server.engine.service import OfficeService
from queue_server.store import Store
from tests.support.server import SMALL_OFFICE_TOML

START = datetime.fromisoformat("2026-11-27T08:00:00+08:00")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def number(result: Result | BaseException) -> Any:
    """The number of the ticket a command answered with."""
    assert isinstance(result, TicketResult)
    return result.ticket["number"]


async def started(db: Path, clock: Clock, config: OfficeConfig | None = None) -> OfficeService:
    service = OfficeService(config or parse_config(SMALL_OFFICE_TOML), Store(db), Hub(), clock)
    await service.start()
    return service


async def stopped(service: OfficeService) -> None:
    await service.stop()
    service.store.close()


async def test_restart_restores_tickets_counters_and_seq(tmp_path: Path) -> None:
    """After a restart the office has the same tickets, counters, occupancy and seq."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock)
    for index in range(5):
        await service.execute(cmd.IssueTicket("a", 1, f"h{index}"))
    await service.execute(cmd.CallNext("1", "budi"))
    await service.execute(cmd.CloseCounter("2", "prayer"))
    await service.execute(cmd.DoorEnter(2))
    before = service.snapshot()
    await stopped(service)

    again = await started(tmp_path / "q.db", clock)
    assert again.snapshot() == before
    ticket = await again.execute(cmd.IssueTicket("a", 1, "h-new"))
    assert number(ticket) == "A006"
    assert again.office.state.seq == before["seq"] + 2  # ticket.issued + occupancy.changed
    await stopped(again)


async def test_day_rolls_over_when_the_server_starts_on_a_new_day(tmp_path: Path) -> None:
    """Started after midnight, yesterday's queue is closed and numbering restarts."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock)
    await service.execute(cmd.IssueTicket("a", 1, "h1"))
    await stopped(service)
    clock.now = START + timedelta(days=1)
    again = await started(tmp_path / "q.db", clock)
    assert again.office.state.day == "2026-11-28"
    assert again.office.state.occupancy.inside == 0
    assert [e.type for e in again.channel.history][-3:] == [
        "ticket.cancelled",
        "occupancy.changed",
        "day.started",
    ]
    ticket = await again.execute(cmd.IssueTicket("a", 1, "h2"))
    assert number(ticket) == "A001"
    await stopped(again)


async def test_idempotency_key_survives_a_restart(tmp_path: Path) -> None:
    """A retried command with the same key after a restart gets the first answer and issues nothing."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock)
    first = await service.execute(cmd.IssueTicket("a", 1, "h1"), ("tickets", "k1"))
    await stopped(service)
    again = await started(tmp_path / "q.db", clock)
    repeat = await again.execute(cmd.IssueTicket("a", 1, "h2"), ("tickets", "k1"))
    assert repeat == first
    assert len(again.office.state.tickets) == 1
    await stopped(again)


async def test_refusals_are_not_saved_and_do_not_block_the_batch(tmp_path: Path) -> None:
    """A refused command in a batch fails alone; the others are committed."""
    import asyncio

    clock = Clock()
    service = await started(tmp_path / "q.db", clock)
    results = await asyncio.gather(
        service.execute(cmd.IssueTicket("a", 1, "h1")),
        service.execute(cmd.IssueTicket("nope", 1, "h2")),
        service.execute(cmd.IssueTicket("b", 1, "h3")),
        return_exceptions=True,
    )
    assert isinstance(results[1], DomainError)
    assert [number(r) for r in (results[0], results[2])] == ["A001", "B001"]
    await stopped(service)
    again = await started(tmp_path / "q.db", clock)
    assert sorted(t.number for t in again.office.state.tickets.values()) == ["A001", "B001"]
    await stopped(again)


async def test_changed_config_file_does_not_override_the_database(tmp_path: Path) -> None:
    """After the first start the database holds the services: a changed TOML is not applied on restart
    (`config import` applies it); an admin change is announced with config.changed and survives."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock)
    await service.execute(admin.UpdateService("b", (("name", "Layanan Baru"),)), actor="kepala")
    await asyncio.sleep(0.01)  # events are published right after the answers
    assert service.channel.history[-1].type == "config.changed"
    await stopped(service)
    changed = parse_config(SMALL_OFFICE_TOML.replace('name = "Layanan A"', 'name = "Layanan Lain"'))
    again = await started(tmp_path / "q.db", clock, changed)
    names = {s["id"]: s["name"] for s in again.services_view()}
    assert names == {"a": "Layanan A", "b": "Layanan Baru"}
    await stopped(again)


async def test_commands_after_stop_are_refused(tmp_path: Path) -> None:
    """Once stopping, the service answers shutting_down instead of accepting work."""
    service = await started(tmp_path / "q.db", Clock())
    await stopped(service)
    with pytest.raises(Unavailable):
        await service.execute(cmd.IssueTicket("a", 1, "h"))


async def test_recent_calls_and_admissions_survive_a_restart_exactly(tmp_path: Path) -> None:
    """Recalls, same-second calls and admissions shown before a restart are shown after it."""
    clock = Clock()
    config = parse_config(SMALL_OFFICE_TOML.replace("capacity = 10", "capacity = 3"))
    service = await started(tmp_path / "q.db", clock, config)
    for index in range(4):
        await service.execute(cmd.IssueTicket("a" if index % 2 else "b", 1, f"h{index}"))
    for counter in ("4", "1", "2"):
        await service.execute(cmd.CallNext(counter, "budi"))
    await service.execute(cmd.Recall("4"))
    await service.execute(cmd.Finish("1"))  # frees a place: the outside ticket comes in
    before = service.snapshot()
    # One entry per number: the recall of counter 4's ticket moved it to the front.
    assert len(before["recent_calls"]) == 3 and len(before["recent_admitted"]) == 1
    assert before["recent_calls"][0]["counter"] == "4"
    # A call taken back (undo) is forgotten, after a restart too.
    await service.execute(cmd.CallNext("2", "budi"))
    await service.execute(cmd.Undo("2"))
    before = service.snapshot()
    assert len(before["recent_calls"]) == 3
    await stopped(service)
    again = await started(tmp_path / "q.db", clock, config)
    assert again.snapshot() == before
    await stopped(again)
