"""The reports api-office.md defines, over the store's read pool: figures per period and key.

Tickets (issued, cancelled, arrivals) come from the tickets table by SQL; visits,
counter sessions and occupancy from the ledger (ledger.py) derived from the
events and audit tables; the IKM from the surveys table.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from queue_server.domain.settings import OfficeConfig
from queue_server.reports import stats
from queue_server.reports.ledger import Ledger, Visit, fresh, seconds
from queue_server.reports.punctuality import counter_days
from queue_server.store.db import Database

BY = ("office", "service", "counter", "officer")
GROUPS = ("day", "week", "month", "all")
PUNCTUALITY = ("opens_at", "first_call_at", "late_minutes", "open_minutes", "idle_minutes")


class InvalidPeriod(ValueError):
    """A bad date, `from` after `to`, or an unknown `by`/`group`."""


@dataclass(frozen=True)
class Period:
    first: str
    last: str

    @staticmethod
    def parse(first: str | None, last: str | None) -> Period:
        try:
            a = date.fromisoformat(first or "")
            b = date.fromisoformat(last or "")
        except ValueError as exc:
            raise InvalidPeriod("from and to must be dates YYYY-MM-DD") from exc
        if a > b:
            raise InvalidPeriod("from is after to")
        return Period(a.isoformat(), b.isoformat())


def report_columns(by: str, group: str) -> list[str]:
    """The CSV header of a report, the same whether or not there are rows."""
    columns = ["period", "key"]
    if by in ("office", "service"):
        columns += ["issued", "cancelled"]
    columns += ["called", "served", "no_show", "transferred"]
    columns += [f"{f}_minutes_{s}" for f in ("wait", "service") for s in ("mean", "median", "p90")]
    if by == "service":
        columns += ["standard_minutes", "over_standard"]
    if (by, group) == ("counter", "day"):
        columns += list(PUNCTUALITY)
    if (by, group) == ("officer", "day"):
        columns.append("first_call_at")
    return columns


def _key(visit: Visit, by: str) -> str | None:
    if by == "office":
        return "office"
    if by == "service":
        return visit.service
    if by == "counter":
        return visit.counter
    return visit.officer


def _ticket_counts(
    conn: sqlite3.Connection, period: Period, by: str, group: str
) -> dict[tuple[str, str], list[int]]:
    """(period, key) -> [issued, cancelled]: tickets count in the period of the day they were issued."""
    column = "issued_service" if by == "service" else "'office'"
    rows = conn.execute(
        f"SELECT day, {column}, count(*), sum(status = 'cancelled') FROM tickets "
        "WHERE day BETWEEN ? AND ? GROUP BY 1, 2",
        (period.first, period.last),
    )
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for day, key, issued, cancelled in rows:
        cell = counts[(stats.period_of(day, group), key)]
        cell[0] += issued
        cell[1] += cancelled or 0
    return counts


def report(
    db: Database, conn: sqlite3.Connection, config: OfficeConfig, period: Period, by: str, group: str
) -> dict[str, Any]:
    """GET /api/v1/reports: {"from", "to", "by", "group", "rows"} (run on a reader thread)."""
    if by not in BY or group not in GROUPS:
        raise InvalidPeriod(f"by is one of {', '.join(BY)}; group one of {', '.join(GROUPS)}")
    ledger = fresh(db, conn)
    cells: dict[tuple[str, str], list[Visit]] = defaultdict(list)
    periods: dict[str, str] = {}  # day -> its period, worked out once per day
    for visit in ledger.between(period.first, period.last):
        key = _key(visit, by)
        if key is not None:
            name = periods.get(visit.day)
            if name is None:
                name = periods[visit.day] = stats.period_of(visit.day, group)
            cells[(name, key)].append(visit)
    tickets = _ticket_counts(conn, period, by, group) if by in ("office", "service") else {}
    punctual = (by, group) == ("counter", "day")
    extra = counter_days(ledger, config, period.first, period.last) if punctual else {}
    rows = []
    for cell in sorted(set(cells) | set(tickets) | set(extra)):
        row: dict[str, Any] = {"period": cell[0], "key": cell[1]}
        if by in ("office", "service"):
            issued, cancelled = tickets.get(cell, [0, 0])
            row |= {"issued": issued, "cancelled": cancelled}
        row |= visit_figures(cells.get(cell, []))
        if by == "service":
            row |= _standard(config, cell[1], cells.get(cell, []))
        if (by, group) == ("officer", "day"):
            # Extension: the officer's first call of the day (punctuality per officer).
            row["first_call_at"] = min((v.start_at for v in cells.get(cell, [])), default=None)
        if (by, group) == ("counter", "day"):
            row |= extra[cell] if cell in extra else dict.fromkeys(PUNCTUALITY)
        rows.append(row)
    return {"from": period.first, "to": period.last, "by": by, "group": group, "rows": rows}


def visit_figures(visits: list[Visit]) -> dict[str, Any]:
    served = [v for v in visits if v.outcome == "done"]
    return {
        "called": len(visits),
        "served": len(served),
        "no_show": sum(1 for v in visits if v.outcome == "no_show"),
        "transferred": sum(1 for v in visits if v.outcome == "transferred"),
        "wait_minutes": stats.summary(v.wait / 60 for v in visits if v.wait is not None),
        "service_minutes": stats.summary((v.end - v.start) / 60 for v in served if v.end is not None),
    }


def _standard(config: OfficeConfig, service_id: str, visits: list[Visit]) -> dict[str, Any]:
    found = config.service(service_id)
    standard = found.standard_minutes if found is not None else None
    if standard is None:
        return {"standard_minutes": None, "over_standard": None}
    limit = standard * 60
    over = sum(1 for v in visits if v.outcome == "done" and v.end is not None and v.end - v.start > limit)
    return {"standard_minutes": standard, "over_standard": over}


def occupancy(
    db: Database, conn: sqlite3.Connection, config: OfficeConfig, period: Period, group: str
) -> dict[str, Any]:
    """GET /api/v1/reports/occupancy: peak inside, minutes at capacity, longest outside queue, arrivals."""
    if group not in GROUPS:
        raise InvalidPeriod(f"group is one of {', '.join(GROUPS)}")
    ledger = fresh(db, conn)
    cells: dict[str, dict[str, Any]] = {}

    def cell(day: str) -> dict[str, Any]:
        key = stats.period_of(day, group)
        if key not in cells:
            cells[key] = {
                "period": key,
                "peak_inside": 0,
                "minutes_at_capacity": 0.0,
                "max_outside_people": 0,
                "arrivals_by_hour": {},
            }
        return cells[key]

    samples = ledger.occupancy
    # One pass, a day at a time: a year is ~400,000 samples, so no call per sample.
    row: dict[str, Any] | None = None
    row_day = ""
    last = len(samples) - 1
    for i, (t, day, inside, capacity, outside) in enumerate(samples):
        if not period.first <= day <= period.last:
            continue
        if day != row_day:
            row, row_day = cell(day), day
        assert row is not None
        if inside > row["peak_inside"]:
            row["peak_inside"] = inside
        if outside > row["max_outside_people"]:
            row["max_outside_people"] = outside
        if capacity <= 0 or inside < capacity or i == last:
            continue
        # Time at capacity: until the next sample, cut at local midnights.
        following = samples[i + 1]
        if following[1] == day:
            row["minutes_at_capacity"] += (following[0] - t) / 60
            continue
        for piece_day, seconds_in_day in _split_by_day(t, following[0], config):
            if period.first <= piece_day <= period.last:
                cell(piece_day)["minutes_at_capacity"] += seconds_in_day / 60
    rows = conn.execute(
        "SELECT day, substr(issued_at, 12, 2), count(*) FROM tickets WHERE day BETWEEN ? AND ? GROUP BY 1, 2",
        (period.first, period.last),
    )
    for day, hour, count in rows:
        hours = cell(day)["arrivals_by_hour"]
        hours[hour] = hours.get(hour, 0) + count
    out = []
    for key in sorted(cells):
        row = cells[key]
        row["minutes_at_capacity"] = round(row["minutes_at_capacity"], 2)
        row["arrivals_by_hour"] = dict(sorted(row["arrivals_by_hour"].items()))
        out.append(row)
    return {"from": period.first, "to": period.last, "group": group, "rows": out}


def _split_by_day(start: float, end: float, config: OfficeConfig) -> list[tuple[str, float]]:
    """[start, end) cut at local midnights: (local day, seconds) pieces."""
    pieces = []
    zone = config.zone
    cursor = start
    while cursor < end:
        local = datetime.fromtimestamp(cursor, zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), zone).timestamp()
        stop = min(end, midnight)
        pieces.append((local.date().isoformat(), stop - cursor))
        cursor = stop
    return pieces


def ikm(
    conn: sqlite3.Connection, period: Period, service: str | None, counter: str | None, lang: str
) -> dict[str, Any]:
    """GET /api/v1/reports/ikm: the nine NRRs, the index, its category, and the one-tap ratings."""
    where = "day BETWEEN ? AND ?"
    args: list[Any] = [period.first, period.last]
    if service:
        where += " AND service = ?"
        args.append(service)
    if counter:
        where += " AND counter = ?"
        args.append(counter)
    sums = ", ".join(f"sum(u{i})" for i in range(1, 10))
    full = f"SELECT count(*), {sums} FROM surveys WHERE {where} AND u1 IS NOT NULL"
    row = conn.execute(full, args).fetchone()
    totals = {f"u{i}": row[i] or 0 for i in range(1, 10)}
    ratings = {
        r[0]: r[1]
        for r in conn.execute(
            f"SELECT rating, count(*) FROM surveys WHERE {where} AND rating IS NOT NULL GROUP BY rating", args
        )
    }
    body: dict[str, Any] = {"from": period.first, "to": period.last}
    body |= stats.ikm_report(totals, row[0], lang)
    body["rating"] = stats.rating_summary(ratings)
    return body


def visitors(conn: sqlite3.Connection, period: Period, service: str | None, counter: str | None) -> int:
    """Tickets finished `done` in the period (the population the survey's sample is drawn from)."""
    where = "status = 'done' AND substr(finished_at, 1, 10) BETWEEN ? AND ?"
    args: list[Any] = [period.first, period.last]
    if service:
        where += " AND service = ?"
        args.append(service)
    if counter:
        where += " AND counter = ?"
        args.append(counter)
    return int(conn.execute(f"SELECT count(*) FROM tickets WHERE {where}", args).fetchone()[0])


def comments(conn: sqlite3.Connection, period: Period, limit: int = 200) -> list[dict[str, Any]]:
    """The latest comments (with the day, service and counter only: anonymous)."""
    rows = conn.execute(
        "SELECT day, service, counter, comment FROM surveys "
        "WHERE day BETWEEN ? AND ? AND comment IS NOT NULL ORDER BY answered_at DESC LIMIT ?",
        (period.first, period.last, limit),
    )
    return [{"day": r[0], "service": r[1], "counter": r[2], "comment": r[3]} for r in rows]


def tickets_behind(
    db: Database,
    conn: sqlite3.Connection,
    period: Period,
    service: str | None = None,
    counter: str | None = None,
    officer: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The visits behind a figure (the drill-down list): ticket number, service, counter, officer, times."""
    ledger: Ledger = fresh(db, conn)
    out = []
    for v in ledger.between(period.first, period.last):
        if (service and v.service != service) or (counter and v.counter != counter):
            continue
        if officer and v.officer != officer:
            continue
        out.append(
            {
                "number": v.number,
                "day": v.day,
                "service": v.service,
                "counter": v.counter,
                "officer": v.officer,
                "called_at": v.start_at[11:16],
                "wait_minutes": None if v.wait is None else stats.minutes(v.wait),
                "service_minutes": stats.minutes(v.end - v.start) if v.end and v.outcome == "done" else None,
                "outcome": v.outcome,
            }
        )
        if len(out) >= limit:
            break
    return out


__all__ = ["InvalidPeriod", "Period", "ikm", "occupancy", "report", "seconds", "tickets_behind", "visitors"]
