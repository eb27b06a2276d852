"""Every report figure against numbers worked out by hand on one small, fixed day.

The day (Asia/Makassar, Friday 2026-11-27, hours 08:00-12:00), minute by minute:
07:00 counters 1 and 2 close; 08:00 A001, A002, A003 issued (service a);
08:05 counter 1 opens; 08:10 budi calls A001 at 1; 08:15 budi finishes it;
08:20 siti calls A002 at 1; 08:22 no-show; 08:25 counter 1 closes; 08:30 counter 2
opens, budi calls A003 there; 08:35 budi transfers it to b; 08:40 budi calls it
again at 2; 08:50 finishes; 09:00 A004 issued; 09:05 A004 cancelled.
Waits: 10, 20, 30 and 5 minutes (the transfer re-joins the queue at 08:35).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.engine.service import OfficeService
from queue_server.reports import export, queries
from tests.engine.test_durability import Clock, started, stopped
from tests.support.server import SMALL_OFFICE_TOML

HOURS = '\n[hours]\nfri = ["08:00-12:00"]\n'
DAY = "2026-11-27"


def at(clock: Clock, hhmm: str) -> None:
    clock.now = datetime.fromisoformat(f"{DAY}T{hhmm}:00+08:00")


async def the_day(path: Path, hours: bool = True) -> OfficeService:
    clock = Clock()
    config = parse_config(SMALL_OFFICE_TOML + (HOURS if hours else ""))
    service = await started(path, clock, config)
    at(clock, "07:00")
    await service.execute(cmd.CloseCounter("1"), actor="budi")
    await service.execute(cmd.CloseCounter("2"), actor="budi")
    at(clock, "08:00")
    for _ in range(3):
        await service.issue_ticket("a", 1, "web", None)
    steps: list[tuple[str, str, cmd.Command]] = [
        ("08:05", "budi", cmd.OpenCounter("1")),
        ("08:10", "budi", cmd.CallNext("1")),
        ("08:15", "budi", cmd.Finish("1")),
        ("08:20", "siti", cmd.CallNext("1")),
        ("08:22", "siti", cmd.NoShow("1")),
        ("08:25", "siti", cmd.CloseCounter("1")),
        ("08:30", "budi", cmd.OpenCounter("2")),
        ("08:30", "budi", cmd.CallNext("2")),
        ("08:35", "budi", cmd.Transfer("2", "b")),
        ("08:40", "budi", cmd.CallNext("2")),
        ("08:50", "budi", cmd.Finish("2")),
    ]
    for hhmm, who, command in steps:
        at(clock, hhmm)
        await service.execute(command, actor=who)
    at(clock, "09:00")
    late = await service.issue_ticket("a", 1, "web", None)
    at(clock, "09:05")
    await service.execute(cmd.CancelTicket(late.ticket["id"]))
    return service


async def run(service: OfficeService, by: str, group: str = "day", first: str = DAY, last: str = DAY) -> Any:
    db = service.store.db
    span = queries.Period.parse(first, last)
    return await db.read(lambda conn: queries.report(db, conn, service.config, span, by, group))


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("called", "served", "no_show", "transferred")}


@pytest.fixture
async def office(tmp_path: Path) -> Any:
    service = await the_day(tmp_path / "q.db")
    yield service
    await stopped(service)


async def test_the_office_row_counts_tickets_and_visits_with_exact_statistics(office: OfficeService) -> None:
    """4 issued, 1 cancelled; 4 visits (a transfer is two); waits 5/10/20/30, services 5/10 minutes."""
    body = await run(office, "office")
    assert body["from"] == DAY and body["by"] == "office" and body["group"] == "day"
    [row] = body["rows"]
    assert row["period"] == DAY and row["key"] == "office"
    assert (row["issued"], row["cancelled"]) == (4, 1)
    assert figures(row) == {"called": 4, "served": 2, "no_show": 1, "transferred": 1}
    # p90 of [5, 10, 20, 30]: rank 2.7 -> 20 + 0.7 x 10 = 27; of [5, 10]: 5 + 0.9 x 5 = 9.5.
    assert row["wait_minutes"] == {"mean": 16.25, "median": 15.0, "p90": 27.0}
    assert row["service_minutes"] == {"mean": 7.5, "median": 7.5, "p90": 9.5}


async def test_visits_belong_to_the_officer_who_called_them_even_on_one_counter(
    office: OfficeService,
) -> None:
    """Counter 1 had two officers: budi's A001 and siti's A002 are told apart by the audit seq ranges."""
    rows = {r["key"]: r for r in (await run(office, "officer"))["rows"]}
    assert set(rows) == {"budi", "siti"}
    assert figures(rows["budi"]) == {"called": 3, "served": 2, "no_show": 0, "transferred": 1}
    assert figures(rows["siti"]) == {"called": 1, "served": 0, "no_show": 1, "transferred": 0}
    assert rows["siti"]["wait_minutes"]["mean"] == 20.0
    assert "issued" not in rows["budi"]


async def test_by_service_counts_the_transferred_visit_in_its_new_service(office: OfficeService) -> None:
    """A003's second visit is a visit of b; tickets count under the service they were issued for."""
    rows = {r["key"]: r for r in (await run(office, "service"))["rows"]}
    assert figures(rows["a"]) == {"called": 3, "served": 1, "no_show": 1, "transferred": 1}
    assert (rows["a"]["issued"], rows["a"]["cancelled"]) == (4, 1)
    assert figures(rows["b"]) == {"called": 1, "served": 1, "no_show": 0, "transferred": 0}
    assert (rows["b"]["issued"], rows["b"]["wait_minutes"]["mean"]) == (0, 5.0)
    assert rows["a"]["standard_minutes"] is None and rows["a"]["over_standard"] is None


