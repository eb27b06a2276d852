"""Everything the office keeps on disk: one SQLite file, WAL, synchronous=FULL.

The schema is created and migrated here (ordered, named migrations recorded in
`schema_version`). All access goes through one connection used from the event
loop's thread only, so a batch commit and any other write never interleave.
A batch of commands is written in one transaction and fsynced before any of
their answers is sent: a power cut after a 201 loses nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from queue_server.events import Event, decode
from queue_server.tickets import Status, Ticket

log = logging.getLogger(__name__)

TICKET_COLUMNS = (
    "id",
    "day",
    "service",
    "sequence",
    "number",
    "party_size",
    "issued_at",
    "status",
    "token_hash",
    "issued_service",
    "origin",
    "counter",
    "officer",
    "admitted_at",
    "called_at",
    "recalled_at",
    "serving_at",
    "finished_at",
    "recalls",
    "transfers",
)
_UPSERT_TICKET = (
    f"INSERT OR REPLACE INTO tickets ({', '.join(TICKET_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in TICKET_COLUMNS)})"
)


def _migration_1(db: sqlite_utils.Database) -> None:
    db["office_state"].create(
        {
            "id": int,
            "day": str,
            "seq": int,
            "capacity": int,
            "config_capacity": int,
            "door_count": int,
            "config_json": str,
        },
        pk="id",
    )
    db["tickets"].create(
        {
            "id": int,
            "day": str,
            "service": str,
            "sequence": int,
            "number": str,
            "party_size": int,
            "issued_at": str,
            "status": str,
            "token_hash": str,
            "issued_service": str,
            "origin": str,
            "counter": str,
            "officer": str,
            "admitted_at": str,
            "called_at": str,
            "recalled_at": str,
            "serving_at": str,
            "finished_at": str,
            "recalls": int,
            "transfers": int,
        },
        pk="id",
        not_null={"day", "service", "number", "status", "token_hash"},
    )
    db["tickets"].create_index(["token_hash"], unique=True)
    db["tickets"].create_index(["day", "issued_service", "sequence"], unique=True)
    db["counters"].create({"id": str, "open": int, "reason": str}, pk="id")
    db["events"].create({"seq": int, "type": str, "at": str, "body": str}, pk="seq")
    db["idempotency"].create(
        {"scope": str, "key": str, "created_at": float, "status": int, "body": str},
        pk=("scope", "key"),
    )
    db["users"].create(
        {"username": str, "role": str, "password_hash": str, "created_at": str, "updated_at": str},
        pk="username",
    )
    db["sessions"].create(
        {"token_hash": str, "username": str, "created_at": float, "expires_at": float},
        pk="token_hash",
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    db["kiosks"].create(
        {"name": str, "token_hash": str, "created_at": str, "created_by": str},
        pk="name",
    )
    db["kiosks"].create_index(["token_hash"], unique=True)


def _migration_3(db: sqlite_utils.Database) -> None:
    db["events"].create_index(["type", "seq"])


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("initial schema", _migration_1),
    ("paired kiosks", _migration_2),
    ("events by type", _migration_3),
]


@dataclass
class StoredOffice:
    """What was on disk at start-up."""

    day: str | None
    seq: int
    capacity: int | None
    config_capacity: int | None
    door_count: int
    config_json: str | None
    next_ticket_id: int
    tickets: list[Ticket]
    counters: dict[str, tuple[bool, str | None]]
    recent_events: list[Event]


@dataclass
class Batch:
    """The rows of one group commit, already turned into plain tuples on the event loop."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    counters: list[tuple[str, int, str | None]] = field(default_factory=list)
    events: list[tuple[int, str, str, str]] = field(default_factory=list)
    idempotency: list[tuple[str, str, float, int, str]] = field(default_factory=list)
    office: dict[str, Any] | None = None


