"""Fill a database with a year of one busy office (~150,000 tickets), for the report benchmarks.

    .venv/bin/python scripts/generate_year.py --db /tmp/year.db [--year 2026] [--tickets 150000] [--seed 1]

The rows are the server's own: a simulated day drives the real rules (`domain.Office`)
command by command at simulated times, exactly as the engine's writer does, so the
events (seq, payloads), tickets and audit rows (officer, action, seq range) are what
a running server would have written. Arrivals peak in the morning and after lunch;
service times follow each service's standard; some visitors do not come, some are
transferred, some cancel; counters open a little late, pause for lunch, and two
officers may share a counter. A share of finished visitors answers the survey.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from queue_server import wire
from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.domain.office import Office
from queue_server.domain.settings import OfficeConfig
from queue_server.domain.tickets import Ticket
from queue_server.engine import audit
from queue_server.engine.accounts import token_hash
from queue_server.store import day as store_day
from queue_server.store import surveys
from queue_server.store.day import Batch
from queue_server.store.db import Database
from queue_server.store.migrations import migrate
from queue_server.store.rows import ticket_row

OFFICE_TOML = """
[office]
name = "Dinas Kependudukan dan Pencatatan Sipil (simulasi)"
timezone = "Asia/Makassar"
language = "id"
capacity = 60

[[services]]
id = "ktp"
name = "KTP-el"
prefix = "A"
standard_minutes = 12
[[services]]
id = "kk"
name = "Kartu Keluarga"
prefix = "B"
standard_minutes = 15
[[services]]
id = "akta"
name = "Akta Kelahiran"
prefix = "C"
standard_minutes = 10
[[services]]
id = "pindah"
name = "Surat Pindah"
prefix = "D"
standard_minutes = 20

[[counters]]
id = "1"
name = "Loket 1"
services = ["ktp", "kk"]
[[counters]]
id = "2"
name = "Loket 2"
services = ["ktp", "kk"]
[[counters]]
id = "3"
name = "Loket 3"
services = ["kk", "ktp"]
[[counters]]
id = "4"
name = "Loket 4"
services = ["akta", "pindah"]
[[counters]]
id = "5"
name = "Loket 5"
services = ["pindah", "akta"]
[[counters]]
id = "6"
name = "Loket 6"
services = ["ktp", "akta"]
[[counters]]
id = "7"
name = "Loket 7"
services = ["kk", "pindah"]
[[counters]]
id = "8"
name = "Loket 8"
services = ["ktp", "kk", "akta", "pindah"]

