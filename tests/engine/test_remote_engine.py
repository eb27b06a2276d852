"""api-remote in the engine: bookings, counts and phone numbers across restarts and midnights."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from queue_server.config import ConfigError, parse_config
from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.engine.remote import issue_remote
from queue_server.engine.service import OfficeService
from queue_server.store import settings as stored_settings
from tests.engine.test_durability import START, Clock, started, stopped
from tests.interface.test_remote import VALID_NIK, remote_office


async def book(
    service: OfficeService, date: str | None, phone: str | None = None, nik: str | None = None
) -> dict:  # type: ignore[type-arg]
    result = await issue_remote(
        service,
        service="a",
        party_size=1,
        date=date,
        nik=nik,
        phone=phone,
        priority=None,
        device="phone-1",
        address="10.0.0.7",
        idempotency_key=None,
    )
    return dict(result.ticket)


async def test_a_booking_survives_a_restart_and_becomes_remote_on_its_day(tmp_path: Path) -> None:
    """Booked for tomorrow as A001, restarted, then at midnight it is tomorrow's remote A001 and the day's
    first walk-in is A002; at the next midnight, never checked in, it ends no_show."""
    clock = Clock()
    config = parse_config(remote_office())
    service = await started(tmp_path / "q.db", clock, config)
    tomorrow = (START + timedelta(days=1)).date().isoformat()
    booked = await book(service, tomorrow)
    assert (booked["status"], booked["number"], booked["date"]) == ("booked", "A001", tomorrow)
    await stopped(service)
    service = await started(tmp_path / "q.db", clock, config)
    assert service.view_of(booked["id"])["status"] == "booked"  # type: ignore[index]
    clock.now = START + timedelta(days=1)
    await service.tick()
    view = service.view_of(booked["id"])
    assert view is not None and (view["status"], view["number"], view["position"]) == ("remote", "A001", 1)
    walk_in = await service.issue_ticket("a", 1, "web", None)
    assert walk_in.ticket["number"] == "A002"
    await stopped(service)
    service = await started(tmp_path / "q.db", clock, config)
    assert service.view_of(booked["id"])["status"] == "remote"  # type: ignore[index]
    clock.now = START + timedelta(days=2)
    await service.tick()
    stored = service.store.db.reader().execute("SELECT status FROM tickets WHERE id = ?", (booked["id"],))
    assert stored.fetchone()[0] == "no_show"
    await stopped(service)


async def test_phone_numbers_are_kept_apart_and_deleted_after_the_day(tmp_path: Path) -> None:
    """phone_of gives the +62 form; it is in no ticket row, event or setting; the next day it is gone."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock, parse_config(remote_office()))
    ticket = await book(service, None, phone="0812 3456 7890", nik=VALID_NIK)
    assert await service.store.phone_of(ticket["id"]) == "+6281234567890"
    conn = sqlite3.connect(tmp_path / "q.db")
    dump = "\n".join(conn.iterdump())
    assert "81234567890" in dump.split('INSERT INTO "contacts"')[1]  # only the contacts table holds it
    for table in ("tickets", "events", "settings", "audit", "idempotency"):
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
        assert "81234567890" not in repr(rows) and VALID_NIK not in repr(rows), table
    clock.now = START + timedelta(days=1)
    await service.tick()
    await service.execute(cmd.Tick())
    assert await service.store.phone_of(ticket["id"]) is None
    conn.close()
    await stopped(service)


async def test_rejoin_window_and_priority_run_survive_a_restart(tmp_path: Path) -> None:
    """The calls of a service since a no-show are counted across a restart."""
    clock = Clock()
    config = parse_config(remote_office(rejoin_within=2))
    service = await started(tmp_path / "q.db", clock, config)
    missed = await service.issue_ticket("b", 1, "web", None)
    await service.execute(cmd.CallNext("4"))
    await service.execute(cmd.NoShow("4"))
    for _ in range(2):
        await service.issue_ticket("b", 1, "web", None)
        await service.execute(cmd.CallNext("4"))
    await stopped(service)
    service = await started(tmp_path / "q.db", clock, config)
    assert service.office.state.service_calls["b"] == 3
    with pytest.raises(DomainError) as refused:
        await service.execute(cmd.Rejoin(ticket_id=missed.ticket["id"]))
    assert refused.value.code == "rejoin_not_allowed"
    await stopped(service)


def test_config_export_round_trips_the_remote_keys() -> None:
    """to_toml of a configuration with [remote], [queue] and route keys parses back to the same one."""
    config = parse_config(remote_office(quota=7, nik="required"))
    again = parse_config(stored_settings.to_toml(stored_settings.from_data(stored_settings.as_data(config))))
    assert again.remote == config.remote and again.queue == config.queue
    assert again.services == config.services


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('next = "d"', 'next = "zz"'), "services.next: service 'c': next names unknown service 'zz'"),
        (
            ("kiosk = false", 'kiosk = false\nnext = "c"'),
            "services.next: service 'c': route c -> d -> c is a cycle",
        ),
        (('nik = "optional"', 'nik = "sometimes"'), 'remote.nik: must be "off", "optional" or "required"'),
        (("rejoin_after = 1", "rejoin_after = -1"), "queue.rejoin_after: must be between 0 and 10000"),
        (("rejoin_after = 1", "rejoin_after = 1\nlater = 2"), "queue.later: unknown key"),
        (("remote_quota = 50", 'remote_quota = "many"'), "services[0].remote_quota: must be int, got str"),
        (
            ('"lansia", "disabilitas"', '"lansia", "lansia"'),
            "queue.priority_categories: lists a category twice",
        ),
    ],
)
def test_bad_remote_keys_stop_with_one_line_naming_the_key(change: tuple[str, str], message: str) -> None:
    """A route cycle, an unknown next, or a bad [remote]/[queue] value is a config error naming the key."""
    text = remote_office().replace(*change)
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert str(error.value) == message


def test_everything_is_off_by_default() -> None:
    """Without the new keys an office has no remote tickets, no rejoin, no priority, no routes."""
    config = parse_config(
        remote_office().split("[remote]")[0] + '[[services]]\nid = "a"\nname = "A"\nprefix = "A"\n'
        '[[counters]]\nid = "1"\nname = "L"\nservices = ["a"]\n'
    )
    assert not config.remote.enabled and config.queue.rejoin_within_calls == 0
    assert config.queue.priority_categories == () and config.services[0].next is None
    assert config.services[0].remote_quota == 0 and config.services[0].kiosk