class Storage:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = _connect(path)
        self.db = sqlite_utils.Database(self.conn)
        self.migrate()
        # Batches are committed on their own connection and thread, so the event loop
        # keeps serving while the disk flushes; everything else uses `conn` on the loop.
        self.writer = _connect(path)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storage-writer")

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.writer.close()
        self.conn.close()

    def migrate(self) -> None:
        """Apply the migrations not yet recorded, under one write lock.

        BEGIN IMMEDIATE makes a second process (say, two `user add` at once on a
        new database) wait for the first instead of migrating at the same time.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
            )
            done = {row[0] for row in self.conn.execute("SELECT version FROM schema_version")}
            for version, (name, migration) in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                with self.db.atomic():  # a savepoint inside our transaction
                    migration(self.db)
                    self.conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?, datetime('now'))", (version, name)
                    )
                log.info("database migrated to version %d (%s)", version, name)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    # ----- office state -------------------------------------------------------------

    def load(self, recent_events: int) -> StoredOffice:
        row = self.conn.execute(
            "SELECT day, seq, capacity, config_capacity, door_count, config_json "
            "FROM office_state WHERE id = 1"
        ).fetchone()
        day, seq, capacity, config_capacity, door_count, config_json = row or (None, 0, None, None, 0, None)
        max_event = self.conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
        # The events table is written in the same transaction; trust whichever is ahead.
        seq = max(seq or 0, max_event)
        next_id = (self.conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1
        tickets = [
            _ticket_from_row(r)
            for r in self.conn.execute(
                f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets WHERE day = ? ORDER BY id", (day,)
            )
        ]
        counters = {
            r[0]: (bool(r[1]), r[2]) for r in self.conn.execute("SELECT id, open, reason FROM counters")
        }
        events = [
            decode(r[0])
            for r in self.conn.execute(
                "SELECT body FROM (SELECT seq, body FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (recent_events,),
            )
        ]
        return StoredOffice(
            day=day,
            seq=seq,
            capacity=capacity,
            config_capacity=config_capacity,
            door_count=door_count or 0,
            config_json=config_json,
            next_ticket_id=next_id,
            tickets=tickets,
            counters=counters,
            recent_events=events,
        )

    def commit(self, batch: Batch) -> None:
        """Write one batch in one durable transaction, on the writer connection.

        Called from the storage thread (`executor`) while the server runs, and
        directly at start-up before that thread has work.
        """
        conn = self.writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            if batch.tickets:
                conn.executemany(_UPSERT_TICKET, batch.tickets)
            if batch.counters:
                conn.executemany(
                    "INSERT OR REPLACE INTO counters (id, open, reason) VALUES (?, ?, ?)", batch.counters
                )
            if batch.events:
                conn.executemany("INSERT INTO events (seq, type, at, body) VALUES (?, ?, ?, ?)", batch.events)
            if batch.idempotency:
                conn.executemany(
                    "INSERT OR REPLACE INTO idempotency (scope, key, created_at, status, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    batch.idempotency,
                )
            if batch.office is not None:
                office = batch.office
                conn.execute(
                    "INSERT OR REPLACE INTO office_state "
                    "(id, day, seq, capacity, config_capacity, door_count, config_json) "
                    "VALUES (1, ?, ?, ?, ?, ?, ?)",
                    (
                        office["day"],
                        office["seq"],
                        office["capacity"],
                        office["config_capacity"],
                        office["door_count"],
                        office["config_json"],
                    ),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def ticket_by_token_hash(self, token_hash: str) -> Ticket | None:
        row = self.conn.execute(
            f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return _ticket_from_row(row) if row else None

    def events_after(self, seq: int, limit: int) -> list[Event]:
        return [
            decode(r[0])
            for r in self.conn.execute(
                "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            )
        ]

    def idempotency_records(self, newer_than: float) -> Iterable[tuple[str, str, float, int, str]]:
        return self.conn.execute(
            "SELECT scope, key, created_at, status, body FROM idempotency WHERE created_at > ?",
            (newer_than,),
        ).fetchall()

    def purge_idempotency(self, older_than: float) -> None:
        self.conn.execute("DELETE FROM idempotency WHERE created_at <= ?", (older_than,))

    def recent_history(self, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The day's latest calls and admissions, newest first, exactly as the displays saw them.

        Rebuilt from the events themselves (since the last day.started), so that a
        restart changes nothing a screen shows: recalls, same-second calls and
        transferred tickets all stay as they were.
        """
        start = self.conn.execute("SELECT max(seq) FROM events WHERE type = 'day.started'").fetchone()[0] or 0
        calls = []
        # One entry per number, newest first (a recall moves it to the front); a call
        # that was undone back into the queue is forgotten, as the live office does.
        seen: set[str] = set()
        for (body,) in self.conn.execute(
            "SELECT body FROM events WHERE seq > ? "
            "AND type IN ('ticket.called', 'ticket.recalled', 'ticket.undone') ORDER BY seq DESC",
            (start,),
        ):
            if len(calls) >= limit:
                break
            event = decode(body).as_dict()
            ticket = event["ticket"]
            if ticket["number"] in seen:
                continue
            if event["type"] == "ticket.undone":
                if ticket["status"] in ("waiting", "outside"):
                    seen.add(ticket["number"])
                continue
            seen.add(ticket["number"])
            calls.append(
                {
                    "number": ticket["number"],
                    "counter": event["counter"],
                    "at": event["at"],
                    "service": ticket["service"],
                }
            )
        admitted = [
            {"number": event["ticket"]["number"], "at": event["at"]}
            for event in (
                decode(body).as_dict()
                for (body,) in self.conn.execute(
                    "SELECT body FROM events WHERE seq > ? AND type = 'ticket.admitted' "
                    "ORDER BY seq DESC LIMIT ?",
                    (start, limit),
                )
            )
        ]
        return calls, admitted

    # ----- accounts -----------------------------------------------------------------

    def upsert_user(self, username: str, role: str, password_hash: str, now: str) -> None:
        with self.db.atomic():
            self.conn.execute(
                "INSERT INTO users (username, role, password_hash, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET "
                "role = excluded.role, password_hash = excluded.password_hash, "
                "updated_at = excluded.updated_at",
                (username, role, password_hash, now, now),
            )

    def user(self, username: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT role, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def add_session(self, token_hash: str, username: str, now: float, expires_at: float) -> None:
        with self.db.atomic():
            self.conn.execute(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash, username, now, expires_at),
            )

    def session(self, token_hash: str, now: float) -> tuple[str, str] | None:
        """(username, role) of a live session; the role is read fresh so a demotion takes effect."""
        row = self.conn.execute(
            "SELECT s.username, u.role FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, now),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def delete_session(self, token_hash: str) -> None:
        with self.db.atomic():
            self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def purge_sessions(self, now: float) -> None:
        with self.db.atomic():
            self.conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))

    # ----- paired kiosks ----------------------------------------------------------------

    def pair_kiosk(self, name: str, token_hash: str, now: str, by: str) -> None:
        """Pair (or re-pair, with a new token) a kiosk device."""
        with self.db.atomic():
            self.conn.execute(
                "INSERT OR REPLACE INTO kiosks (name, token_hash, created_at, created_by) "
                "VALUES (?, ?, ?, ?)",
                (name, token_hash, now, by),
            )

    def kiosk_by_token_hash(self, token_hash: str) -> str | None:
        row = self.conn.execute("SELECT name FROM kiosks WHERE token_hash = ?", (token_hash,)).fetchone()
        return row[0] if row else None

    def kiosks(self) -> list[dict[str, str]]:
        return [
            {"name": r[0], "paired_at": r[1], "paired_by": r[2]}
            for r in self.conn.execute("SELECT name, created_at, created_by FROM kiosks ORDER BY name")
        ]

    def unpair_kiosk(self, name: str) -> bool:
        with self.db.atomic():
            cursor = self.conn.execute("DELETE FROM kiosks WHERE name = ?", (name,))
        return cursor.rowcount > 0


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def ticket_row(ticket: Ticket) -> tuple[Any, ...]:
    return (
        ticket.id,
        ticket.day,
        ticket.service,
        ticket.sequence,
        ticket.number,
        ticket.party_size,
        ticket.issued_at,
        str(ticket.status),
        ticket.token_hash,
        ticket.issued_service,
        ticket.origin,
        ticket.counter,
        ticket.officer,
        ticket.admitted_at,
        ticket.called_at,
        ticket.recalled_at,
        ticket.serving_at,
        ticket.finished_at,
        ticket.recalls,
        ticket.transfers,
    )


def _ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    values = dict(zip(TICKET_COLUMNS, row, strict=True))
    values["status"] = Status(values["status"])
    return Ticket(**values)


def config_fingerprint(services: list[dict[str, Any]], counters: list[dict[str, Any]]) -> str:
    return json.dumps({"services": services, "counters": counters}, sort_keys=True)
