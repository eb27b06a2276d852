"""The office's day on disk: load it at start, commit one batch of commands atomically, read events."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from queue_server.domain.tickets import Ticket
from queue_server.store import bookings, contacts, settings
from queue_server.store.rows import SELECT_TICKETS, UPSERT_TICKET, ticket_from_row
from queue_server.wire import Envelope, decode

IdempotencyRow = tuple[str, str, float, str]
"""(scope, key, created_at, result as JSON)."""
AuditRow = tuple[str, str, str, str, str, str, int | None, int | None]
"""(at, day, user, action, target, detail as JSON, first seq, last seq)."""

HISTORY_TYPES = ("ticket.called", "ticket.recalled", "ticket.admitted", "ticket.undone")


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
    recent_events: list[Envelope]
    counts: dict[str, Any] = field(default_factory=dict)  # calls and priority runs per service (today)
    bookings: list[Ticket] = field(default_factory=list)  # booked tickets of later days


@dataclass
class Batch:
    """The rows of one group commit, already turned into plain tuples on the event loop."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    counters: list[tuple[str, int, str | None]] = field(default_factory=list)
    events: list[tuple[int, str, str, str]] = field(default_factory=list)
    idempotency: list[IdempotencyRow] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)
    office: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None  # the office's configuration, when an admin changed it
    settings_at: str = ""
    contacts: list[contacts.ContactRow] = field(default_factory=list)
    contacts_before: str | None = None  # a new day: delete phone numbers of the days before it


def load(conn: sqlite3.Connection, recent_events: int) -> StoredOffice:
    row = conn.execute(
        "SELECT day, seq, capacity, config_capacity, door_count, config_json, counts_json "
        "FROM office_state WHERE id = 1"
    ).fetchone()
    day, seq, capacity, config_capacity, door_count, config_json, counts_json = row or (
        (None, 0, None, None, 0, None, None)
    )
    max_event = conn.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
    # The events table is written in the same transaction; trust whichever is ahead.
    seq = max(seq or 0, max_event)
    next_id = (conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1
    tickets = [
        ticket_from_row(r) for r in conn.execute(f"{SELECT_TICKETS} WHERE day = ? ORDER BY id", (day,))
    ]
    counters = {r[0]: (bool(r[1]), r[2]) for r in conn.execute("SELECT id, open, reason FROM counters")}
    events = [
        decode(r[0])
        for r in conn.execute(
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
        counts=json.loads(counts_json) if counts_json else {},
        bookings=[b for b in bookings.later_bookings(conn, day or "") if b.day != day],
    )


def commit(conn: sqlite3.Connection, batch: Batch) -> None:
    """Write one batch in one durable transaction (on the writer connection)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if batch.tickets:
            conn.executemany(UPSERT_TICKET, batch.tickets)
        if batch.counters:
            conn.executemany(
                "INSERT OR REPLACE INTO counters (id, open, reason) VALUES (?, ?, ?)", batch.counters
            )
        if batch.events:
            conn.executemany("INSERT INTO events (seq, type, at, body) VALUES (?, ?, ?, ?)", batch.events)
        if batch.idempotency:
            conn.executemany(
                "INSERT OR REPLACE INTO idempotency (scope, key, created_at, status, body) "
                "VALUES (?, ?, ?, 0, ?)",
                batch.idempotency,
            )
        if batch.audit:
            conn.executemany(
                "INSERT INTO audit (at, day, user, action, target, detail, first_seq, last_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                batch.audit,
            )
        if batch.office is not None:
            office = batch.office
            conn.execute(
                "INSERT OR REPLACE INTO office_state "
                "(id, day, seq, capacity, config_capacity, door_count, config_json, counts_json) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                (
                    office["day"],
                    office["seq"],
                    office["capacity"],
                    office["config_capacity"],
                    office["door_count"],
                    office["config_json"],
                    office.get("counts_json"),
                ),
            )
        if batch.contacts:
            contacts.save(conn, batch.contacts)
        if batch.contacts_before is not None:
            contacts.purge_before(conn, batch.contacts_before)
        if batch.settings is not None:
            settings.save(conn, batch.settings, batch.settings_at)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def day_history(conn: sqlite3.Connection, limit: int) -> list[Envelope]:
    """The day's latest calls, admissions and undos (since the last day.started), oldest first."""
    start = conn.execute("SELECT max(seq) FROM events WHERE type = 'day.started'").fetchone()[0] or 0
    rows = conn.execute(
        "SELECT body FROM (SELECT seq, body FROM events WHERE seq > ? AND type IN (?, ?, ?, ?) "
        "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
        (start, *HISTORY_TYPES, limit),
    )
    return [decode(r[0]) for r in rows]


def ticket_by_token_hash(conn: sqlite3.Connection, token_hash: str) -> Ticket | None:
    row = conn.execute(f"{SELECT_TICKETS} WHERE token_hash = ?", (token_hash,)).fetchone()
    return ticket_from_row(row) if row else None


def tickets_of_day(conn: sqlite3.Connection, day: str) -> list[Ticket]:
    return [ticket_from_row(r) for r in conn.execute(f"{SELECT_TICKETS} WHERE day = ? ORDER BY id", (day,))]


def events_after(conn: sqlite3.Connection, seq: int, limit: int) -> list[Envelope]:
    return [
        decode(r[0])
        for r in conn.execute("SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
    ]


def idempotency_records(conn: sqlite3.Connection, newer_than: float) -> list[IdempotencyRow]:
    rows = conn.execute(
        "SELECT scope, key, created_at, body FROM idempotency WHERE created_at > ?", (newer_than,)
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def purge_idempotency(conn: sqlite3.Connection, older_than: float) -> None:
    conn.execute("DELETE FROM idempotency WHERE created_at <= ?", (older_than,))


def audit_entries(conn: sqlite3.Connection, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """The audit rows of these local days (both included), oldest first."""
    rows = conn.execute(
        "SELECT at, user, action, target, detail FROM audit WHERE day BETWEEN ? AND ? ORDER BY id",
        (first_day, last_day),
    )
    return [{"at": r[0], "user": r[1], "action": r[2], "target": r[3], "detail": r[4]} for r in rows]
