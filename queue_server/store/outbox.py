"""The notification outbox: messages to visitors' phones, written in the batch of their events.

A row is inserted inside the same transaction as the events that caused it
(day.commit), so a crash can neither lose a message nor leave one without its
event, and the unique key (ticket_id, kind, event_seq) makes a second row for
one event impossible. The sender (engine/notify.py) reads due rows, posts them
and marks them here. The phone number is kept only while a row may still be
sent: it is blanked once the row is sent, given up or its day is over
(personal data, UU 27/2022).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

PhoneOf = Callable[[sqlite3.Connection, int], str | None]
"""The phone number a ticket's messages go to, or None (then it gets none): contacts.phone_of."""

OutboxRow = tuple[str, int, str, int, str, str, float]
"""(message id, ticket id, kind, event seq, day, payload as JSON, created at epoch seconds)."""

PENDING, SENT, FAILED, EXPIRED = "pending", "sent", "failed", "expired"


@dataclass(frozen=True)
class Due:
    """A row the sender should try now."""

    id: str
    ticket_id: int
    kind: str
    phone: str
    payload: str
    attempts: int
    created_at: float


def enqueue(conn: sqlite3.Connection, rows: list[OutboxRow], phone_of: PhoneOf) -> int:
    """Insert the rows whose ticket has a phone (inside the caller's transaction); how many were new."""
    added = 0
    for message_id, ticket_id, kind, seq, day, payload, created in rows:
        phone = phone_of(conn, ticket_id)
        if phone is None:
            continue
        cursor = conn.execute(
            "INSERT OR IGNORE INTO outbox (id, ticket_id, kind, event_seq, day, phone, payload, status, "
            "attempts, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (message_id, ticket_id, kind, seq, day, phone, payload, PENDING, created, created),
        )
        added += cursor.rowcount
    return added


def tickets_with(conn: sqlite3.Connection, kind: str, day: str) -> set[int]:
    """The tickets of this day that have a message of this kind (come-now is once per ticket)."""
    rows = conn.execute("SELECT ticket_id FROM outbox WHERE kind = ? AND day = ?", (kind, day))
    return {int(r[0]) for r in rows}


def due(conn: sqlite3.Connection, now: float, limit: int) -> list[Due]:
    rows = conn.execute(
        "SELECT id, ticket_id, kind, phone, payload, attempts, created_at FROM outbox "
        "WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, rowid LIMIT ?",
        (PENDING, now, limit),
    )
    return [Due(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def next_attempt_at(conn: sqlite3.Connection) -> float | None:
    """When the earliest pending row is due (None: nothing pending)."""
    row = conn.execute("SELECT min(next_attempt_at) FROM outbox WHERE status = ?", (PENDING,)).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def mark_sent(conn: sqlite3.Connection, message_id: str, at: str) -> None:
    conn.execute(
        "UPDATE outbox SET status = ?, sent_at = ?, attempts = attempts + 1, phone = NULL, last_error = NULL "
        "WHERE id = ? AND status = ?",
        (SENT, at, message_id, PENDING),
    )


def mark_retry(conn: sqlite3.Connection, message_id: str, next_at: float, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
        "WHERE id = ? AND status = ?",
        (next_at, error, message_id, PENDING),
    )


def give_up(conn: sqlite3.Connection, message_id: str, status: str, error: str, tried: bool) -> None:
    """No more attempts (too many, too old, or its day is over); the phone goes."""
    conn.execute(
        "UPDATE outbox SET status = ?, phone = NULL, last_error = ?, attempts = attempts + ? "
        "WHERE id = ? AND status = ?",
        (status, error, int(tried), message_id, PENDING),
    )


def expire(conn: sqlite3.Connection, today: str, created_before: float) -> int:
    """Pending rows of an earlier day or older than the cutoff are given up; how many."""
    cursor = conn.execute(
        "UPDATE outbox SET status = ?, phone = NULL, last_error = coalesce(last_error, 'expired') "
        "WHERE status = ? AND (day < ? OR created_at < ?)",
        (EXPIRED, PENDING, today, created_before),
    )
    return cursor.rowcount


def purge_before(conn: sqlite3.Connection, day: str) -> int:
    """Delete finished rows of days before `day` (they hold no phone; only the message text)."""
    return conn.execute("DELETE FROM outbox WHERE status != ? AND day < ?", (PENDING, day)).rowcount


def counts(conn: sqlite3.Connection, day: str) -> dict[str, int]:
    """Rows by status: all pending ones, and the others of this day."""
    result = {PENDING: 0, SENT: 0, FAILED: 0, EXPIRED: 0}
    rows = conn.execute(
        "SELECT status, count(*) FROM outbox WHERE status = ? OR day = ? GROUP BY status", (PENDING, day)
    )
    for status, count in rows:
        result[str(status)] = int(count)
    return result
