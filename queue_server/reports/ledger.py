"""Visits, queue joins, counter sessions and occupancy, derived from the events table.

A year of events is large, so the derivation is incremental: the ledger keeps
what it derived and, on each report, reads only the events after the last seq it
saw (on a reader thread of the store's pool). The audit table gives each call's
officer: a staff command's row holds the seq range of the events it caused.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from queue_server.store.db import Database

TICKET_TYPES = (
    "ticket.issued",
    "ticket.called",
    "ticket.done",
    "ticket.no_show",
    "ticket.transferred",
    "ticket.undone",
    "ticket.reactivated",
    "ticket.cancelled",
    "ticket.admitted",
    "ticket.routed",
    "ticket.rejoined",
    "ticket.activated",
)
OTHER_TYPES = ("counter.opened", "counter.closed", "occupancy.changed")
WANTED = frozenset(TICKET_TYPES + OTHER_TYPES)
CALL_ACTIONS = ("call_next", "call_number")
PENDING = ("outside", "waiting")
AT_COUNTER = ("called", "serving")


_MIDNIGHTS: dict[str, float] = {}


def seconds(at: str) -> float:
    """POSIX seconds of an office-local ISO time ("2026-12-01T08:00:00+08:00"), fast.

    A year is ~750,000 events; `datetime.timestamp()` for each costs seconds, so the
    day's midnight (with the offset) is computed once and the clock time added to it.
    """
    if len(at) != 25 or at[10] != "T":
        return datetime.fromisoformat(at).timestamp()
    key = at[:10] + at[19:]
    base = _MIDNIGHTS.get(key)
    if base is None:
        base = _MIDNIGHTS[key] = datetime.fromisoformat(f"{at[:10]}T00:00:00{at[19:]}").timestamp()
    return base + int(at[11:13]) * 3600 + int(at[14:16]) * 60 + int(at[17:19])


@dataclass(slots=True)
class Visit:
    """One ticket's time at one counter, from its call to its end."""

    ticket: int
    number: str
    service: str
    counter: str
    officer: str | None
    start_at: str  # local ISO time of the call
    start: float  # the same, POSIX seconds
    wait: float | None  # seconds since the ticket joined that queue
    end: float | None = None
    outcome: str | None = None  # done / no_show / transferred; None while open
    undone: bool = False  # the call was taken back: not a visit
    day: str = ""  # the local day it started (set from start_at)

    def __post_init__(self) -> None:
        self.day = self.start_at[:10]


