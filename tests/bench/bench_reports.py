"""Report speed over a year of a busy office (not a test: prints figures).

    .venv/bin/python scripts/generate_year.py --db /tmp/year.db --year 2026
    .venv/bin/python tests/bench/bench_reports.py --db /tmp/year.db --year 2026 [--runs 7]

Each figure is the median of `--runs` runs on the store's read pool (`Database.read`),
as the API runs them. The first report on a fresh process also derives the ledger of
visits from the events table; that cold figure is printed apart (the server pays it
once, at the first report after a start; later reports read only the new events).
Targets (issue 10): a year by month and by service <= 300 ms, a day <= 50 ms, the
IKM for a year <= 100 ms, the CSV of a year by day <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import generate_year

from queue_server.config import parse_config
from queue_server.reports import export, queries
from queue_server.store.db import Database


async def timed(db: Database, fn: Callable[[Any], Any], runs: int) -> tuple[float, Any]:
    """The median milliseconds of `runs` runs of fn(conn) on the read pool, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = await db.read(fn)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    config = parse_config(generate_year.OFFICE_TOML)
    db = Database(args.db)
    year = queries.Period(f"{args.year}-01-01", f"{args.year}-12-31")
    busy_day = (
        db.reader()
        .execute(
            "SELECT day FROM tickets WHERE day LIKE ? GROUP BY day ORDER BY count(*) DESC LIMIT 1",
            (f"{args.year}-%",),
        )
        .fetchone()[0]
    )
    day = queries.Period(busy_day, busy_day)
    tickets = db.reader().execute("SELECT count(*) FROM tickets").fetchone()[0]
    events = db.reader().execute("SELECT count(*) FROM events").fetchone()[0]
    print(
        f"{args.db}: {tickets:,} tickets, {events:,} events; busiest day {busy_day}; "
        f"median of {args.runs} runs"
    )

    cold, _ = await timed(db, lambda c: queries.report(db, c, config, day, "office", "day"), 1)
    print(f"{'cold start: the ledger derived from every event':52} {cold:9.0f} ms (once per server start)")

    def csv_by_day(conn: Any) -> str:
        rows = queries.report(db, conn, config, year, "office", "day")["rows"]
        return export.to_csv(rows, queries.report_columns("office", "day"))

    cases: list[tuple[str, Callable[[Any], Any], float]] = [
        ("year by month (office)", lambda c: queries.report(db, c, config, year, "office", "month"), 300),
        ("year by service, month", lambda c: queries.report(db, c, config, year, "service", "month"), 300),
        ("year by officer, all", lambda c: queries.report(db, c, config, year, "officer", "all"), 300),
        (
            "one day, by counter (punctuality)",
            lambda c: queries.report(db, c, config, day, "counter", "day"),
            50,
        ),
        ("one day, office", lambda c: queries.report(db, c, config, day, "office", "day"), 50),
        ("IKM for the year", lambda c: queries.ikm(c, year, None, None, "id"), 100),
        ("IKM for the year, one service", lambda c: queries.ikm(c, year, "ktp", None, "id"), 100),
        ("occupancy for the year by month", lambda c: queries.occupancy(db, c, config, year, "month"), 300),
        ("CSV of the year by day", csv_by_day, 1000),
        (
            "year by counter and day (punctuality)",
            lambda c: queries.report(db, c, config, year, "counter", "day"),
            0,
        ),
    ]
    print(f"{'report':52} {'median':>9}    target")
    for name, fn, target in cases:
        ms, _ = await timed(db, fn, args.runs)
        verdict = "" if not target else ("ok" if ms <= target else "OVER")
        goal = f"<= {target:.0f} ms {verdict}" if target else ""
        print(f"{name:52} {ms:9.1f} ms {goal}")
    db.close()


if __name__ == "__main__":
    asyncio.run(main())