async def test_counter_days_give_opening_first_call_lateness_open_and_idle_time(
    office: OfficeService,
) -> None:
    """Counter 1: open 08:05-08:25 (20 min), idle 5+5+3 while tickets waited, first call 10 min late.

    Counter 2: open from 08:30 to closing at 12:00 (210 min), 30 min late, idle 08:35-08:40 (A003
    waiting after its transfer) and 09:00-09:05 (A004) = 10 min; no one waited otherwise.
    """
    rows = {r["key"]: r for r in (await run(office, "counter"))["rows"]}
    one, two = rows["1"], rows["2"]
    assert figures(one) == {"called": 2, "served": 1, "no_show": 1, "transferred": 0}
    assert one["opens_at"] == "08:00" and one["first_call_at"] == f"{DAY}T08:10:00+08:00"
    assert (one["late_minutes"], one["open_minutes"], one["idle_minutes"]) == (10.0, 20.0, 13.0)
    assert (two["late_minutes"], two["open_minutes"], two["idle_minutes"]) == (30.0, 210.0, 10.0)


async def test_a_day_with_nothing_in_it_has_no_rows(office: OfficeService) -> None:
    """Periods with nothing in them are left out; week and month group the same visits."""
    assert (await run(office, "office", first="2026-11-28", last="2026-11-30"))["rows"] == []
    week = await run(office, "office", "week", "2026-11-01", "2026-11-30")
    assert [r["period"] for r in week["rows"]] == ["2026-W48"]
    month = await run(office, "office", "month", "2026-11-01", "2026-12-31")
    assert [(r["period"], r["called"]) for r in month["rows"]] == [("2026-11", 4)]


async def test_without_hours_the_lateness_and_opening_are_null(tmp_path: Path) -> None:
    """No [hours]: opens_at and late_minutes null; open time counts the whole day.

    Counter 1 starts open (the config's default), so it was open from midnight until it
    closed at 07:00 (420 min), then 08:05-08:25 (20 min): 440.
    """
    service = await the_day(tmp_path / "q.db", hours=False)
    try:
        rows = {r["key"]: r for r in (await run(service, "counter"))["rows"]}
    finally:
        await stopped(service)
    assert rows["1"]["opens_at"] is None and rows["1"]["late_minutes"] is None
    assert rows["1"]["open_minutes"] == 440.0