[hours]
mon = ["08:00-15:00"]
tue = ["08:00-15:00"]
wed = ["08:00-15:00"]
thu = ["08:00-15:00"]
fri = ["08:00-11:30", "13:00-15:00"]
"""

SHARE = {"ktp": 0.45, "kk": 0.25, "akta": 0.18, "pindah": 0.12}
# Arrivals per hour, relative: a morning rush, a lunch dip, a smaller afternoon peak.
PROFILE = {8: 1.9, 9: 1.7, 10: 1.3, 11: 1.0, 12: 0.5, 13: 1.0, 14: 0.6}
OFFICERS = ("andi", "budi", "citra", "dewi", "eko", "fajar", "gita", "hadi", "indah", "joko", "kartika")
NO_SHOW, TRANSFER, CANCEL = 0.05, 0.03, 0.02
RATING, FULL_SURVEY = 0.25, 0.08


class Day:
    """One simulated office day: a queue of timed actions applied through the rules."""

    def __init__(self, gen: Generator, day: date, tickets: int) -> None:
        self.gen = gen
        self.day = day
        self.rng = gen.rng
        self.zone = gen.config.zone
        self.heap: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self.n = 0
        self.tickets = tickets
        self.busy: dict[str, int | None] = {}
        self.officer: dict[str, str] = {}
        self.idle: set[str] = set()
        self.done: set[str] = set()  # open counters that found nobody: woken by the next arrival
        self.serves = {c.id: set(c.services) for c in gen.config.counters}

    def at(self, minutes: float, kind: str, *data: Any) -> None:
        self.n += 1
        heapq.heappush(self.heap, (minutes, self.n, kind, data))

    def moment(self, minutes: float) -> datetime:
        base = datetime(self.day.year, self.day.month, self.day.day, tzinfo=self.zone)
        return base + timedelta(minutes=minutes)

    def plan(self) -> None:
        ranges = self.gen.config.hours.ranges_on(self.day) if self.gen.config.hours else ((480, 900),)
        weights = [(h, w) for h, w in PROFILE.items() if any(a <= h * 60 < b for a, b in ranges)]
        total = sum(w for _, w in weights)
        for hour, weight in weights:
            count = self._poisson(self.tickets * weight / total)
            for _ in range(count):
                start = hour * 60 + self.rng.random() * 60
                if any(a <= start < b - 5 for a, b in ranges):
                    self.at(start, "arrive")
        staff = list(OFFICERS)
        self.rng.shuffle(staff)
        first, last = ranges[0][0], ranges[-1][1]
        for i, counter in enumerate(c.id for c in self.gen.config.counters):
            self.officer[counter] = staff[i]
            self.at(first - 10, "close", counter)  # yesterday's state: start closed
            self.at(first + abs(self.rng.gauss(4, 6)), "open", counter)
            if self.rng.random() < 0.4:  # a second officer takes over after lunch
                self.at(12 * 60 + 30, "handover", counter, staff[len(self.officer) % len(staff)])
            if self.rng.random() < 0.5:
                self.at(12 * 60 + self.rng.random() * 30, "pause", counter)
            self.at(last + 20, "close", counter)

    def _poisson(self, mean: float) -> int:
        return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))

    def run(self) -> None:
        self.plan()
        while self.heap:
            minute, _, kind, data = heapq.heappop(self.heap)
            getattr(self, f"_{kind}")(minute, *data)

    # ----- actions ---------------------------------------------------------------------

    def _arrive(self, minute: float) -> None:
        service = self.rng.choices(list(SHARE), weights=list(SHARE.values()))[0]
        party = 1 if self.rng.random() < 0.8 else 2
        token = token_hash(f"year-{self.day}-{minute}-{self.rng.random()}")
        result = self.gen.apply(self.moment(minute), cmd.IssueTicket(service, party, token, "kiosk"), None)
        self.wake(minute, service)
        if result is not None and self.rng.random() < CANCEL:
            self.at(minute + self.rng.uniform(5, 40), "cancel", result)

    def wake(self, minute: float, service: str) -> None:
        """An idle counter of this service calls at once (instead of polling every minute)."""
        for counter in sorted(self.idle):
            if service in self.serves[counter]:
                self.idle.discard(counter)
                self.at(minute + 0.1, "call", counter)
                return

    def _cancel(self, minute: float, ticket_id: int) -> None:
        ticket = self.gen.office.state.tickets.get(ticket_id)
        if ticket is not None and str(ticket.status) in ("waiting", "outside"):
            self.gen.apply(self.moment(minute), cmd.CancelTicket(ticket_id), None)

    def _open(self, minute: float, counter: str) -> None:
        if counter in self.busy or counter in self.done:
            return
        self.gen.apply(self.moment(minute), cmd.OpenCounter(counter), self.officer[counter])
        self.busy[counter] = None
        self.at(minute + 0.2, "call", counter)

    def _pause(self, minute: float, counter: str) -> None:
        if self.busy.get(counter) is not None:
            self.at(minute + 2, "pause", counter)
            return
        if counter in self.done or counter not in self.busy:
            return
        self.gen.apply(self.moment(minute), cmd.CloseCounter(counter, "break"), self.officer[counter])
        self.busy.pop(counter, None)
        self.idle.discard(counter)
        self.at(minute + 30 + self.rng.random() * 20, "open", counter)

    def _close(self, minute: float, counter: str) -> None:
        if self.busy.get(counter) is not None:
            self.at(minute + 3, "close", counter)
            return
        self.gen.apply(self.moment(minute), cmd.CloseCounter(counter), self.officer[counter])
        self.busy.pop(counter, None)
        self.idle.discard(counter)
        if minute > 12 * 60:
            self.done.add(counter)  # closed for the day: a late pause or reopen does nothing

    def _handover(self, minute: float, counter: str, officer: str) -> None:
        self.officer[counter] = officer

    def _call(self, minute: float, counter: str) -> None:
        if counter not in self.busy or self.busy[counter] is not None:
            return
        ticket = self.gen.apply(
            self.moment(minute), cmd.CallNext(counter, self.officer[counter]), self.officer[counter]
        )
        if ticket is None:
            # Nobody waiting: wait for an arrival (or look again in 10 minutes, for tickets
            # admitted from the outside queue).
            self.idle.add(counter)
            self.at(minute + 10, "poll", counter)
            return
        self.busy[counter] = ticket
        if self.rng.random() < NO_SHOW:
            self.at(minute + self.rng.uniform(2, 4), "no_show", counter)
            return
        arrive = minute + self.rng.uniform(0.3, 1.5)
        self.at(arrive, "serve", counter)

    def _poll(self, minute: float, counter: str) -> None:
        if counter in self.idle:
            self.idle.discard(counter)
            self._call(minute, counter)

    def _serve(self, minute: float, counter: str) -> None:
        self.gen.apply(self.moment(minute), cmd.Serve(counter), self.officer[counter])
        ticket = self.gen.office.state.tickets[self.busy[counter] or 0]
        standard = self.gen.standard[ticket.service]
        duration = max(1.0, self.rng.lognormvariate(math.log(standard * 0.75), 0.45))
        end = "transfer" if self.rng.random() < TRANSFER else "finish"
        self.at(minute + duration, end, counter)

    def _finish(self, minute: float, counter: str) -> None:
        ticket_id = self.busy[counter]
        self.gen.apply(self.moment(minute), cmd.Finish(counter), self.officer[counter])
        self.busy[counter] = None
        self.gen.survey(ticket_id)
        self.at(minute + self.rng.uniform(0.2, 1.5), "call", counter)

    def _no_show(self, minute: float, counter: str) -> None:
        self.gen.apply(self.moment(minute), cmd.NoShow(counter), self.officer[counter])
        self.busy[counter] = None
        self.at(minute + 0.3, "call", counter)

    def _transfer(self, minute: float, counter: str) -> None:
        ticket = self.gen.office.state.tickets[self.busy[counter] or 0]
        others = [s for s in SHARE if s != ticket.service]
        self.gen.apply(
            self.moment(minute), cmd.Transfer(counter, self.rng.choice(others)), self.officer[counter]
        )
        self.busy[counter] = None
        self.at(minute + 0.5, "call", counter)


class Generator:
    def __init__(self, db: Database, config: OfficeConfig, seed: int) -> None:
        self.db = db
        self.config = config
        self.rng = random.Random(seed)
        self.office = Office(config.services, config.counters, config.capacity, "2000-01-01")
        if config.hours is not None:
            self.office.state.hours = config.hours
        self.standard = {s.id: s.standard_minutes or 10 for s in config.services}
        self.events: list[tuple[int, str, str, str]] = []
        self.audit: list[store_day.AuditRow] = []
        self.answers: list[tuple[Any, ...]] = []

    def apply(self, now: datetime, command: cmd.Command, actor: str | None) -> int | None:
        """Apply a command as the engine does; the id of the ticket it answered with, if any."""
        events = self.office.roll_over(now)
        try:
            outcome = self.office.handle(command, now)
        except DomainError:
            self._keep(events)
            return None
        events += outcome.events
        self._keep(events)
        if actor is not None:
            self.audit.append(audit.row(actor, command, now.isoformat(timespec="seconds"), outcome.events))
        return outcome.result.id if isinstance(outcome.result, Ticket) else None

    def _keep(self, events: list[Any]) -> None:
        for event in events:
            envelope = wire.encode(event)
            self.events.append((envelope.seq, envelope.type, envelope.at, envelope.text))

    def survey(self, ticket_id: int | None) -> None:
        ticket = self.office.state.tickets.get(ticket_id or 0)
        if ticket is None or str(ticket.status) != "done":
            return
        roll = self.rng.random()
        if roll > RATING + FULL_SURVEY:
            return
        mood = self.rng.choices((2, 3, 4), weights=(1, 5, 4))[0]
        rating = max(1, min(4, mood + self.rng.choice((-1, 0, 0, 1))))
        elements = None
        if roll < FULL_SURVEY:
            elements = [max(1, min(4, mood + self.rng.choice((-1, 0, 0, 0, 1)))) for _ in range(9)]
        comment = "Pelayanan cepat, terima kasih" if elements and self.rng.random() < 0.1 else None
        finished = ticket.finished_at or ""
        self.answers.append(
            (
                ticket.id,
                finished[:10],
                ticket.service,
                ticket.counter,
                rating,
                *(elements or [None] * 9),
                comment,
                finished,
            )
        )

    def flush(self) -> None:
        tickets, counters = self.office.state.take_changes()
        batch = Batch(
            tickets=[ticket_row(t) for t in tickets],
            counters=[(c.id, int(c.open), c.reason) for c in counters],
            events=self.events,
            audit=self.audit,
        )
        store_day.commit(self.db.writer, batch)
        if self.answers:
            self.db.writer.execute("BEGIN")
            surveys.insert_many(self.db.writer, self.answers)
            self.db.writer.execute("COMMIT")
        self.events, self.audit, self.answers = [], [], []

    def finish(self) -> None:
        state = self.office.state
        self.db.writer.execute(
            "INSERT OR REPLACE INTO office_state "
            "(id, day, seq, capacity, config_capacity, door_count, config_json) "
            "VALUES (1, ?, ?, ?, ?, ?, NULL)",
            (
                state.day,
                state.seq,
                state.occupancy.capacity,
                self.config.capacity,
                state.occupancy.door_count,
            ),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", type=int, default=date.today().year - 1)
    parser.add_argument("--tickets", type=int, default=150_000, help="about this many tickets in the year")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.db.exists():
        sys.exit(f"{args.db} exists; give a new path")
    config = parse_config(OFFICE_TOML)
    db = Database(args.db)
    migrate(db.writer)
    gen = Generator(db, config, args.seed)
    first = date(args.year, 1, 1)
    days = [first + timedelta(days=i) for i in range((date(args.year + 1, 1, 1) - first).days)]
    hours = config.hours
    open_days = [d for d in days if hours is None or hours.ranges_on(d)]
    per_day = args.tickets / len(open_days)
    started = time.perf_counter()
    for index, day in enumerate(open_days):
        # A busier start of the month and a quieter December, as offices see.
        season = (1.15 if day.day <= 7 else 1.0) * (0.8 if day.month == 12 else 1.0)
        Day(gen, day, round(per_day * season)).run()
        if index % 20 == 19:
            gen.flush()
            print(
                f"{day}: {gen.office.state.next_ticket_id - 1} tickets, {time.perf_counter() - started:.0f} s"
            )
    gen.flush()
    gen.finish()
    tickets = db.writer.execute("SELECT count(*) FROM tickets").fetchone()[0]
    events = db.writer.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    print(f"{args.db}: {tickets} tickets, {events} events in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