@dataclass
class Ledger:
    """What the events of one database say, up to `seq`."""

    seq: int = 0
    visits: list[Visit] = field(default_factory=list)
    visit_days: list[str] = field(default_factory=list)
    joins: dict[int, float] = field(default_factory=dict)
    current: dict[int, Visit] = field(default_factory=dict)
    last: dict[int, Visit] = field(default_factory=dict)
    counter_changes: list[tuple[float, str, str, bool]] = field(default_factory=list)  # (t, day, id, open)
    waiting: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    occupancy: list[tuple[float, str, int, int, int]] = field(default_factory=list)  # t, day, in, cap, out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def between(self, first_day: str, last_day: str) -> list[Visit]:
        """Visits started on these local days (both included), in the order they started."""
        lo = bisect.bisect_left(self.visit_days, first_day)
        hi = bisect.bisect_right(self.visit_days, last_day)
        return [v for v in self.visits[lo:hi] if not v.undone]

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Read the events after `seq` (and their audit rows) in one snapshot, and derive from them."""
        with self.lock:
            conn.execute("BEGIN")
            try:
                top = conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
                if top < self.seq:  # the file was replaced (a restore): derive again from the start
                    self._reset()
                officers = _officers(conn, self.seq)
                # In seq order by the primary key, filtered here: the (type, seq) index would
                # need a sort of every body, several times slower on a year of events.
                cursor = conn.execute(
                    "SELECT seq, type, at, body FROM events WHERE seq > ? ORDER BY seq", (self.seq,)
                )
                wanted = WANTED
                while rows := cursor.fetchmany(20000):
                    for seq, kind, at, body in rows:
                        if kind in wanted:
                            self._apply(seq, kind, at, orjson.loads(body), officers)
            finally:
                conn.execute("COMMIT")
            self.seq = max(self.seq, top)

    def _reset(self) -> None:
        fresh_ledger = Ledger()
        for name in ("seq", "visits", "visit_days", "joins", "current", "last", "counter_changes", "waiting"):
            setattr(self, name, getattr(fresh_ledger, name))
        self.occupancy = fresh_ledger.occupancy

    def _apply(self, seq: int, kind: str, at: str, data: dict[str, object], officers: _Officers) -> None:
        t = seconds(at)
        if kind in OTHER_TYPES:
            if kind == "occupancy.changed":
                occ = data["occupancy"]
                assert isinstance(occ, dict)
                self.occupancy.append((t, at[:10], occ["inside"], occ["capacity"], occ["outside_people"]))
            else:
                counter = data["counter"]
                assert isinstance(counter, dict)
                self.counter_changes.append((t, at[:10], str(counter["id"]), kind == "counter.opened"))
            return
        ticket = data["ticket"]
        waiting = data.get("waiting")
        assert isinstance(ticket, dict)
        if isinstance(waiting, dict) and (not self.waiting or self.waiting[-1][1] != waiting):
            self.waiting.append((t, waiting))
        tid = int(ticket["id"])
        if kind in ("ticket.issued", "ticket.reactivated", "ticket.rejoined", "ticket.activated"):
            # A rejoin queues again; a booking's wait starts on its day, not when it was booked.
            self.joins[tid] = t
        elif kind == "ticket.called":
            joined = self.joins.get(tid)
            visit = Visit(
                tid,
                str(ticket["number"]),
                str(ticket["service"]),
                str(data["counter"]),
                officers.at(seq),
                at,
                t,
                None if joined is None else t - joined,
            )
            self.visits.append(visit)
            self.visit_days.append(visit.day)
            self.current[tid] = visit
            self.last[tid] = visit
        elif kind in ("ticket.done", "ticket.no_show", "ticket.transferred", "ticket.routed"):
            visit = self.current.pop(tid, None)
            if visit is not None:
                visit.end = t
                # A route step ended done: each step is its own visit, served (api-remote).
                visit.outcome = "done" if kind == "ticket.routed" else kind.removeprefix("ticket.")
            if kind in ("ticket.transferred", "ticket.routed"):
                self.joins[tid] = t  # it joins the next queue now
        elif kind == "ticket.undone":
            self._undo(tid, str(ticket["status"]))

    def _undo(self, tid: int, status: str) -> None:
        """A step taken back: a call back to the queue is no visit; a finish reopens the visit."""
        if status in PENDING:
            visit = self.current.pop(tid, None)
            if visit is not None:
                visit.undone = True
        elif status in AT_COUNTER and tid not in self.current:
            visit = self.last.get(tid)
            if visit is not None:
                visit.end = None
                visit.outcome = None
                self.current[tid] = visit


class _Officers:
    """Who made the call whose event has a given seq (from the audit rows' seq ranges)."""

    def __init__(self, rows: list[tuple[int, int, str]]) -> None:
        self.rows = rows
        self.starts = [r[0] for r in rows]

    def at(self, seq: int) -> str | None:
        i = bisect.bisect_right(self.starts, seq) - 1
        if i >= 0 and self.rows[i][0] <= seq <= self.rows[i][1]:
            return self.rows[i][2]
        return None


def _officers(conn: sqlite3.Connection, after: int) -> _Officers:
    rows = conn.execute(
        "SELECT first_seq, last_seq, user FROM audit WHERE first_seq > ? AND action IN (?, ?) "
        "AND last_seq IS NOT NULL ORDER BY first_seq",
        (after, *CALL_ACTIONS),
    ).fetchall()
    return _Officers([(r[0], r[1], r[2]) for r in rows])


_LEDGERS: dict[str, Ledger] = {}
_LEDGERS_LOCK = threading.Lock()


def ledger_of(db: Database) -> Ledger:
    """The ledger of this database file (one per file, kept across reports)."""
    key = str(db.path.resolve())
    with _LEDGERS_LOCK:
        found = _LEDGERS.get(key)
        if found is None:
            found = _LEDGERS[key] = Ledger()
    return found


def fresh(db: Database, conn: sqlite3.Connection) -> Ledger:
    """The ledger brought up to the latest committed event (call on a reader thread)."""
    ledger = ledger_of(db)
    ledger.refresh(conn)
    return ledger