async def test_a_counter_nobody_opened_or_closed_is_open_all_day_and_idle_while_people_wait(
    office: OfficeService,
) -> None:
    """Counter 3 (services a, b) starts open and is never touched: open 08:00-12:00 (240 min),
    no first call, idle whenever a ticket of a or b waited: 08:00-08:30, 08:35-08:40, 09:00-09:05."""
    rows = {r["key"]: r for r in (await run(office, "counter"))["rows"]}
    three = rows["3"]
    assert three["first_call_at"] is None and three["late_minutes"] is None
    assert (three["open_minutes"], three["idle_minutes"]) == (240.0, 40.0)
    assert figures(three) == {"called": 0, "served": 0, "no_show": 0, "transferred": 0}


async def test_the_csv_parses_back_with_a_header_and_quoted_fields(office: OfficeService) -> None:
    """The report's CSV: header, one line per row, nested figures flattened; commas and quotes quoted."""
    body = await run(office, "officer")
    text = export.to_csv(body["rows"], queries.report_columns("officer", "day"))
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["key"] for r in parsed] == ["budi", "siti"]
    assert parsed[0]["wait_minutes_mean"] == str(body["rows"][0]["wait_minutes"]["mean"])
    tricky = export.to_csv([{"name": 'Loket "1", depan', "n": 1, "x": "Pelayanan Terpadu Satu Pintu é"}])
    back = list(csv.reader(io.StringIO(tricky.encode("utf-8").decode("utf-8"), newline="")))
    assert back == [["name", "n", "x"], ['Loket "1", depan', "1", "Pelayanan Terpadu Satu Pintu é"]]
    assert '"Loket ""1"", depan"' in tricky and tricky.endswith("\r\n")


async def test_occupancy_counts_arrivals_per_hour(office: OfficeService) -> None:
    """Three tickets at 08, one at 09; the peak inside is the most tickets inside at once."""
    db = office.store.db
    span = queries.Period.parse(DAY, DAY)
    body = await db.read(lambda conn: queries.occupancy(db, conn, office.config, span, "day"))
    [row] = body["rows"]
    assert row["arrivals_by_hour"] == {"08": 3, "09": 1}
    assert row["peak_inside"] == 3 and row["minutes_at_capacity"] == 0 and row["max_outside_people"] == 0


def test_a_bad_period_is_refused() -> None:
    """A bad date or from after to is InvalidPeriod (the API answers 422 invalid_period)."""
    with pytest.raises(queries.InvalidPeriod):
        queries.Period.parse("2026-13-01", "2026-12-01")
    with pytest.raises(queries.InvalidPeriod):
        queries.Period.parse("2026-12-02", "2026-12-01")


async def test_a_visit_across_midnight_counts_on_the_day_it_started(tmp_path: Path) -> None:
    """A001 issued 23:40, called 23:50; the day ends at midnight and closes it (done, no counter).
    The ticket and its visit count on the 27th (wait 10, service 10.5 minutes); the 28th has no row."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock, parse_config(SMALL_OFFICE_TOML))
    try:
        at(clock, "23:40")
        await service.issue_ticket("a", 1, "web", None)
        at(clock, "23:50")
        await service.execute(cmd.CallNext("1"), actor="budi")
        clock.now = datetime.fromisoformat("2026-11-28T00:00:30+08:00")
        await service.execute(cmd.Tick())  # the roll-over closes yesterday's visit
        rows = (await run(service, "office", "day", DAY, "2026-11-28"))["rows"]
    finally:
        await stopped(service)
    assert [r["period"] for r in rows] == [DAY]
    row = rows[0]
    assert (row["issued"], row["called"], row["served"]) == (1, 1, 1)
    assert row["wait_minutes"]["median"] == 10.0 and row["service_minutes"]["median"] == 10.5
